#include "cli.h"
#include "cgroup.h"
#include "signals.h"
#include "state.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int
cmd_kill (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, { NULL, 0, NULL, 0 } };
  struct container_state st;
  const char *id, *status;
  bool all = false;
  int c, sig = SIGTERM;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+a", opts, NULL)) != -1)
    if (c == 'a')
      all = true;
    else
      return berth_make_error (err, 0, "usage: berth-runtime kill [--all] ID [SIGNAL]");
  if (optind >= argc || argc - optind > 2)
    return berth_make_error (err, 0, "usage: berth-runtime kill [--all] ID [SIGNAL]");
  id = argv[optind];
  if (argc - optind == 2 && (sig = signal_from_name (argv[optind + 1])) < 0)
    return berth_make_error (err, 0, "unknown signal `%s`: use a name like TERM or KILL, or a number",
                             argv[optind + 1]);
  if (state_read (g->root, id, &st, err) < 0)
    return -1;
  status = state_status (&st, g->root);
  if (strcmp (status, "stopped") == 0)
    return berth_make_error (err, 0, "cannot kill container `%s`: it is not running", id);
  if (all)
    {
      struct cgroup cg;
      if (cgroup_init (&cg, st.cgroups_path, id, err) < 0)
        return -1;
      cgroup_signal_all (&cg, sig);
      return 0;
    }
  if (kill (st.pid, sig) < 0)
    return berth_make_error (err, errno, "kill container `%s`", id);
  return 0;
}
