/* libFuzzer target: bytes a client writes to a monitor socket, framed and parsed as
 * monitor.c does (monproto_feed over reads of the sizes the first byte picks, then
 * monproto_parse). A request that parses is written back in its canonical form and
 * must parse to the same request. Built by bench/fuzz.sh; native/Makefile builds a
 * replay of native/tests/fuzz-regressions/monproto/ for the unit tests. */
#include "monproto.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
check_roundtrip (const struct monproto_req *req)
{
  char line[MONPROTO_LINE_MAX], err[256];
  struct monproto_req again;
  switch (req->kind)
    {
    case MONPROTO_ATTACH:
      snprintf (line, sizeof line, "ATTACH stdin=%d stdout=%d stderr=%d", req->in, req->out, req->err);
      break;
    case MONPROTO_RESIZE:
      snprintf (line, sizeof line, "RESIZE %u %u", req->rows, req->cols);
      break;
    case MONPROTO_WAIT:
      snprintf (line, sizeof line, "WAIT");
      break;
    case MONPROTO_START:
      snprintf (line, sizeof line, "START");
      break;
    default:
      abort ();
    }
  if (monproto_parse (line, &again, err, sizeof err) < 0 || memcmp (&again, req, sizeof again) != 0)
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct monproto_line l = { .len = 0 };
  struct monproto_req req;
  char err[256];
  size_t off = 1, chunk, used = 0;
  int r = 0;
  if (size == 0)
    return 0;
  /* Reads of 1..16 bytes (first byte's low nibble + 1), as a slow client sends them. */
  chunk = (size_t) (data[0] & 15) + 1;
  while (off < size)
    {
      size_t n = size - off < chunk ? size - off : chunk;
      /* A copy of each read, so ASan sees any access past it. */
      char *read = malloc (n);
      if (read == NULL)
        return 0;
      memcpy (read, data + off, n);
      r = monproto_feed (&l, read, n, &used);
      free (read);
      if (r != 0)
        break;
      if (l.len >= MONPROTO_LINE_MAX)
        abort ();
      off += n;
    }
  if (r != 1)
    return 0;
  if (used == 0 || used > chunk || strlen (l.buf) != l.len || l.len >= MONPROTO_LINE_MAX)
    abort ();
  err[0] = '\0';
  if (monproto_parse (l.buf, &req, err, sizeof err) == 0)
    check_roundtrip (&req);
  else if (strncmp (err, "usage: ", 7) != 0 && strncmp (err, "unknown command", 15) != 0)
    abort ();
  return 0;
}
