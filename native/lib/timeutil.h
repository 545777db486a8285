#ifndef BERTH_TIMEUTIL_H
#define BERTH_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

/* RFC3339 with nanoseconds in UTC, like Go's time.RFC3339Nano ("...Z"). */
void berth_time_rfc3339 (const struct timespec *ts, char *buf, size_t len);
void berth_now_rfc3339 (char *buf, size_t len);

#endif
