#include "cli.h"
#include "jsonw.h"
#include "state.h"

#include <getopt.h>
#include <stdio.h>

int
cmd_state (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  struct container_state st;
  struct jsonw w;
  const char *id;
  optind = 0;
  if (getopt (argc, argv, "+") != -1)
    return berth_make_error (err, 0, "usage: berth-runtime state ID");
  if (cli_one_id (argc, argv, "state", &id, err) < 0)
    return -1;
  if (state_read (g->root, id, &st, err) < 0)
    return -1;
  jsonw_init (&w);
  state_oci_json (&st, state_status (&st, g->root), &w);
  printf ("%s\n", w.buf);
  jsonw_free (&w);
  return 0;
}
