/* Minimal TAP output for native unit tests (crun's tests print TAP too). */
#ifndef BERTH_TAP_H
#define BERTH_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define TAP_OK(cond, name)                                                                                           \
  do                                                                                                                 \
    {                                                                                                                \
      tap_n++;                                                                                                       \
      if (cond)                                                                                                      \
        printf ("ok %d - %s\n", tap_n, name);                                                                        \
      else                                                                                                           \
        {                                                                                                            \
          tap_failed++;                                                                                              \
          printf ("not ok %d - %s (%s:%d)\n", tap_n, name, __FILE__, __LINE__);                                      \
        }                                                                                                            \
    }                                                                                                                \
  while (0)

static inline int
tap_done (void)
{
  printf ("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

#endif
