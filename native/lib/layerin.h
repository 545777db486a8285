/* The input side of `berth-runtime unpack` (lib/layerin.c): a layer as it comes, gzip or
 * plain tar, decoded and hashed on a thread of its own, the plain tar handed to the
 * unpacker (lib/unpack.c) through a pipe. */
#ifndef BERTH_LAYERIN_H
#define BERTH_LAYERIN_H

#include "error.h"

#include <pthread.h>
#include <stdbool.h>

struct layer_input {
  int in;       /* the layer as it comes (not closed) */
  int out;      /* write end of the pipe to the unpacker (the thread closes it) */
  pthread_t thread;
  bool started;
  /* Set by the thread; read after layer_input_finish. */
  char diff_id[72]; /* "sha256:" and the hex digest of the plain tar */
  int status;       /* errno of a failure, 0 if none */
  char *msg;        /* a failure's message, NULL if none */
  bool reader_gone; /* the unpacker stopped reading first: not a failure of the input */
  bool done;        /* the thread has set all of the above (atomic) */
};

/* Starts decoding IN; *TAR is the read end the unpacker reads the plain tar from. */
int layer_input_start (struct layer_input *li, int in, int *tar, berth_error_t *err);

/* With WAIT, waits for the thread (the unpacker must have read to the end or closed
 * *TAR first); without, looks only at a thread that has ended already (after a failed
 * unpack, the input may still be arriving). Fails with the input's own error (not a
 * valid gzip stream, a read error); a reader that stopped early is no failure here: the
 * unpacker's error says why. */
int layer_input_finish (struct layer_input *li, bool wait, berth_error_t *err);

#endif
