/* The monitor's socket protocol, as read from a client: one header line per
 * connection (framing with monproto_feed), then its request (monproto_parse):
 *   ATTACH [stdin=0|1] [stdout=0|1] [stderr=0|1]   RESIZE ROWS COLS   WAIT   START
 * Fields are separated by one space; ROWS and COLS are 0..65535. Pure functions over
 * bytes, so a libFuzzer target (native/fuzz/fuzz_monproto.c) can drive them. */
#ifndef BERTH_MONPROTO_H
#define BERTH_MONPROTO_H

#include <stdbool.h>
#include <stddef.h>

#define MONPROTO_LINE_MAX 256 /* with its newline */

enum monproto_kind { MONPROTO_ATTACH, MONPROTO_RESIZE, MONPROTO_WAIT, MONPROTO_START };

struct monproto_req {
  enum monproto_kind kind;
  bool in, out, err;          /* ATTACH */
  unsigned short rows, cols;  /* RESIZE */
};

struct monproto_line {
  char buf[MONPROTO_LINE_MAX];
  size_t len;
};

/* Adds the n bytes of one read. 1: the line is complete (NUL-terminated in l->buf,
 * without its newline) and *used bytes of data belonged to it, the rest being the
 * first stdin bytes; 0: more bytes are needed; -1: no newline within
 * MONPROTO_LINE_MAX bytes, or a NUL byte in the line. */
int monproto_feed (struct monproto_line *l, const char *data, size_t n, size_t *used);

/* 0 with *req filled, or -1 with the answer for the client in errbuf ("usage: ..."). */
int monproto_parse (const char *line, struct monproto_req *req, char *errbuf, size_t errlen);

#endif
