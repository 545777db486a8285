/* Error convention copied from crun: every fallible function takes
 * `berth_error_t *err`, returns a negative value on failure and fills *err once;
 * errors rise to main, which prints them once. */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>

struct berth_error_s {
  int status; /* errno at the failure point, 0 if none */
  char *msg;
};
typedef struct berth_error_s *berth_error_t;

/* Always returns -1 so callers can `return berth_make_error (...)`. */
int berth_make_error (berth_error_t *err, int errnum, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
/* Prefixes the message of an existing error ("prefix: old message"). */
int berth_error_wrap (berth_error_t *err, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));
void berth_error_release (berth_error_t *err);

/* Global --log / --log-format settings. */
void berth_log_init (const char *path, int json);
/* Prints "berth-runtime: msg" on stderr and a record in the log; frees *err. */
void berth_error_report (berth_error_t *err);
void berth_log_warning (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

#endif
