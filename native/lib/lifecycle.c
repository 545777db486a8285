#include "lifecycle.h"
#include "container.h"
#include "crashpoint.h"
#include "fsutil.h"
#include "logfile.h"
#include "monitor.h"
#include "terminal.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

struct session {
  const struct create_opts *o;
  struct spawn s;
  char dir[4400];
  bool pipes; /* the monitor holds the stdio */
  struct monitor m;
};

static bool
wants_pipes (const struct spec *spec, const struct create_opts *o)
{
  size_t i;
  if (!o->detach)
    return false;
  for (i = 0; spec->annotations && i < spec->annotations->n; i++)
    if (strncmp (spec->annotations->items[i]->key, "io.berth.", 9) == 0)
      return true;
  return spec->process.terminal && o->console_socket == NULL;
}

static bool
annotation_is (const struct spec *spec, const char *key)
{
  const char *v = spec_annotation (spec, key);
  return v && (strcmp (v, "1") == 0 || strcmp (v, "true") == 0);
}

/* Pipes for the child's stdio; the monitor keeps the other ends. */
static int
make_pipes (struct session *ss, berth_error_t *err)
{
  int p[2], i;
  if (ss->s.spec->process.terminal)
    {
      int null = open ("/dev/null", O_RDWR | O_CLOEXEC);
      for (i = 0; i < 3; i++)
        ss->s.stdio[i] = i == 0 ? null : fcntl (null, F_DUPFD_CLOEXEC, 3);
      return 0;
    }
  if (annotation_is (ss->s.spec, "io.berth.stdin"))
    {
      if (pipe2 (p, O_CLOEXEC) < 0)
        return berth_make_error (err, errno, "pipe");
      ss->s.stdio[0] = p[0];
      ss->m.in_fd = p[1];
    }
  else
    ss->s.stdio[0] = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (pipe2 (p, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "pipe");
  ss->s.stdio[1] = p[1];
  ss->m.out_fd = p[0];
  if (pipe2 (p, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "pipe");
  ss->s.stdio[2] = p[1];
  ss->m.err_fd = p[0];
  return 0;
}

static int
open_log (struct session *ss, berth_error_t *err)
{
  const char *path = spec_annotation (ss->s.spec, "io.berth.log.path");
  const char *size = spec_annotation (ss->s.spec, "io.berth.log.max-size");
  const char *files = spec_annotation (ss->s.spec, "io.berth.log.max-file");
  if (path == NULL || !ss->pipes)
    return 0;
  ss->m.log = logfile_open (path, size ? atoll (size) : 0, files ? atoi (files) : 1, err);
  return ss->m.log ? 0 : -1;
}

static int
on_start (void *ctx, char *errbuf, size_t len)
{
  struct session *ss = ctx;
  berth_error_t err = NULL;
  if (container_start (&ss->s, &err) == 0)
    crash_point ("monitor:started");
  if (err != NULL || state_write (ss->o->root, &ss->s.st, &err) < 0)
    {
      snprintf (errbuf, len, "%s", err->msg);
      berth_error_release (&err);
      return -1;
    }
  return 0;
}

static void
on_exit_cb (void *ctx, int code, const char *finished, bool oom)
{
  struct session *ss = ctx;
  berth_error_t err = NULL;
  char path[4500];
  /* A foreground run deletes the container right after: nobody reads the record. */
  if (!ss->o->detach)
    return;
  crash_point ("monitor:exited");
  snprintf (path, sizeof path, "%s/exit.json", ss->dir);
  if (state_write_exit_file (path, code, finished, oom, &err) < 0)
    berth_error_report (&err);
}

/* From the clone to the monitor loop. ready_fd gets "OK" or the error for the caller.
 * A monitor in the calling process (o->ready_fd) writes the pid file first: no caller
 * is left to write it. */
static int
supervise (struct session *ss, int ready_fd, int *exit_code, berth_error_t *err)
{
  const struct create_opts *o = ss->o;
  const char *sock = spec_annotation (ss->s.spec, "io.berth.monitor.socket");
  char default_sock[4096];
  int i;

  if (sock == NULL)
    {
      snprintf (default_sock, sizeof default_sock, "%.4000s/attach.sock", ss->dir);
      sock = default_sock;
    }
  snprintf (ss->s.st.socket, sizeof ss->s.st.socket, "%s", sock);
  ss->m.socket_path = ss->s.st.socket;
  ss->m.listen_fd = monitor_listen (sock, err);
  if (ss->m.listen_fd < 0)
    return -1;
  if (ss->pipes && (make_pipes (ss, err) < 0 || open_log (ss, err) < 0))
    return -1;
  ss->s.st.monitor_pid = getpid ();
  ss->s.st.monitor_start = proc_start_time (getpid ());
  if (container_spawn (&ss->s, err) < 0)
    return -1;
  crash_point ("monitor:spawned");
  for (i = 0; i < 3; i++)
    if (ss->s.stdio[i] >= 0)
      close (ss->s.stdio[i]);
  /* run writes its state once, started; create once, waiting for start. */
  if ((o->start && container_start (&ss->s, err) < 0) || state_write (o->root, &ss->s.st, err) < 0)
    {
      container_abort (&ss->s);
      return -1;
    }
  if (ss->s.pty_master >= 0)
    {
      ss->m.tty = true;
      ss->m.out_fd = ss->m.in_fd = ss->s.pty_master;
      if (!o->detach)
        {
          ss->m.relay_in = 0;
          ss->m.relay_out = 1;
        }
    }
  ss->m.child = ss->s.pid;
  ss->m.cg = &ss->s.cg;
  ss->m.stdin_once = annotation_is (ss->s.spec, "io.berth.stdin-once");
  ss->m.on_start = o->start ? NULL : on_start;
  ss->m.on_exit = on_exit_cb;
  ss->m.ctx = ss;
  crash_point ("monitor:state");
  if (o->ready_fd >= 0)
    {
      crash_point ("create:ready");
      if (write_pid_file (o->pid_file, ss->s.pid, err) < 0)
        {
          container_abort (&ss->s);
          return -1;
        }
    }
  if (ready_fd >= 0)
    monitor_ready_ok (ready_fd, ss->s.pid);
  if (o->ready_fd >= 0)
    stdio_to_null (); /* the caller's: until here it carried the errors */
  *exit_code = monitor_run (&ss->m);
  return 0;
}

/* The caller's side of a detached create: wait for the monitor's verdict. */
static int
await_monitor (int fd, const struct create_opts *o, struct session *ss, berth_error_t *err)
{
  static const char died[] = "the container monitor exited unexpectedly";
  pid_t pid;
  if (monitor_await_ready (fd, &pid, died, err) < 0)
    {
      /* A monitor that reported an error cleaned up itself. One that died (kill -9) after
       * the clone leaves the container's process and cgroup behind, with nobody to
       * report them: they go with the state directory. */
      if (strcmp ((*err)->msg, died) == 0)
        container_reap (&ss->s.cg, ss->dir);
      else
        remove_tree (ss->dir);
      return -1;
    }
  crash_point ("create:ready");
  return write_pid_file (o->pid_file, pid, err);
}

static int
prepare_session (struct session *ss, struct spec *spec, berth_error_t *err)
{
  const struct create_opts *o = ss->o;
  char bundle[PATH_MAX], cfg[4500], *text;
  ssize_t len;

  if (state_validate_id (o->id, err) < 0)
    return -1;
  if (realpath (o->bundle ? o->bundle : ".", bundle) == NULL)
    return berth_make_error (err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
  snprintf (cfg, sizeof cfg, "%s/config.json", bundle);
  len = read_file (cfg, &text);
  if (len < 0)
    return errno == ENOENT ? berth_make_error (err, 0, "bundle `%s` has no config.json: pass the directory that holds it "
                                                       "with --bundle", bundle)
                           : berth_make_error (err, errno, "read `%s`", cfg);
  if (spec_parse (text, (size_t) len, bundle, spec, err) < 0)
    return -1;
  ss->s.spec = spec;
  ss->s.root = o->root;
  ss->s.console_fd = -1;
  ss->s.stdio[0] = ss->s.stdio[1] = ss->s.stdio[2] = -1;
  if (cgroup_init (&ss->s.cg, spec->cgroups_path, o->id, err) < 0)
    return -1;
  if (mkdir_p (o->root, 0700) < 0)
    return berth_make_error (err, errno, "create the state root `%s`", o->root);
  state_dir (o->root, o->id, ss->dir, sizeof ss->dir);
  if (mkdir (ss->dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return berth_make_error (err, 0, "container `%s` already exists", o->id);
      return berth_make_error (err, errno, "create `%s`", ss->dir);
    }
  crash_point ("create:dir");
  snprintf (cfg, sizeof cfg, "%s/config.json", ss->dir);
  if (write_file_atomic (cfg, text, (size_t) len, err) < 0)
    {
      remove_tree (ss->dir);
      return -1;
    }
  free (text);
  crash_point ("create:config");
  snprintf (ss->s.st.id, sizeof ss->s.st.id, "%s", o->id);
  snprintf (ss->s.st.bundle, sizeof ss->s.st.bundle, "%s", bundle);
  snprintf (ss->s.st.rootfs, sizeof ss->s.st.rootfs, "%s", spec->root_path);
  snprintf (ss->s.st.cgroups_path, sizeof ss->s.st.cgroups_path, "%s", spec->cgroups_path ? spec->cgroups_path : "");
  ss->s.st.annotations = spec->annotations;
  berth_now_rfc3339 (ss->s.st.created, sizeof ss->s.st.created);
  ss->pipes = wants_pipes (spec, o);
  monitor_init (&ss->m);
  if (spec->process.terminal && o->console_socket)
    {
      ss->s.console_fd = unix_connect (o->console_socket, err);
      if (ss->s.console_fd < 0)
        {
          remove_tree (ss->dir);
          return -1;
        }
    }
  return 0;
}

/* The calling process leaves its caller's session and stdio and becomes the monitor
 * (what the fork below does in a child). Returns only on a failed set-up, with
 * nothing left behind; after the container exits, the monitor exits here. */
static int
monitor_in_process (struct session *ss, berth_error_t *err)
{
  int code = 0;
  setsid ();
  if (chdir ("/") < 0)
    return berth_make_error (err, errno, "chdir /");
  prctl (PR_SET_NAME, "berth-monitor", 0, 0, 0);
  if (!ss->pipes)
    {
      /* The container gets the caller's stdio; the monitor must not hold it. */
      ss->s.stdio[0] = fcntl (0, F_DUPFD_CLOEXEC, 3);
      ss->s.stdio[1] = fcntl (1, F_DUPFD_CLOEXEC, 3);
      ss->s.stdio[2] = fcntl (2, F_DUPFD_CLOEXEC, 3);
    }
  if (supervise (ss, ss->o->ready_fd, &code, err) < 0)
    {
      if (ss->m.listen_fd >= 0)
        unlink (ss->m.socket_path);
      remove_tree (ss->dir);
      return -1;
    }
  _exit (0);
}

int
container_create (const struct create_opts *o, int *exit_code, berth_error_t *err)
{
  static struct session ss;
  static struct spec spec;
  int ready[2];
  pid_t pid;

  *exit_code = 0;
  memset (&ss, 0, sizeof ss);
  ss.o = o;
  if (prepare_session (&ss, &spec, err) < 0)
    return -1;
  if (!o->detach)
    {
      if (supervise (&ss, -1, exit_code, err) < 0)
        {
          if (ss.m.listen_fd >= 0)
            unlink (ss.m.socket_path);
          remove_tree (ss.dir);
          return -1;
        }
      return container_teardown (o->root, o->id, err);
    }
  if (o->ready_fd >= 0)
    return monitor_in_process (&ss, err);
  if (pipe2 (ready, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return berth_make_error (err, errno, "fork the monitor");
  if (pid > 0)
    {
      close (ready[1]);
      if (ss.s.console_fd >= 0)
        close (ss.s.console_fd);
      return await_monitor (ready[0], o, &ss, err);
    }
  close (ready[0]);
  setsid ();
  /* The bundle path is absolute already; cwd would only pin the caller's mount. */
  if (chdir ("/") < 0)
    _exit (1);
  prctl (PR_SET_NAME, "berth-monitor", 0, 0, 0);
  if (ss.pipes)
    stdio_to_null ();
  {
    int code = 0;
    berth_error_t merr = NULL;
    if (!ss.pipes)
      {
        /* The container got the caller's stdio at clone; the monitor must not hold it. */
        ss.s.stdio[0] = fcntl (0, F_DUPFD_CLOEXEC, 3);
        ss.s.stdio[1] = fcntl (1, F_DUPFD_CLOEXEC, 3);
        ss.s.stdio[2] = fcntl (2, F_DUPFD_CLOEXEC, 3);
        stdio_to_null ();
      }
    if (supervise (&ss, ready[1], &code, &merr) < 0)
      {
        if (ss.m.listen_fd >= 0)
          unlink (ss.m.socket_path);
        monitor_ready_error (ready[1], merr->msg);
        _exit (1);
      }
    _exit (0);
  }
}
