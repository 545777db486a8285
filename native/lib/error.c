#include "error.h"
#include "jsonw.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_path;
static int log_json;

void
berth_log_init (const char *path, int json)
{
  log_path = path;
  log_json = json;
}

static char *
vformat (const char *fmt, va_list ap)
{
  char *s = NULL;
  if (vasprintf (&s, fmt, ap) < 0)
    s = strdup ("out of memory");
  return s;
}

int
berth_make_error (berth_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  char *msg;
  va_start (ap, fmt);
  msg = vformat (fmt, ap);
  va_end (ap);
  if (err == NULL)
    {
      free (msg);
      return -1;
    }
  if (*err != NULL)
    berth_error_release (err);
  *err = calloc (1, sizeof (**err));
  if (*err == NULL)
    abort ();
  (*err)->status = errnum;
  if (errnum)
    {
      char *full = NULL;
      if (asprintf (&full, "%s: %s", msg, strerror (errnum)) < 0)
        abort ();
      free (msg);
      msg = full;
    }
  (*err)->msg = msg;
  return -1;
}

int
berth_error_wrap (berth_error_t *err, const char *fmt, ...)
{
  va_list ap;
  char *prefix, *full = NULL;
  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  prefix = vformat (fmt, ap);
  va_end (ap);
  if (asprintf (&full, "%s: %s", prefix, (*err)->msg) < 0)
    abort ();
  free (prefix);
  free ((*err)->msg);
  (*err)->msg = full;
  return -1;
}

void
berth_error_release (berth_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

static void
log_record (const char *level, const char *msg)
{
  char ts[64];
  struct jsonw w;
  int fd;
  if (log_path == NULL)
    return;
  fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  berth_now_rfc3339 (ts, sizeof ts);
  jsonw_init (&w);
  if (log_json)
    {
      jsonw_raw (&w, "{\"level\":");
      jsonw_str (&w, level);
      jsonw_raw (&w, ",\"msg\":");
      jsonw_str (&w, msg);
      jsonw_raw (&w, ",\"time\":");
      jsonw_str (&w, ts);
      jsonw_raw (&w, "}\n");
    }
  else
    {
      jsonw_raw (&w, ts);
      jsonw_raw (&w, " ");
      jsonw_raw (&w, level);
      jsonw_raw (&w, ": ");
      jsonw_raw (&w, msg);
      jsonw_raw (&w, "\n");
    }
  /* Best effort: a log that cannot be written must not hide the error itself. */
  (void) !write (fd, w.buf, w.len);
  jsonw_free (&w);
  close (fd);
}

void
berth_error_report (berth_error_t *err)
{
  char *msg = (err && *err) ? (*err)->msg : (char *) "unknown error", *p;
  /* One line, always: callers read the first line as the error. */
  for (p = msg; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fprintf (stderr, "berth-runtime: %s\n", msg);
  log_record ("error", msg);
  berth_error_release (err);
}

void
berth_log_warning (const char *fmt, ...)
{
  va_list ap;
  char *msg;
  va_start (ap, fmt);
  msg = vformat (fmt, ap);
  va_end (ap);
  log_record ("warning", msg);
  free (msg);
}
