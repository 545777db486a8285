#include "timeutil.h"

#include <stdio.h>

void
berth_time_rfc3339 (const struct timespec *ts, char *buf, size_t len)
{
  struct tm tm;
  char date[40];
  gmtime_r (&ts->tv_sec, &tm);
  strftime (date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  int n;
  /* Go's RFC3339Nano drops trailing zeros of the fraction, and the dot with them. */
  n = snprintf (frac, sizeof frac, ".%09ld", ts->tv_nsec);
  while (n > 1 && frac[n - 1] == '0')
    frac[--n] = '\0';
  if (n == 1)
    frac[0] = '\0';
  snprintf (buf, len, "%s%sZ", date, frac);
}

void
berth_now_rfc3339 (char *buf, size_t len)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  berth_time_rfc3339 (&ts, buf, len);
}
