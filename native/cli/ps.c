#include "cli.h"
#include "cgroup.h"
#include "state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

/* Always JSON: the host pids in the container's cgroup (runc ps --format json). */
int
cmd_ps (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  struct container_state st;
  struct cgroup cg;
  const char *id;
  pid_t *pids = NULL;
  int c, n, i;
  optind = 0;
  while ((c = getopt_long (argc, argv, "+f:", opts, NULL)) != -1)
    if (c != 'f')
      return berth_make_error (err, 0, "usage: berth-runtime ps [--format json] ID");
  if (cli_one_id (argc, argv, "ps", &id, err) < 0 || state_read (g->root, id, &st, err) < 0)
    return -1;
  if (cgroup_init (&cg, st.cgroups_path, id, err) < 0)
    return -1;
  n = cgroup_pids (&cg, &pids);
  printf ("[");
  for (i = 0; i < n; i++)
    printf ("%s%d", i ? "," : "", (int) pids[i]);
  printf ("]\n");
  free (pids);
  return 0;
}
