#include "cli.h"
#include "cgroup.h"
#include "container.h"
#include "crashpoint.h"
#include "state.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Waits until pid is gone (it is not our child, so through a pidfd). */
static void
wait_gone (pid_t pid, int timeout_ms)
{
  int fd = (int) syscall (SYS_pidfd_open, pid, 0);
  struct pollfd p;
  if (fd < 0)
    return;
  p.fd = fd;
  p.events = POLLIN;
  poll (&p, 1, timeout_ms);
  close (fd);
}

static int
kill_all (struct container_state *st, const char *id, berth_error_t *err)
{
  struct cgroup cg;
  if (cgroup_init (&cg, st->cgroups_path, id, err) < 0)
    return -1;
  if (cgroup_is_frozen (&cg))
    cgroup_freeze (&cg, false, NULL);
  kill (st->pid, SIGKILL);
  /* Without a pid namespace the init's death does not take the others along. */
  cgroup_signal_all (&cg, SIGKILL);
  /* The monitor records the exit and leaves: wait for it, then for the init itself. */
  if (st->monitor_pid > 0 && st->monitor_pid != getpid () && state_pid_alive (st->monitor_pid, st->monitor_start))
    wait_gone (st->monitor_pid, 10000);
  wait_gone (st->pid, 10000);
  return 0;
}

int
cmd_delete (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, { NULL, 0, NULL, 0 } };
  struct container_state st;
  const char *id, *status;
  bool force = false;
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+f", opts, NULL)) != -1)
    if (c == 'f')
      force = true;
    else
      return berth_make_error (err, 0, "usage: berth-runtime delete [--force] ID");
  if (cli_one_id (argc, argv, "delete", &id, err) < 0)
    return -1;
  if (state_read (g->root, id, &st, err) < 0)
    {
      /* runc: deleting a missing container with --force is not an error. A directory
       * without state.json is a create that was killed half-way: --force removes it. */
      if (force && strstr ((*err)->msg, "does not exist"))
        {
          berth_error_release (err);
          if (container_remove_unfinished (g->root, id, err) < 0 && !strstr ((*err)->msg, "does not exist"))
            return -1;
          berth_error_release (err);
          return 0;
        }
      return -1;
    }
  status = state_status (&st, g->root);
  if (strcmp (status, "stopped") != 0)
    {
      if (!force && strcmp (status, "created") != 0)
        return berth_make_error (err, 0, "cannot delete container `%s`: it is %s (stop it first or use --force)", id,
                                 status);
      if (kill_all (&st, id, err) < 0)
        return -1;
      crash_point ("delete:killed");
    }
  else if (st.monitor_pid > 0 && state_pid_alive (st.monitor_pid, st.monitor_start) && !st.exited)
    wait_gone (st.monitor_pid, 2000);
  if (container_teardown (g->root, id, err) < 0)
    return -1;
  return 0;
}
