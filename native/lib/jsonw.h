/* A growable byte buffer with JSON string escaping, for state files and replies. */
#ifndef BERTH_JSONW_H
#define BERTH_JSONW_H

#include <stddef.h>

struct jsonw {
  char *buf;
  size_t len, cap;
};

void jsonw_init (struct jsonw *w);
void jsonw_free (struct jsonw *w);
void jsonw_mem (struct jsonw *w, const void *data, size_t len);
void jsonw_raw (struct jsonw *w, const char *s);
void jsonw_fmt (struct jsonw *w, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
/* Appends s as a quoted JSON string (NULL gives null). */
void jsonw_str (struct jsonw *w, const char *s);
void jsonw_strn (struct jsonw *w, const char *s, size_t n);

#endif
