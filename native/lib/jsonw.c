#include "jsonw.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
jsonw_init (struct jsonw *w)
{
  w->cap = 256;
  w->len = 0;
  w->buf = malloc (w->cap);
  if (w->buf == NULL)
    abort ();
  w->buf[0] = '\0';
}

void
jsonw_free (struct jsonw *w)
{
  free (w->buf);
  w->buf = NULL;
  w->len = w->cap = 0;
}

static void
reserve (struct jsonw *w, size_t more)
{
  if (w->len + more + 1 <= w->cap)
    return;
  while (w->len + more + 1 > w->cap)
    w->cap *= 2;
  w->buf = realloc (w->buf, w->cap);
  if (w->buf == NULL)
    abort ();
}

void
jsonw_mem (struct jsonw *w, const void *data, size_t len)
{
  reserve (w, len);
  memcpy (w->buf + w->len, data, len);
  w->len += len;
  w->buf[w->len] = '\0';
}

void
jsonw_raw (struct jsonw *w, const char *s)
{
  jsonw_mem (w, s, strlen (s));
}

void
jsonw_fmt (struct jsonw *w, const char *fmt, ...)
{
  va_list ap;
  char tmp[256];
  int n;
  va_start (ap, fmt);
  n = vsnprintf (tmp, sizeof tmp, fmt, ap);
  va_end (ap);
  if (n < (int) sizeof tmp)
    {
      jsonw_mem (w, tmp, n);
      return;
    }
  reserve (w, n);
  va_start (ap, fmt);
  vsnprintf (w->buf + w->len, n + 1, fmt, ap);
  va_end (ap);
  w->len += n;
}

void
jsonw_strn (struct jsonw *w, const char *s, size_t n)
{
  size_t i;
  if (s == NULL)
    {
      jsonw_raw (w, "null");
      return;
    }
  reserve (w, n + 2);
  w->buf[w->len++] = '"';
  for (i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) s[i];
      switch (c)
        {
        case '"': jsonw_raw (w, "\\\""); break;
        case '\\': jsonw_raw (w, "\\\\"); break;
        case '\n': jsonw_raw (w, "\\n"); break;
        case '\r': jsonw_raw (w, "\\r"); break;
        case '\t': jsonw_raw (w, "\\t"); break;
        case '\b': jsonw_raw (w, "\\b"); break;
        case '\f': jsonw_raw (w, "\\f"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            jsonw_fmt (w, "\\u%04x", c);
          else
            jsonw_mem (w, &s[i], 1);
        }
    }
  jsonw_mem (w, "\"", 1);
}

void
jsonw_str (struct jsonw *w, const char *s)
{
  jsonw_strn (w, s, s ? strlen (s) : 0);
}
