/* `berth-runtime unpack DIR`: unpacks one image layer, a plain tar on stdin, into the
 * empty directory DIR (lib/unpack.c) and prints the bytes of file content. */
#include "cli.h"
#include "unpack.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int
cmd_unpack (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  long long size = 0;
  (void) g;
  if (argc != 2)
    return berth_make_error (err, 0, "usage: berth-runtime unpack DIR (a plain tar on stdin)");
  /* Larger pipe reads: fewer wakeups on both sides. */
  (void) fcntl (STDIN_FILENO, F_SETPIPE_SZ, 1 << 20);
  if (unpack_layer (STDIN_FILENO, argv[1], &size, err) < 0)
    return -1;
  printf ("%lld\n", size);
  return 0;
}
