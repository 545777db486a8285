#include "exec.h"
#include "berth_seccomp.h"
#include "caps.h"
#include "cgroup.h"
#include "fsutil.h"
#include "monitor.h"
#include "process.h"
#include "spec.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct {
  const char *name;
  int flag;
} ns_kinds[] = {
  { "user", CLONE_NEWUSER }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET },
  { "cgroup", CLONE_NEWCGROUP }, { "mnt", CLONE_NEWNS }, { "pid", CLONE_NEWPID },
};
#define N_NS (sizeof ns_kinds / sizeof ns_kinds[0])

struct exec_session {
  const struct exec_opts *o;
  struct container_state st;
  struct spec spec;
  struct process_spec proc;
  struct cgroup cg;
  int ns_fd[N_NS];
  int stdio[3];
  int console_fd;
  struct monitor m;
  pid_t pid;
  struct berth_seccomp *seccomp; /* compiled before the fork */
};

/* Only the namespaces that differ from ours: setns into our own user ns fails. */
static int
open_namespaces (struct exec_session *es, berth_error_t *err)
{
  size_t i;
  for (i = 0; i < N_NS; i++)
    {
      char theirs[64], ours[64];
      struct stat a, b;
      es->ns_fd[i] = -1;
      snprintf (theirs, sizeof theirs, "/proc/%d/ns/%s", (int) es->st.pid, ns_kinds[i].name);
      snprintf (ours, sizeof ours, "/proc/self/ns/%s", ns_kinds[i].name);
      if (stat (theirs, &a) < 0)
        {
          if (errno == ENOENT && i > 0)
            continue;
          return berth_make_error (err, errno, "inspect `%s`", theirs);
        }
      if (stat (ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        continue;
      es->ns_fd[i] = open (theirs, O_RDONLY | O_CLOEXEC);
      if (es->ns_fd[i] < 0)
        return berth_make_error (err, errno, "open `%s`", theirs);
    }
  return 0;
}

static char **
merge_env (char **base, char **add, size_t n_add)
{
  size_t nb = 0, i, k, o = 0;
  char **out;
  while (base && base[nb])
    nb++;
  out = calloc (nb + n_add + 1, sizeof (char *));
  for (i = 0; i < nb; i++)
    out[o++] = base[i];
  for (k = 0; k < n_add; k++)
    {
      const char *eq = strchr (add[k], '=');
      size_t klen = eq ? (size_t) (eq - add[k]) : strlen (add[k]);
      for (i = 0; i < o; i++)
        if (strncmp (out[i], add[k], klen) == 0 && out[i][klen] == '=')
          break;
      out[i == o ? o++ : i] = add[k];
    }
  return out;
}

static int
build_process (struct exec_session *es, berth_error_t *err)
{
  const struct exec_opts *o = es->o;
  struct process_spec *p = &es->proc;
  size_t i;
  if (o->process_file)
    {
      char *text, msg[128];
      ssize_t len = read_file (o->process_file, &text);
      json_t *j;
      if (len < 0)
        return berth_make_error (err, errno, "read the process file `%s`", o->process_file);
      j = json_parse (text, (size_t) len, msg, sizeof msg);
      if (j == NULL)
        return berth_make_error (err, 0, "process file `%s` is not valid JSON: %s", o->process_file, msg);
      return spec_parse_process (j, p, err);
    }
  if (o->args == NULL || o->args[0] == NULL)
    return berth_make_error (err, 0, "exec needs a command: berth-runtime exec ID CMD [ARG…] or --process FILE");
  *p = es->spec.process;
  p->args = o->args;
  p->terminal = o->tty;
  p->env = merge_env (es->spec.process.env, o->env, o->n_env);
  if (o->cwd)
    p->cwd = (char *) o->cwd;
  if (o->user)
    {
      unsigned uid = 0, gid = 0;
      int n = sscanf (o->user, "%u:%u", &uid, &gid);
      if (n < 1)
        return berth_make_error (err, 0, "--user `%s` must be UID[:GID] (numbers)", o->user);
      p->uid = uid;
      p->gid = n == 2 ? gid : 0;
      p->n_additional_gids = 0;
    }
  if (o->no_new_privs)
    p->no_new_privileges = true;
  for (i = 0; i < o->n_caps; i++)
    {
      int c = cap_from_name (o->caps[i]);
      if (c == -2)
        return berth_make_error (err, 0, "--cap `%s` is not a capability", o->caps[i]);
      if (c >= 0)
        {
          uint64_t bit = 1ULL << c;
          p->has_caps = true;
          p->caps.bounding |= bit;
          p->caps.effective |= bit;
          p->caps.permitted |= bit;
          p->caps.inheritable |= bit;
        }
    }
  return 0;
}

static __attribute__ ((noreturn)) void
exec_child (struct exec_session *es, int sync_fd, bool in_v2)
{
  berth_error_t err = NULL;
  struct process_prepared pp;
  size_t i;
  int k;

  if (cgroup_join_self (&es->cg, in_v2, &err) < 0)
    goto fail;
  for (i = 0; i < N_NS; i++)
    if (es->ns_fd[i] >= 0 && ns_kinds[i].flag != CLONE_NEWPID && setns (es->ns_fd[i], ns_kinds[i].flag) < 0)
      {
        berth_make_error (&err, errno, "join the %s namespace", ns_kinds[i].name);
        goto fail;
      }
  for (k = 0; k < 3; k++)
    if (es->stdio[k] >= 0 && dup2 (es->stdio[k], k) < 0)
      {
        berth_make_error (&err, errno, "set up stdio");
        goto fail;
      }
  if (es->proc.terminal)
    {
      int master, slave;
      if (terminal_open (es->proc.rows, es->proc.cols, &master, &slave, &err) < 0)
        goto fail;
      if (es->console_fd >= 0 ? terminal_send_master (es->console_fd, master, &err) < 0
                              : sync_send (sync_fd, SYNC_PTY, NULL, master) < 0)
        goto fail;
      close (master);
      if (terminal_make_controlling (slave, &err) < 0)
        goto fail;
    }
  if (process_prepare (&es->proc, es->seccomp, &pp, &err) < 0)
    goto fail;
  process_exec (&es->proc, &pp, &err);
fail:
  sync_send (sync_fd, SYNC_ERROR, err ? err->msg : "exec failed", -1);
  _exit (127);
}

static int
make_stdio (struct exec_session *es, bool pipes, berth_error_t *err)
{
  int p[2], i;
  es->stdio[0] = es->stdio[1] = es->stdio[2] = -1;
  if (!pipes || es->proc.terminal)
    return 0;
  if (es->o->stdin_pipe)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return berth_make_error (err, errno, "pipe");
      es->stdio[0] = p[0];
      es->m.in_fd = p[1];
    }
  else
    es->stdio[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  for (i = 1; i < 3; i++)
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return berth_make_error (err, errno, "pipe");
      es->stdio[i] = p[1];
      if (i == 1)
        es->m.out_fd = p[0];
      else
        es->m.err_fd = p[0];
    }
  return 0;
}

static int
spawn (struct exec_session *es, bool pipes, berth_error_t *err)
{
  int fds[2], i;
  bool in_v2;
  struct sync_msg msg;
  /* Before the fork, like create: the cache lives under --root. */
  if (seccomp_prepare (es->spec.seccomp, es->o->root, &es->seccomp, err) < 0)
    return -1;
  if (make_stdio (es, pipes, err) < 0)
    return -1;
  if (es->ns_fd[N_NS - 1] >= 0 && setns (es->ns_fd[N_NS - 1], CLONE_NEWPID) < 0)
    return berth_make_error (err, errno, "join the pid namespace");
  if (sync_pair (fds) < 0)
    return berth_make_error (err, errno, "socketpair");
  monitor_block_signals ();
  /* Started in the container's cgroup2 cgroup where there is one: its join there would
   * take the kernel's global threadgroup lock (cgroup.c). */
  es->pid = cgroup_clone_into_v2 (&es->cg, 0);
  in_v2 = es->pid >= 0;
  if (es->pid < 0)
    es->pid = fork ();
  if (es->pid < 0)
    return berth_make_error (err, errno, "fork");
  if (es->pid == 0)
    {
      close (fds[0]);
      exec_child (es, fds[1], in_v2);
    }
  close (fds[1]);
  seccomp_free (es->seccomp);
  es->seccomp = NULL;
  for (i = 0; i < 3; i++)
    if (es->stdio[i] >= 0)
      close (es->stdio[i]);
  for (;;)
    {
      int fd = -1;
      if (sync_recv (fds[0], &msg, &fd) <= 0)
        break; /* close-on-exec: the process is running */
      if (msg.type == SYNC_PTY)
        {
          es->m.tty = true;
          es->m.out_fd = es->m.in_fd = fd;
          continue;
        }
      close (fds[0]);
      waitpid (es->pid, NULL, 0);
      return berth_make_error (err, 0, "%s", msg.type == SYNC_ERROR ? msg.text : "unexpected message");
    }
  close (fds[0]);
  return 0;
}

static void
on_exit_cb (void *ctx, int code, const char *finished, bool oom)
{
  struct exec_session *es = ctx;
  berth_error_t err = NULL;
  if (es->o->exit_file && state_write_exit_file (es->o->exit_file, code, finished, oom, &err) < 0)
    berth_error_report (&err);
}

static int
prepare (struct exec_session *es, berth_error_t *err)
{
  char cfg[4500], *text;
  ssize_t len;
  const char *status;
  if (state_read (es->o->root, es->o->id, &es->st, err) < 0)
    return -1;
  status = state_status (&es->st, es->o->root);
  if (strcmp (status, "stopped") == 0 || strcmp (status, "paused") == 0)
    return berth_make_error (err, 0, "cannot exec in container `%s`: it is %s", es->o->id, status);
  snprintf (cfg, sizeof cfg, "%s/%s/config.json", es->o->root, es->o->id);
  if ((len = read_file (cfg, &text)) < 0)
    return berth_make_error (err, errno, "read `%s`", cfg);
  if (spec_parse (text, (size_t) len, es->st.bundle, &es->spec, err) < 0)
    return -1;
  if (build_process (es, err) < 0 || open_namespaces (es, err) < 0)
    return -1;
  if (cgroup_init (&es->cg, es->st.cgroups_path, es->o->id, err) < 0)
    return -1;
  es->console_fd = -1;
  if (es->proc.terminal && es->o->console_socket)
    {
      es->console_fd = unix_connect (es->o->console_socket, err);
      if (es->console_fd < 0)
        return -1;
    }
  monitor_init (&es->m);
  return 0;
}

int
container_exec (const struct exec_opts *o, int *exit_code, berth_error_t *err)
{
  static struct exec_session es;
  bool pipes = o->monitor_socket != NULL;
  int ready[2];
  pid_t mon;

  memset (&es, 0, sizeof es);
  es.o = o;
  *exit_code = 0;
  if (prepare (&es, err) < 0)
    return -1;
  es.m.on_exit = on_exit_cb;
  es.m.ctx = &es;
  es.m.stdin_once = o->stdin_once;
  es.m.replay = pipes;
  es.m.cg = NULL;
  if (pipes)
    {
      es.m.socket_path = o->monitor_socket;
      es.m.listen_fd = monitor_listen (o->monitor_socket, err);
      if (es.m.listen_fd < 0)
        return -1;
    }
  if (!o->detach && !pipes)
    {
      if (spawn (&es, false, err) < 0)
        return -1;
      if (write_pid_file (o->pid_file, es.pid, err) < 0)
        return -1;
      if (es.m.tty)
        {
          es.m.relay_in = 0;
          es.m.relay_out = 1;
        }
      es.m.child = es.pid;
      *exit_code = monitor_run (&es.m);
      return 0;
    }
  /* Detached or with a monitor socket: a monitor process of its own. */
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "pipe");
  mon = fork ();
  if (mon < 0)
    return berth_make_error (err, errno, "fork the exec monitor");
  if (mon > 0)
    {
      pid_t pid;
      close (ready[1]);
      if (es.m.listen_fd >= 0)
        close (es.m.listen_fd);
      if (monitor_await_ready (ready[0], &pid, "the exec monitor died", err) < 0)
        return -1;
      return write_pid_file (o->pid_file, pid, err);
    }
  close (ready[0]);
  setsid ();
  if (chdir ("/") < 0)
    _exit (1);
  prctl (PR_SET_NAME, "berth-monitor", 0, 0, 0);
  if (pipes)
    stdio_to_null ();
  if (spawn (&es, pipes, err) < 0)
    {
      monitor_ready_error (ready[1], (*err)->msg);
      _exit (1);
    }
  monitor_ready_ok (ready[1], es.pid);
  if (!pipes)
    stdio_to_null ();
  es.m.child = es.pid;
  monitor_run (&es.m);
  _exit (0);
}
