#include "container.h"
#include "crashpoint.h"
#include "berth_seccomp.h"
#include "fsutil.h"
#include "hooks.h"
#include "init.h"
#include "jsonw.h"
#include "monitor.h"
#include "sync.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

char *
container_hook_state (const struct container_state *st, const char *status)
{
  struct jsonw w;
  jsonw_init (&w);
  state_oci_json (st, status, &w);
  return w.buf;
}

static int
write_id_map (pid_t pid, const char *file, const struct id_map *maps, size_t n, berth_error_t *err)
{
  char path[64];
  struct jsonw w;
  size_t i;
  int ret = 0;
  if (n == 0)
    return 0;
  jsonw_init (&w);
  for (i = 0; i < n; i++)
    jsonw_fmt (&w, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
  snprintf (path, sizeof path, "/proc/%d/%s", (int) pid, file);
  if (write_file (path, w.buf, w.len) < 0)
    ret = berth_make_error (err, errno, "write %s", file);
  jsonw_free (&w);
  return ret;
}

static int
open_namespaces (struct spec *spec, struct init_args *a, int *pidns_fd, berth_error_t *err)
{
  size_t i, n = 0;
  *pidns_fd = -1;
  for (i = 0; i < spec->n_namespaces; i++)
    {
      const struct ns_spec *ns = &spec->namespaces[i];
      int fd;
      if (ns->path == NULL)
        continue;
      fd = open (ns->path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        return berth_make_error (err, errno, "open namespace `%s`", ns->path);
      if (ns->flag == CLONE_NEWPID)
        {
          *pidns_fd = fd;
          continue;
        }
      if (n == 7)
        return berth_make_error (err, 0, "too many namespaces to join");
      a->ns_fds[n] = fd;
      a->ns_types[n++] = ns->flag;
    }
  a->ns_fds[n] = -1;
  return 0;
}

static int
clone_flags (const struct spec *spec)
{
  size_t i;
  int flags = 0;
  for (i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].path == NULL)
      flags |= spec->namespaces[i].flag;
  /* The cgroup namespace is unshared by the child once it is in its cgroup, so that
   * its cgroup becomes the namespace's root. */
  return flags & ~CLONE_NEWCGROUP;
}

/* clone3(CLONE_INTO_CGROUP) starts the child in its cgroup2 cgroup (pure v2, or the
 * hybrid layout's "unified"): no migration afterwards. The v1 hierarchies (and all of
 * them on kernels without clone3) take a write each, by the child or by us (see
 * child_joins_cgroup). *in_cgroup: in every hierarchy already; *in_v2, which the
 * child reads in its copy: in the cgroup2 one. */
static pid_t
clone_child (struct spawn *s, bool *in_cgroup, bool *in_v2)
{
  int flags = clone_flags (s->spec);
  pid_t pid;
  *in_cgroup = false;
  *in_v2 = true; /* as the child will read it */
  pid = cgroup_clone_into_v2 (&s->cg, (uint64_t) flags);
  if (pid == 0)
    return 0;
  if (pid > 0)
    {
      *in_cgroup = s->cg.n == 1;
      return pid;
    }
  *in_v2 = false;
  return (pid_t) syscall (SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

void
container_abort (struct spawn *s)
{
  if (s->pid > 0)
    {
      kill (s->pid, SIGKILL);
      while (waitpid (s->pid, NULL, 0) < 0 && errno == EINTR)
        ;
      s->pid = -1;
    }
  if (s->sync_fd >= 0)
    close (s->sync_fd);
  s->sync_fd = -1;
  cgroup_destroy (&s->cg, false, NULL);
}

/* On a v1 or hybrid host the container process moves itself into its cgroups, which is
 * much cheaper (cgroup_join_self), unless it starts in a new user namespace, whose root
 * has no write access to the host's cgroup files until the parent has mapped it. */
static bool
child_joins_cgroup (const struct spawn *s)
{
  return !s->cg.v2 && !spec_has_namespace (s->spec, CLONE_NEWUSER);
}

static int
parent_setup (struct spawn *s, bool in_cgroup, berth_error_t *err)
{
  struct spec *spec = s->spec;
  char path[64], val[16];
  if (spec_has_namespace (spec, CLONE_NEWUSER) && !spec_namespace (spec, CLONE_NEWUSER)->path)
    {
      if (write_id_map (s->pid, "uid_map", spec->uid_maps, spec->n_uid_maps, err) < 0
          || write_id_map (s->pid, "gid_map", spec->gid_maps, spec->n_gid_maps, err) < 0)
        return -1;
    }
  if (!in_cgroup && !child_joins_cgroup (s) && cgroup_add_pid (&s->cg, s->pid, err) < 0)
    return -1;
  if (spec->process.has_oom_score_adj)
    {
      int n = snprintf (val, sizeof val, "%d", spec->process.oom_score_adj);
      snprintf (path, sizeof path, "/proc/%d/oom_score_adj", (int) s->pid);
      if (write_file (path, val, (size_t) n) < 0)
        return berth_make_error (err, errno, "set oom_score_adj");
    }
  return 0;
}

/* Messages until READY: hooks to run, a pty to keep, or the child's error. */
static int
await_ready (struct spawn *s, berth_error_t *err)
{
  for (;;)
    {
      struct sync_msg m;
      int fd = -1;
      int r = sync_recv (s->sync_fd, &m, &fd);
      if (r <= 0)
        return berth_make_error (err, 0, "the container process died during setup");
      switch (m.type)
        {
        case SYNC_READY:
          return 0;
        case SYNC_ERROR:
          return berth_make_error (err, 0, "%s", m.text);
        case SYNC_PTY:
          s->pty_master = fd;
          break;
        case SYNC_HOOKS:
          {
            char *state = container_hook_state (&s->st, "creating");
            int ret = hooks_run (s->spec->hooks, "prestart", state, err);
            if (ret == 0)
              ret = hooks_run (s->spec->hooks, "createRuntime", state, err);
            free (state);
            if (ret < 0)
              return -1;
            sync_send (s->sync_fd, SYNC_HOOKS_DONE, NULL, -1);
            break;
          }
        default:
          return berth_make_error (err, 0, "unexpected message %d from the container process", m.type);
        }
    }
}

int
container_spawn (struct spawn *s, berth_error_t *err)
{
  struct init_args a;
  int fds[2], pidns_fd, i;
  bool in_cgroup = false, in_v2 = false;

  s->pid = -1;
  s->sync_fd = -1;
  s->pty_master = -1;
  memset (&a, 0, sizeof a);
  /* Here, not in the child: the cache under --root is out of its reach after
   * pivot_root, and the child inherits the compiled program with its memory. */
  if (seccomp_prepare (s->spec->seccomp, s->root, &a.seccomp, err) < 0)
    return -1;
  if (open_namespaces (s->spec, &a, &pidns_fd, err) < 0)
    {
      seccomp_free (a.seccomp);
      return -1;
    }
  if (cgroup_create (&s->cg, err) < 0)
    {
      seccomp_free (a.seccomp);
      return -1;
    }
  if (cgroup_apply_resources (&s->cg, s->spec->resources, err) < 0)
    {
      seccomp_free (a.seccomp);
      cgroup_destroy (&s->cg, false, NULL);
      return -1;
    }
  if (pidns_fd >= 0 && setns (pidns_fd, CLONE_NEWPID) < 0)
    {
      seccomp_free (a.seccomp);
      cgroup_destroy (&s->cg, false, NULL);
      return berth_make_error (err, errno, "join the pid namespace");
    }
  if (sync_pair (fds) < 0)
    {
      seccomp_free (a.seccomp);
      cgroup_destroy (&s->cg, false, NULL);
      return berth_make_error (err, errno, "socketpair");
    }
  monitor_block_signals ();
  s->pid = clone_child (s, &in_cgroup, &in_v2);
  if (s->pid < 0)
    {
      int e = errno;
      close (fds[0]);
      close (fds[1]);
      seccomp_free (a.seccomp);
      cgroup_destroy (&s->cg, false, NULL);
      return berth_make_error (err, e, "clone the container process");
    }
  if (s->pid == 0)
    {
      close (fds[0]);
      a.spec = s->spec;
      a.cg = &s->cg;
      a.sync_fd = fds[1];
      a.console_fd = s->console_fd;
      for (i = 0; i < 3; i++)
        a.stdio[i] = s->stdio[i];
      a.userns = spec_has_namespace (s->spec, CLONE_NEWUSER);
      a.join_cgroup = child_joins_cgroup (s);
      a.in_v2 = in_v2;
      a.st = &s->st;
      container_init (&a);
    }
  close (fds[1]);
  s->sync_fd = fds[0];
  seccomp_free (a.seccomp);
  for (i = 0; a.ns_fds[i] >= 0; i++)
    close (a.ns_fds[i]);
  if (pidns_fd >= 0)
    close (pidns_fd);
  s->st.pid = s->pid;
  s->st.pid_start = proc_start_time (s->pid);
  {
    char pid[16];
    snprintf (pid, sizeof pid, "%d", (int) s->pid); /* the child knows only its namespaced pid */
    if (parent_setup (s, in_cgroup, err) < 0 || sync_send (s->sync_fd, SYNC_GO, pid, -1) < 0 || await_ready (s, err) < 0)
    {
      container_abort (s);
      return -1;
    }
  }
  return 0;
}

int
container_start (struct spawn *s, berth_error_t *err)
{
  struct sync_msg m;
  char *state;
  if (sync_send (s->sync_fd, SYNC_START, NULL, -1) < 0)
    return berth_make_error (err, errno, "start the container process");
  /* The socket is close-on-exec: EOF means execve succeeded. */
  if (sync_recv (s->sync_fd, &m, NULL) > 0 && m.type == SYNC_ERROR)
    {
      close (s->sync_fd);
      s->sync_fd = -1;
      return berth_make_error (err, 0, "%s", m.text);
    }
  close (s->sync_fd);
  s->sync_fd = -1;
  berth_now_rfc3339 (s->st.started_at, sizeof s->st.started_at);
  if (hooks_present (s->spec->hooks, "poststart"))
    {
      berth_error_t herr = NULL;
      state = container_hook_state (&s->st, "running");
      /* The spec makes a failing poststart hook a warning, not a failed start. */
      if (hooks_run (s->spec->hooks, "poststart", state, &herr) < 0)
        {
          berth_log_warning ("%s", herr->msg);
          berth_error_release (&herr);
        }
      free (state);
    }
  return 0;
}

void
container_reap (struct cgroup *cg, const char *dir)
{
  if (cgroup_is_frozen (cg))
    cgroup_freeze (cg, false, NULL);
  cgroup_signal_all (cg, SIGKILL);
  cgroup_destroy (cg, true, NULL);
  remove_tree (dir);
}

int
container_remove_unfinished (const char *root, const char *id, berth_error_t *err)
{
  struct cgroup cg;
  struct spec spec;
  char dir[4400], cfg[4500], *text;
  ssize_t len;
  struct stat sb;

  state_dir (root, id, dir, sizeof dir);
  if (stat (dir, &sb) < 0)
    return berth_make_error (err, 0, "container `%s` does not exist", id);
  snprintf (cfg, sizeof cfg, "%s/config.json", dir);
  /* Without config.json the monitor was never forked: no cgroup was made. */
  if ((len = read_file (cfg, &text)) > 0 && spec_parse (text, (size_t) len, "/", &spec, NULL) == 0
      && cgroup_init (&cg, spec.cgroups_path, id, NULL) == 0)
    {
      container_reap (&cg, dir);
      return 0;
    }
  if (remove_tree (dir) < 0)
    return berth_make_error (err, errno, "remove `%s`", dir);
  return 0;
}

int
container_teardown (const char *root, const char *id, berth_error_t *err)
{
  struct container_state st;
  struct cgroup cg;
  struct spec spec;
  char dir[4400], cfg[4500], *text;
  ssize_t len;
  int ret = 0;

  if (state_read (root, id, &st, err) < 0)
    return -1;
  if (cgroup_init (&cg, st.cgroups_path, id, err) < 0)
    return -1;
  if (cgroup_destroy (&cg, true, err) < 0)
    return -1;
  crash_point ("teardown:cgroup");
  state_dir (root, id, dir, sizeof dir);
  snprintf (cfg, sizeof cfg, "%s/config.json", dir);
  if ((len = read_file (cfg, &text)) > 0 && spec_parse (text, (size_t) len, st.bundle, &spec, NULL) == 0
      && hooks_present (spec.hooks, "poststop"))
    {
      char *state = container_hook_state (&st, "stopped");
      berth_error_t herr = NULL;
      /* poststop failures are warnings: the container is gone either way. */
      if (hooks_run (spec.hooks, "poststop", state, &herr) < 0)
        {
          berth_log_warning ("%s", herr->msg);
          berth_error_release (&herr);
        }
      free (state);
    }
  if (remove_tree (dir) < 0)
    ret = berth_make_error (err, errno, "remove `%s`", dir);
  return ret;
}
