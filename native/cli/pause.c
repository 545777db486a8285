#include "cli.h"
#include "cgroup.h"
#include "state.h"

#include <getopt.h>
#include <string.h>

static int
set_frozen (struct global_opts *g, int argc, char **argv, bool frozen, berth_error_t *err)
{
  const char *verb = frozen ? "pause" : "resume", *id, *status;
  struct container_state st;
  struct cgroup cg;
  optind = 0;
  if (getopt (argc, argv, "+") != -1)
    return berth_make_error (err, 0, "usage: berth-runtime %s ID", verb);
  if (cli_one_id (argc, argv, verb, &id, err) < 0 || state_read (g->root, id, &st, err) < 0)
    return -1;
  status = state_status (&st, g->root);
  if (frozen && strcmp (status, "running") != 0)
    return berth_make_error (err, 0, "cannot pause container `%s`: it is %s", id, status);
  if (!frozen && strcmp (status, "paused") != 0)
    return berth_make_error (err, 0, "cannot resume container `%s`: it is %s, not paused", id, status);
  if (cgroup_init (&cg, st.cgroups_path, id, err) < 0)
    return -1;
  return cgroup_freeze (&cg, frozen, err) < 0 ? -1 : 0;
}

int
cmd_pause (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  return set_frozen (g, argc, argv, true, err);
}

int
cmd_resume (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  return set_frozen (g, argc, argv, false, err);
}
