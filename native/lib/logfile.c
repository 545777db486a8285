#include "logfile.h"
#include "fsutil.h"
#include "jsonw.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARTIAL_MAX 16384

struct logfile {
  char *path;
  int fd;
  long long max_size, size;
  int max_file;
  char partial[2][PARTIAL_MAX];
  size_t plen[2];
};

static int
open_fd (struct logfile *lf)
{
  struct stat st;
  lf->fd = open (lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (lf->fd < 0)
    return -1;
  lf->size = fstat (lf->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

struct logfile *
logfile_open (const char *path, long long max_size, int max_file, berth_error_t *err)
{
  struct logfile *lf = calloc (1, sizeof *lf);
  lf->path = strdup (path);
  lf->max_size = max_size;
  lf->max_file = max_file < 1 ? 1 : max_file;
  if (open_fd (lf) < 0)
    {
      berth_make_error (err, errno, "open the log file `%s`", path);
      free (lf->path);
      free (lf);
      return NULL;
    }
  return lf;
}

static void
rotate (struct logfile *lf)
{
  char from[4200], to[4200];
  int i;
  close (lf->fd);
  if (lf->max_file <= 1)
    {
      /* A rotation failure loses old lines, never the container: carry on. */
      (void) !truncate (lf->path, 0);
    }
  else
    {
      for (i = lf->max_file - 1; i >= 1; i--)
        {
          if (i == 1)
            snprintf (from, sizeof from, "%s", lf->path);
          else
            snprintf (from, sizeof from, "%s.%d", lf->path, i - 1);
          snprintf (to, sizeof to, "%s.%d", lf->path, i);
          rename (from, to);
        }
    }
  open_fd (lf);
}

static void
emit (struct logfile *lf, int stream, const char *data, size_t len)
{
  struct jsonw w;
  char ts[64];
  berth_now_rfc3339 (ts, sizeof ts);
  jsonw_init (&w);
  jsonw_raw (&w, "{\"log\":");
  jsonw_strn (&w, data, len);
  jsonw_raw (&w, stream == 2 ? ",\"stream\":\"stderr\",\"time\":" : ",\"stream\":\"stdout\",\"time\":");
  jsonw_str (&w, ts);
  jsonw_raw (&w, "}\n");
  if (lf->max_size > 0 && lf->size > 0 && lf->size + (long long) w.len > lf->max_size)
    rotate (lf);
  if (lf->fd >= 0 && write_all (lf->fd, w.buf, w.len) == 0)
    lf->size += (long long) w.len;
  jsonw_free (&w);
}

void
logfile_write (struct logfile *lf, int stream, const char *data, size_t len)
{
  int s = stream == 2 ? 1 : 0;
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len);
      size_t take = nl ? (size_t) (nl - data) + 1 : len;
      if (lf->plen[s] + take > PARTIAL_MAX)
        take = PARTIAL_MAX - lf->plen[s];
      memcpy (lf->partial[s] + lf->plen[s], data, take);
      lf->plen[s] += take;
      data += take;
      len -= take;
      if (lf->partial[s][lf->plen[s] - 1] == '\n' || lf->plen[s] == PARTIAL_MAX)
        {
          emit (lf, stream, lf->partial[s], lf->plen[s]);
          lf->plen[s] = 0;
        }
    }
}

void
logfile_flush (struct logfile *lf)
{
  int s;
  for (s = 0; s < 2; s++)
    if (lf->plen[s])
      {
        emit (lf, s + 1, lf->partial[s], lf->plen[s]);
        lf->plen[s] = 0;
      }
}
