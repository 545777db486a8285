/* `berth-runtime unpack DIR`: unpacks one image layer, gzip or a plain tar on stdin, into
 * the empty directory DIR (lib/unpack.c), decoding and hashing it on a thread beside
 * (lib/layerin.c), and prints the bytes of file content and the diff id (the plain
 * tar's digest): "SIZE sha256:HEX". */
#include "cli.h"
#include "layerin.h"
#include "unpack.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
cmd_unpack (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  struct layer_input li;
  berth_error_t input_err = NULL;
  long long size = 0;
  int tar, ret;
  (void) g;
  if (argc != 2)
    return berth_make_error (err, 0, "usage: berth-runtime unpack DIR (a gzip or plain tar on stdin)");
  /* Larger pipe reads: fewer wakeups on both sides. */
  (void) fcntl (STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);
  if (layer_input_start (&li, STDIN_FILENO, &tar, err) < 0)
    return -1;
  ret = unpack_layer (tar, argv[1], &size, err);
  close (tar);
  /* A failed unpack waits for nothing more; the input's own failure, when known, explains
   * it better (a gzip stream cut short makes a tar cut short). */
  if (layer_input_finish (&li, ret == 0, &input_err) < 0)
    {
      if (ret < 0)
        berth_error_release (err);
      *err = input_err;
      return -1;
    }
  if (ret < 0)
    return -1;
  printf ("%lld %s\n", size, li.diff_id);
  return 0;
}
