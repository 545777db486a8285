#include "monproto.h"

#include <stdio.h>
#include <string.h>

int
monproto_feed (struct monproto_line *l, const char *data, size_t n, size_t *used)
{
  size_t room = MONPROTO_LINE_MAX - 1 - l->len, i;
  for (i = 0; i < n && i < room + 1; i++)
    {
      if (data[i] == '\n')
        {
          l->buf[l->len] = '\0';
          *used = i + 1;
          return 1;
        }
      if (data[i] == '\0' || i == room)
        return -1;
      l->buf[l->len++] = data[i];
    }
  return 0;
}

/* The next space-separated field of *p (advanced past it); NULL at the end. */
static const char *
field (const char **p, size_t *len)
{
  const char *s = *p, *e;
  if (*s == '\0')
    return NULL;
  e = strchr (s, ' ');
  *len = e ? (size_t) (e - s) : strlen (s);
  *p = e ? e + 1 : s + *len;
  return s;
}

static bool
is (const char *f, size_t len, const char *word)
{
  return len == strlen (word) && memcmp (f, word, len) == 0;
}

static bool
u16 (const char *f, size_t len, unsigned short *out)
{
  unsigned v = 0;
  size_t i;
  if (len == 0 || len > 5)
    return false;
  for (i = 0; i < len; i++)
    {
      if (f[i] < '0' || f[i] > '9')
        return false;
      v = v * 10 + (unsigned) (f[i] - '0');
    }
  if (v > 65535)
    return false;
  *out = (unsigned short) v;
  return true;
}

static int
attach (const char *p, struct monproto_req *req, char *errbuf, size_t errlen)
{
  static const char *const names[] = { "stdin=", "stdout=", "stderr=" };
  bool *flags[] = { &req->in, &req->out, &req->err };
  const char *f;
  size_t len, k;
  while ((f = field (&p, &len)) != NULL)
    {
      for (k = 0; k < 3; k++)
        {
          size_t nl = strlen (names[k]);
          if (len == nl + 1 && memcmp (f, names[k], nl) == 0 && (f[nl] == '0' || f[nl] == '1'))
            {
              *flags[k] = f[nl] == '1';
              break;
            }
        }
      if (k == 3)
        {
          snprintf (errbuf, errlen, "usage: ATTACH [stdin=0|1] [stdout=0|1] [stderr=0|1]");
          return -1;
        }
    }
  return 0;
}

int
monproto_parse (const char *line, struct monproto_req *req, char *errbuf, size_t errlen)
{
  const char *p = line, *f;
  size_t len;
  memset (req, 0, sizeof *req);
  f = field (&p, &len);
  if (f != NULL && is (f, len, "ATTACH"))
    {
      req->kind = MONPROTO_ATTACH;
      return attach (p, req, errbuf, errlen);
    }
  if (f != NULL && is (f, len, "RESIZE"))
    {
      const char *r, *c;
      size_t rlen, clen;
      req->kind = MONPROTO_RESIZE;
      r = field (&p, &rlen);
      c = r ? field (&p, &clen) : NULL;
      if (c == NULL || *p != '\0' || !u16 (r, rlen, &req->rows) || !u16 (c, clen, &req->cols))
        {
          snprintf (errbuf, errlen, "usage: RESIZE ROWS COLS (0 to 65535 each)");
          return -1;
        }
      return 0;
    }
  if (f != NULL && (is (f, len, "WAIT") || is (f, len, "START")))
    {
      req->kind = is (f, len, "WAIT") ? MONPROTO_WAIT : MONPROTO_START;
      if (*p != '\0')
        {
          snprintf (errbuf, errlen, "usage: %s takes no arguments", req->kind == MONPROTO_WAIT ? "WAIT" : "START");
          return -1;
        }
      return 0;
    }
  snprintf (errbuf, errlen, "unknown command: use ATTACH, RESIZE, WAIT or START");
  return -1;
}
