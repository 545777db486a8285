#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
  const char *s;
  size_t pos, len;
  char *err;
  size_t errlen;
  int depth;
};

static json_t *parse_value (struct parser *p);

static void *
xcalloc (size_t n, size_t size)
{
  void *r = calloc (n ? n : 1, size);
  if (r == NULL)
    abort ();
  return r;
}

static json_t *
fail (struct parser *p, const char *what)
{
  if (p->err && p->err[0] == '\0')
    snprintf (p->err, p->errlen, "%s at offset %zu", what, p->pos);
  return NULL;
}

static void
skip_ws (struct parser *p)
{
  while (p->pos < p->len)
    {
      char c = p->s[p->pos];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        break;
      p->pos++;
    }
}

static void
put_utf8 (char *out, size_t *o, unsigned cp)
{
  if (cp < 0x80)
    out[(*o)++] = (char) cp;
  else if (cp < 0x800)
    {
      out[(*o)++] = (char) (0xc0 | (cp >> 6));
      out[(*o)++] = (char) (0x80 | (cp & 0x3f));
    }
  else if (cp < 0x10000)
    {
      out[(*o)++] = (char) (0xe0 | (cp >> 12));
      out[(*o)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
      out[(*o)++] = (char) (0x80 | (cp & 0x3f));
    }
  else
    {
      out[(*o)++] = (char) (0xf0 | (cp >> 18));
      out[(*o)++] = (char) (0x80 | ((cp >> 12) & 0x3f));
      out[(*o)++] = (char) (0x80 | ((cp >> 6) & 0x3f));
      out[(*o)++] = (char) (0x80 | (cp & 0x3f));
    }
}

static int
hex4 (struct parser *p, unsigned *cp)
{
  unsigned v = 0;
  int i;
  if (p->pos + 4 > p->len)
    return -1;
  for (i = 0; i < 4; i++)
    {
      char c = p->s[p->pos++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        return -1;
    }
  *cp = v;
  return 0;
}

static char *
parse_string_raw (struct parser *p)
{
  size_t start, o = 0;
  char *out;
  if (p->pos >= p->len || p->s[p->pos] != '"')
    return (char *) fail (p, "expected a string");
  start = ++p->pos;
  /* Escapes only shrink the text, so the raw length bounds the output. */
  while (p->pos < p->len && p->s[p->pos] != '"')
    p->pos += (p->s[p->pos] == '\\') ? 2 : 1;
  if (p->pos >= p->len)
    return (char *) fail (p, "unterminated string");
  out = xcalloc (p->pos - start + 4, 1);
  p->pos = start;
  while (p->s[p->pos] != '"')
    {
      char c = p->s[p->pos++];
      unsigned cp;
      if ((unsigned char) c < 0x20)
        {
          free (out);
          return (char *) fail (p, "control character in string");
        }
      if (c != '\\')
        {
          out[o++] = c;
          continue;
        }
      c = p->s[p->pos++];
      switch (c)
        {
        case '"': out[o++] = '"'; break;
        case '\\': out[o++] = '\\'; break;
        case '/': out[o++] = '/'; break;
        case 'b': out[o++] = '\b'; break;
        case 'f': out[o++] = '\f'; break;
        case 'n': out[o++] = '\n'; break;
        case 'r': out[o++] = '\r'; break;
        case 't': out[o++] = '\t'; break;
        case 'u':
          if (hex4 (p, &cp) < 0)
            {
              free (out);
              return (char *) fail (p, "bad \\u escape");
            }
          if (cp >= 0xd800 && cp < 0xdc00 && p->pos + 6 <= p->len && p->s[p->pos] == '\\'
              && p->s[p->pos + 1] == 'u')
            {
              unsigned lo;
              p->pos += 2;
              if (hex4 (p, &lo) < 0)
                {
                  free (out);
                  return (char *) fail (p, "bad \\u escape");
                }
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
          put_utf8 (out, &o, cp);
          break;
        default:
          free (out);
          return (char *) fail (p, "bad escape in string");
        }
    }
  p->pos++;
  out[o] = '\0';
  return out;
}

static json_t *
parse_container (struct parser *p, bool object)
{
  json_t *j = xcalloc (1, sizeof *j);
  size_t cap = 8;
  j->type = object ? JSON_OBJECT : JSON_ARRAY;
  j->items = xcalloc (cap, sizeof (json_t *));
  p->pos++;
  skip_ws (p);
  if (p->pos < p->len && p->s[p->pos] == (object ? '}' : ']'))
    {
      p->pos++;
      return j;
    }
  for (;;)
    {
      char *key = NULL;
      json_t *v;
      skip_ws (p);
      if (object)
        {
          key = parse_string_raw (p);
          if (key == NULL)
            return NULL;
          skip_ws (p);
          if (p->pos >= p->len || p->s[p->pos] != ':')
            return fail (p, "expected ':'");
          p->pos++;
        }
      v = parse_value (p);
      if (v == NULL)
        return NULL;
      v->key = key;
      if (j->n == cap)
        {
          cap *= 2;
          j->items = realloc (j->items, cap * sizeof (json_t *));
          if (j->items == NULL)
            abort ();
        }
      j->items[j->n++] = v;
      skip_ws (p);
      if (p->pos < p->len && p->s[p->pos] == ',')
        {
          p->pos++;
          continue;
        }
      if (p->pos < p->len && p->s[p->pos] == (object ? '}' : ']'))
        {
          p->pos++;
          return j;
        }
      return fail (p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static json_t *
parse_number (struct parser *p)
{
  size_t start = p->pos;
  json_t *j;
  if (p->s[p->pos] == '-')
    p->pos++;
  if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9')
    return fail (p, "bad number");
  while (p->pos < p->len && strchr ("0123456789.eE+-", p->s[p->pos]))
    p->pos++;
  j = xcalloc (1, sizeof *j);
  j->type = JSON_NUMBER;
  j->str = strndup (p->s + start, p->pos - start);
  return j;
}

static json_t *
parse_literal (struct parser *p, const char *word, enum json_type t, bool b)
{
  size_t n = strlen (word);
  json_t *j;
  if (p->pos + n > p->len || strncmp (p->s + p->pos, word, n) != 0)
    return fail (p, "unexpected character");
  p->pos += n;
  j = xcalloc (1, sizeof *j);
  j->type = t;
  j->boolean = b;
  return j;
}

static json_t *
parse_value (struct parser *p)
{
  json_t *j;
  skip_ws (p);
  if (p->pos >= p->len)
    return fail (p, "unexpected end of input");
  if (++p->depth > 200)
    return fail (p, "nesting too deep");
  switch (p->s[p->pos])
    {
    case '{': j = parse_container (p, true); break;
    case '[': j = parse_container (p, false); break;
    case '"':
      {
        char *s = parse_string_raw (p);
        if (s == NULL)
          return NULL;
        j = xcalloc (1, sizeof *j);
        j->type = JSON_STRING;
        j->str = s;
        break;
      }
    case 't': j = parse_literal (p, "true", JSON_BOOL, true); break;
    case 'f': j = parse_literal (p, "false", JSON_BOOL, false); break;
    case 'n': j = parse_literal (p, "null", JSON_NULL, false); break;
    default: j = parse_number (p); break;
    }
  p->depth--;
  return j;
}

json_t *
json_parse (const char *text, size_t len, char *errbuf, size_t errlen)
{
  struct parser p = { .s = text, .pos = 0, .len = len, .err = errbuf, .errlen = errlen };
  json_t *j;
  if (errbuf && errlen)
    errbuf[0] = '\0';
  j = parse_value (&p);
  if (j == NULL)
    return NULL;
  skip_ws (&p);
  if (p.pos != p.len)
    return fail (&p, "trailing characters");
  return j;
}

json_t *
json_get (const json_t *obj, const char *key)
{
  size_t i;
  if (obj == NULL || obj->type != JSON_OBJECT)
    return NULL;
  for (i = 0; i < obj->n; i++)
    if (strcmp (obj->items[i]->key, key) == 0)
      return obj->items[i];
  return NULL;
}

json_t *
json_path (const json_t *obj, const char *path)
{
  char buf[256];
  const char *dot;
  json_t *cur = (json_t *) obj;
  while (cur && (dot = strchr (path, '.')) != NULL)
    {
      size_t n = (size_t) (dot - path);
      if (n >= sizeof buf)
        return NULL;
      memcpy (buf, path, n);
      buf[n] = '\0';
      cur = json_get (cur, buf);
      path = dot + 1;
    }
  return cur ? json_get (cur, path) : NULL;
}

const char *
json_string (const json_t *j)
{
  return (j && j->type == JSON_STRING) ? j->str : NULL;
}

bool
json_is (const json_t *j, enum json_type t)
{
  return j != NULL && j->type == t;
}

bool
json_int64 (const json_t *j, int64_t *out)
{
  char *end;
  long long v;
  if (!json_is (j, JSON_NUMBER))
    return false;
  errno = 0;
  v = strtoll (j->str, &end, 10);
  if (errno || *end != '\0')
    return false;
  *out = v;
  return true;
}

bool
json_uint64 (const json_t *j, uint64_t *out)
{
  char *end;
  unsigned long long v;
  if (!json_is (j, JSON_NUMBER) || j->str[0] == '-')
    return false;
  errno = 0;
  v = strtoull (j->str, &end, 10);
  if (errno || *end != '\0')
    return false;
  *out = v;
  return true;
}

void
json_free (json_t *j)
{
  size_t i;
  if (j == NULL)
    return;
  for (i = 0; i < j->n; i++)
    json_free (j->items[i]);
  free (j->items);
  free (j->key);
  free (j->str);
  free (j);
}
