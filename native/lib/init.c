#include "init.h"
#include "container.h"
#include "hooks.h"
#include "mounts.h"
#include "process.h"
#include "sync.h"
#include "terminal.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __attribute__ ((noreturn)) void
fail (struct init_args *a, berth_error_t *err)
{
  sync_send (a->sync_fd, SYNC_ERROR, (err && *err) ? (*err)->msg : "container init failed", -1);
  _exit (127);
}

static int
wait_for (struct init_args *a, int type, berth_error_t *err)
{
  struct sync_msg m;
  int r = sync_recv (a->sync_fd, &m, NULL);
  if (r <= 0)
    _exit (1); /* the runtime went away: nothing to report to */
  if (m.type != type)
    return berth_make_error (err, 0, "unexpected message %d from the runtime", m.type);
  if (type == SYNC_GO && a->st)
    a->st->pid = (pid_t) atoi (m.text);
  return 0;
}

/* createContainer and startContainer hooks run here, in the container's namespaces. */
static int
run_container_hooks (struct init_args *a, const char *kind, const char *status, berth_error_t *err)
{
  char *state;
  int ret;
  if (!hooks_present (a->spec->hooks, kind))
    return 0;
  state = container_hook_state (a->st, status);
  ret = hooks_run (a->spec->hooks, kind, state, err);
  free (state);
  return ret;
}

static int
join_namespaces (struct init_args *a, berth_error_t *err)
{
  int i;
  /* The user namespace first: it owns the others. */
  for (i = 0; a->ns_fds[i] >= 0; i++)
    if (a->ns_types[i] == CLONE_NEWUSER && setns (a->ns_fds[i], CLONE_NEWUSER) < 0)
      return berth_make_error (err, errno, "join the user namespace");
  for (i = 0; a->ns_fds[i] >= 0; i++)
    if (a->ns_types[i] != CLONE_NEWUSER && setns (a->ns_fds[i], a->ns_types[i]) < 0)
      return berth_make_error (err, errno, "join namespace type %#x", a->ns_types[i]);
  return 0;
}

static int
setup_terminal (struct init_args *a, berth_error_t *err)
{
  int master, slave;
  const struct process_spec *p = &a->spec->process;
  if (terminal_open (p->rows, p->cols, &master, &slave, err) < 0)
    return -1;
  if (a->console_fd >= 0)
    {
      if (terminal_send_master (a->console_fd, master, err) < 0)
        return -1;
      close (a->console_fd);
    }
  else if (sync_send (a->sync_fd, SYNC_PTY, NULL, master) < 0)
    return berth_make_error (err, errno, "hand the pty to the monitor");
  close (master);
  return terminal_make_controlling (slave, err);
}

/* Without a new user or cgroup namespace, the container's mounts don't depend on what
   the parent does before SYNC_GO (id maps, cgroup membership), so they go on while the
   parent moves this process into its cgroups: on cgroup v1 the first cgroup.procs
   write waits for an RCU grace period (~15 ms here), the largest cost of a start. */
static bool
setup_overlaps_parent (const struct spec *spec)
{
  if (spec_has_namespace (spec, CLONE_NEWUSER))
    return false;
  return !(spec_has_namespace (spec, CLONE_NEWCGROUP) && !spec_namespace (spec, CLONE_NEWCGROUP)->path);
}

/* An error before SYNC_GO waits for the parent to finish its setup of this process
   first, so the parent reads our error rather than failing on a process gone. */
static __attribute__ ((noreturn)) void
fail_early (struct init_args *a, berth_error_t *err, bool go_pending)
{
  berth_error_t ignored = NULL;
  if (go_pending)
    (void) wait_for (a, SYNC_GO, &ignored); /* the error to report is ours, not this one */
  fail (a, err);
}

void
container_init (struct init_args *a)
{
  berth_error_t err = NULL;
  struct spec *spec = a->spec;
  struct process_prepared pp;
  bool own_mntns;
  bool go_pending = setup_overlaps_parent (spec);
  int i;

  if (!go_pending && wait_for (a, SYNC_GO, &err) < 0)
    fail (a, &err);
  if (a->join_cgroup && cgroup_join_self (a->cg, a->in_v2, &err) < 0)
    fail_early (a, &err, go_pending);
  for (i = 0; i < 3; i++)
    if (a->stdio[i] >= 0 && dup2 (a->stdio[i], i) < 0)
      {
        berth_make_error (&err, errno, "set up stdio");
        fail_early (a, &err, go_pending);
      }
  if (join_namespaces (a, &err) < 0)
    fail_early (a, &err, go_pending);
  if (spec_has_namespace (spec, CLONE_NEWCGROUP) && !spec_namespace (spec, CLONE_NEWCGROUP)->path
      && unshare (CLONE_NEWCGROUP) < 0)
    {
      berth_make_error (&err, errno, "unshare the cgroup namespace");
      fail (a, &err);
    }
  if (a->userns && (setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0))
    {
      berth_make_error (&err, errno, "become root in the user namespace (is id 0 mapped?)");
      fail (a, &err);
    }
  own_mntns = false;
  for (i = 0; i < (int) spec->n_namespaces; i++)
    if (spec->namespaces[i].flag == CLONE_NEWNS && spec->namespaces[i].path == NULL)
      own_mntns = true;
  if (!own_mntns)
    {
      berth_make_error (&err, 0, "config.json: a new mount namespace is required (linux.namespaces: {\"type\":\"mount\"})");
      fail_early (a, &err, go_pending);
    }
  if (rootfs_prepare (spec, a->cg, a->userns, &err) < 0)
    fail_early (a, &err, go_pending);
  if (go_pending && wait_for (a, SYNC_GO, &err) < 0)
    fail (a, &err);
  if (spec->hostname && spec_has_namespace (spec, CLONE_NEWUTS)
      && sethostname (spec->hostname, strlen (spec->hostname)) < 0)
    {
      berth_make_error (&err, errno, "sethostname");
      fail (a, &err);
    }
  if (spec->domainname && spec_has_namespace (spec, CLONE_NEWUTS)
      && setdomainname (spec->domainname, strlen (spec->domainname)) < 0)
    {
      berth_make_error (&err, errno, "setdomainname");
      fail (a, &err);
    }
  if (hooks_present (spec->hooks, "prestart") || hooks_present (spec->hooks, "createRuntime"))
    {
      sync_send (a->sync_fd, SYNC_HOOKS, NULL, -1);
      if (wait_for (a, SYNC_HOOKS_DONE, &err) < 0)
        fail (a, &err);
    }
  if (run_container_hooks (a, "createContainer", "created", &err) < 0)
    fail (a, &err);
  if (rootfs_pivot (spec, &err) < 0 || rootfs_finalize (spec, &err) < 0)
    fail (a, &err);
  if (spec->process.terminal && setup_terminal (a, &err) < 0)
    fail (a, &err);
  if (process_prepare (&spec->process, a->seccomp, &pp, &err) < 0)
    fail (a, &err);
  sync_send (a->sync_fd, SYNC_READY, NULL, -1);
  if (wait_for (a, SYNC_START, &err) < 0)
    fail (a, &err);
  if (run_container_hooks (a, "startContainer", "created", &err) < 0)
    fail (a, &err);
  process_exec (&spec->process, &pp, &err);
  fail (a, &err);
}
