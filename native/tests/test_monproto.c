/* Unit tests of the monitor's socket protocol (lib/monproto.c). Prints TAP. */
#include "monproto.h"
#include "tap.h"

#include <string.h>

static int
parse (const char *line, struct monproto_req *req)
{
  char err[256];
  return monproto_parse (line, req, err, sizeof err);
}

static int
feed_str (struct monproto_line *l, const char *s, size_t *used)
{
  return monproto_feed (l, s, strlen (s), used);
}

int
main (void)
{
  struct monproto_req r;
  struct monproto_line l = { .len = 0 };
  char err[256], long_line[400];
  size_t used = 0;

  TAP_OK (parse ("ATTACH stdin=1 stdout=0 stderr=1", &r) == 0 && r.kind == MONPROTO_ATTACH && r.in && !r.out && r.err,
          "ATTACH with its three streams");
  TAP_OK (parse ("ATTACH", &r) == 0 && !r.in && !r.out && !r.err, "ATTACH alone: no stream");
  TAP_OK (parse ("ATTACHED stdin=1", &r) < 0, "a command is a whole word");
  TAP_OK (parse ("ATTACH stdin=10", &r) < 0 && parse ("ATTACH xstdin=1", &r) < 0 && parse ("ATTACH stdin=1  stdout=1", &r) < 0,
          "ATTACH fields are exact");
  TAP_OK (parse ("RESIZE 31 101", &r) == 0 && r.kind == MONPROTO_RESIZE && r.rows == 31 && r.cols == 101, "RESIZE");
  TAP_OK (parse ("RESIZE 0 65535", &r) == 0 && r.rows == 0 && r.cols == 65535, "RESIZE bounds");
  TAP_OK (monproto_parse ("RESIZE 65536 1", &r, err, sizeof err) < 0 && strstr (err, "usage: RESIZE") != NULL,
          "RESIZE past 65535 is refused, not truncated");
  TAP_OK (parse ("RESIZE -1 5", &r) < 0 && parse ("RESIZE 1", &r) < 0 && parse ("RESIZE 1 2 3", &r) < 0
              && parse ("RESIZE 1x 2", &r) < 0 && parse ("RESIZE 4294967297 1", &r) < 0,
          "RESIZE refuses negatives, missing or extra fields, garbage and wrap-arounds");
  TAP_OK (parse ("WAIT", &r) == 0 && r.kind == MONPROTO_WAIT && parse ("START", &r) == 0 && r.kind == MONPROTO_START,
          "WAIT and START");
  TAP_OK (parse ("WAIT now", &r) < 0 && parse ("WAITING", &r) < 0, "WAIT takes no argument");
  TAP_OK (monproto_parse ("", &r, err, sizeof err) < 0 && strstr (err, "unknown command") != NULL, "an empty line");

  TAP_OK (feed_str (&l, "ATT", &used) == 0 && feed_str (&l, "ACH stdin=1\nabc", &used) == 1 && used == 12
              && strcmp (l.buf, "ATTACH stdin=1") == 0,
          "feed: a line over two reads; the rest of the read is stdin");
  memset (long_line, 'x', sizeof long_line);
  l.len = 0;
  TAP_OK (monproto_feed (&l, long_line, MONPROTO_LINE_MAX - 1, &used) == 0 && monproto_feed (&l, "\n", 1, &used) == 1
              && l.len == MONPROTO_LINE_MAX - 1,
          "feed: the longest line");
  l.len = 0;
  TAP_OK (monproto_feed (&l, long_line, MONPROTO_LINE_MAX, &used) == -1, "feed: a line too long");
  l.len = 0;
  TAP_OK (monproto_feed (&l, "WA\0IT\n", 6, &used) == -1, "feed: a NUL byte");
  return tap_done ();
}
