/* `berth-runtime helper`: the engine's process and mount helper. berthd forks once for
 * it and sends it requests instead of forking itself (a fork of the engine blocks its
 * event loop for milliseconds) or a shell (two forks a command). One JSON object a
 * line on stdin; "ID STATUS" a line on stdout when a request is done, in any order:
 *
 *   {"id":N,"op":"exec","argv":[...],"out":PATH,"err":PATH[,"in":TEXT]}
 *       runs argv (PATH searched), stdout/stderr to the files, stdin TEXT or /dev/null;
 *       STATUS is its exit status (128+signal when killed, 127 when it cannot start).
 *       The stderr file of a command that exits 0 is removed: callers want it for errors.
 *   {"id":N,"op":"runtime","argv":[...],"out":PATH,"err":PATH}
 *       this runtime's own command line (argv without the program: global options, verb,
 *       its arguments) in a fork of the helper instead of an exec of the binary: no
 *       exec, no re-exec into the sealed view (the helper runs from it already, so its
 *       forks are as safe as a re-executed create). STATUS and files as for exec, but
 *       for a detached create or run (`create`, `run --detach`) the fork becomes the
 *       container's monitor: STATUS 0 comes when it reports the container ready, not
 *       at its exit (an error is still its exit status and stderr).
 *   {"id":N,"op":"mount","type":T,"source":S,"target":P,"data":D[,"bind":true][,"ro":true]}
 *       mounts unless P is a mount point already (0).
 *   {"id":N,"op":"umount","target":P}    lazy unmount; not mounted is 0.
 *   {"id":N,"op":"netns","path":P}       a new network namespace with lo up, bound at P.
 *   {"id":N,"op":"netns-rm","path":P}    unbinds and removes P.
 *   {"id":N,"op":"rm","path":P}          removes the tree at P (rm -rf), never descending
 *       into another filesystem (a mount point inside is an error, left in place).
 *
 * Built-in ops write their error message to "err" and answer 1. The helper exits at
 * EOF on stdin; commands still running are left to finish on their own. */
#include "cli.h"
#include "json.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/prctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct child {
  pid_t pid;
  long long id;
  char *err;    /* removed after a 0 exit (NULL: none) */
  int ready_fd; /* a runtime fork's "OK PID" line when it became a monitor (-1: none) */
  struct child *next;
};

static struct child *children;
static sigset_t default_mask;
static const char *self_argv0; /* the program name the helper was started with */

static int
answer (long long id, int status)
{
  dprintf (STDOUT_FILENO, "%lld %d\n", id, status);
  return 0;
}

static void
report (const char *errpath, const char *fmt, const char *what, int errnum)
{
  if (errpath && strcmp (errpath, "/dev/null") != 0)
    {
      int fd = open (errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd >= 0)
        {
          dprintf (fd, fmt, what);
          if (errnum)
            dprintf (fd, ": %s", strerror (errnum));
          dprintf (fd, "\n");
          close (fd);
        }
    }
}

static int
fail (long long id, const char *errpath, const char *fmt, const char *what, int errnum)
{
  report (errpath, fmt, what, errnum);
  return answer (id, 1);
}

static void
track (pid_t pid, long long id, const char *err, int ready_fd)
{
  struct child *c = malloc (sizeof *c);
  if (c == NULL)
    {
      answer (id, -1);
      return;
    }
  c->pid = pid;
  c->id = id;
  c->err = err && strcmp (err, "/dev/null") != 0 ? strdup (err) : NULL;
  c->ready_fd = ready_fd;
  c->next = children;
  children = c;
}

static void
reap (void)
{
  int status;
  pid_t pid;
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    {
      struct child **p;
      for (p = &children; *p; p = &(*p)->next)
        if ((*p)->pid == pid)
          {
            struct child *c = *p;
            int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
            *p = c->next;
            if (code == 0 && c->err)
              unlink (c->err);
            answer (c->id, code);
            if (c->ready_fd >= 0)
              close (c->ready_fd);
            free (c->err);
            free (c);
            break;
          }
    }
}

/* A monitor's ready line answers for its fork, which stays the helper's child until
 * its container exits (reaped then, unanswered). EOF without it: the fork failed or
 * was no monitor; its exit answers. */
static void
read_ready (struct child **p)
{
  struct child *c = *p;
  char buf[64];
  ssize_t n = read (c->ready_fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  close (c->ready_fd);
  c->ready_fd = -1;
  if (n < 3 || memcmp (buf, "OK ", 3) != 0)
    return;
  if (c->err)
    unlink (c->err);
  answer (c->id, 0);
  *p = c->next;
  free (c->err);
  free (c);
}

static int
input_fd (const char *text)
{
  int fd;
  size_t len = strlen (text), off = 0;
  if (len == 0)
    return open ("/dev/null", O_RDONLY | O_CLOEXEC);
  fd = memfd_create ("berth-helper-stdin", MFD_CLOEXEC);
  if (fd < 0)
    return -1;
  while (off < len)
    {
      ssize_t n = write (fd, text + off, len - off);
      if (n < 0)
        {
          close (fd);
          return -1;
        }
      off += (size_t) n;
    }
  lseek (fd, 0, SEEK_SET);
  return fd;
}

static int
op_exec (long long id, const json_t *req, const char *out, const char *errpath)
{
  const json_t *argv = json_get (req, "argv");
  const char *in = json_string (json_get (req, "in"));
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  char **args;
  size_t i;
  pid_t pid;
  int infd, rc;

  if (!json_is (argv, JSON_ARRAY) || argv->n == 0)
    return fail (id, errpath, "helper: %s", "exec without argv", 0);
  args = calloc (argv->n + 1, sizeof *args);
  if (args == NULL)
    return fail (id, errpath, "helper: %s", "out of memory", ENOMEM);
  for (i = 0; i < argv->n; i++)
    if ((args[i] = (char *) json_string (argv->items[i])) == NULL)
      {
        free (args);
        return fail (id, errpath, "helper: %s", "argv must be strings", 0);
      }
  infd = input_fd (in ? in : "");
  if (infd < 0)
    {
      free (args);
      return fail (id, errpath, "helper: %s", "stdin for the command", errno);
    }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, infd, STDIN_FILENO);
  posix_spawn_file_actions_addopen (&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen (&fa, STDERR_FILENO, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setsigmask (&attr, &default_mask);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK);
  rc = posix_spawnp (&pid, args[0], &fa, &attr, args, environ);
  posix_spawnattr_destroy (&attr);
  posix_spawn_file_actions_destroy (&fa);
  close (infd);
  if (rc != 0)
    {
      /* As a shell says it: 127, the command could not be run. */
      report (errpath, "%s", args[0], rc);
      answer (id, 127);
      free (args);
      return 0;
    }
  free (args);
  track (pid, id, errpath, -1);
  return 0;
}

/* A forked verb shows its own command line in ps and /proc/PID/cmdline (a monitor it
 * forks keeps it, naming its container), not the helper's. PR_SET_MM_MAP with the
 * exe and auxv left alone needs no capability (PR_SET_MM_ARG_START needs
 * CAP_SYS_RESOURCE); every other field must be given as it is, from /proc/self/stat.
 * Best effort: the names only serve whoever looks. */
static void
set_cmdline (char **args, size_t n)
{
  struct prctl_mm_map m;
  unsigned long f[52] = { 0 };
  char stat[2048], *p, *end;
  size_t len = 0, i;
  ssize_t got;
  char *buf;
  int fd = open ("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  got = read (fd, stat, sizeof stat - 1);
  close (fd);
  if (got <= 0 || (stat[got] = '\0', p = strrchr (stat, ')')) == NULL)
    return;
  /* Fields from 3 (the state, after the command name) on. */
  for (p += 2, i = 3; i < 52 && *p; i++)
    {
      f[i] = strtoul (p, &end, 10);
      p = *end ? end + 1 : end;
    }
  if (i < 52)
    return;
  for (i = 0; i < n; i++)
    len += strlen (args[i]) + 1;
  if ((buf = malloc (len)) == NULL)
    return;
  for (p = buf, i = 0; i < n; i++)
    p = stpcpy (p, args[i]) + 1;
  memset (&m, 0, sizeof m);
  m.start_code = f[26];
  m.end_code = f[27];
  m.start_stack = f[28];
  m.start_data = f[45];
  m.end_data = f[46];
  m.start_brk = f[47];
  m.brk = (unsigned long) sbrk (0);
  m.arg_start = (unsigned long) buf;
  m.arg_end = (unsigned long) buf + len;
  m.env_start = f[50];
  m.env_end = f[51];
  m.exe_fd = (__u32) -1;
  if (prctl (PR_SET_MM, PR_SET_MM_MAP, &m, sizeof m, 0) != 0)
    free (buf);
}

/* In the fork: stdio as op_exec gives a command, none of the helper's descriptors
 * but keep, which becomes descriptor 3 (close-on-exec) when >= 0. */
static int
child_stdio (const char *out, const char *errpath, int keep)
{
  int in = open ("/dev/null", O_RDONLY | O_CLOEXEC), o = open (out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
      e = open (errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  unsigned first = keep >= 0 ? 4U : 3U;
  if (in < 0 || o < 0 || e < 0 || dup2 (in, 0) < 0 || dup2 (o, 1) < 0 || dup2 (e, 2) < 0)
    return -1;
  if (keep >= 0 && (dup3 (keep, 3, O_CLOEXEC) < 0 && keep != 3))
    return -1;
  /* Kernels before 5.11 lack close_range: the verbs mark the rest close-on-exec. */
  if (syscall (SYS_close_range, first, ~0U, 0) != 0)
    for (int fd = (int) first; fd < 1024; fd++)
      close (fd);
  return 0;
}

static int
op_runtime (long long id, const json_t *req, const char *out, const char *errpath)
{
  const json_t *argv = json_get (req, "argv");
  char **args;
  size_t i;
  pid_t pid;
  int code, ready[2];

  if (!json_is (argv, JSON_ARRAY) || argv->n == 0)
    return fail (id, errpath, "helper: %s", "runtime without argv", 0);
  args = calloc (argv->n + 2, sizeof *args);
  if (args == NULL)
    return fail (id, errpath, "helper: %s", "out of memory", ENOMEM);
  args[0] = (char *) self_argv0;
  for (i = 0; i < argv->n; i++)
    if ((args[i + 1] = (char *) json_string (argv->items[i])) == NULL)
      {
        free (args);
        return fail (id, errpath, "helper: %s", "argv must be strings", 0);
      }
  if (pipe2 (ready, O_CLOEXEC) < 0)
    {
      free (args);
      return fail (id, errpath, "pipe for %s", "a runtime command", errno);
    }
  pid = fork ();
  if (pid < 0)
    {
      close (ready[0]);
      close (ready[1]);
      free (args);
      return fail (id, errpath, "fork for %s", "a runtime command", errno);
    }
  if (pid == 0)
    {
      sigprocmask (SIG_SETMASK, &default_mask, NULL);
      if (child_stdio (out, errpath, ready[1]) < 0)
        _exit (127);
      cli_ready_fd = 3;
      set_cmdline (args, argv->n + 1);
      code = runtime_main ((int) argv->n + 1, args);
      fflush (NULL);
      _exit (code);
    }
  free (args);
  close (ready[1]);
  fcntl (ready[0], F_SETFL, O_NONBLOCK);
  track (pid, id, errpath, ready[0]);
  return 0;
}

static bool
is_mount_point (const char *path)
{
  struct statx stx;
  if (statx (AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0)
    return false;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int
op_mount (long long id, const json_t *req, const char *errpath)
{
  const char *type = json_string (json_get (req, "type"));
  const char *source = json_string (json_get (req, "source"));
  const char *target = json_string (json_get (req, "target"));
  const char *data = json_string (json_get (req, "data"));
  const json_t *bind = json_get (req, "bind"), *ro = json_get (req, "ro");
  bool is_bind = json_is (bind, JSON_BOOL) && bind->boolean, is_ro = json_is (ro, JSON_BOOL) && ro->boolean;

  if (source == NULL || target == NULL)
    return fail (id, errpath, "helper: %s", "mount needs source and target", 0);
  if (is_mount_point (target))
    return answer (id, 0);
  if (is_bind)
    {
      if (mount (source, target, NULL, MS_BIND, NULL) != 0)
        return fail (id, errpath, "mount --bind %s", source, errno);
      if (is_ro && mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0)
        {
          int e = errno;
          umount2 (target, MNT_DETACH);
          return fail (id, errpath, "remount read-only %s", target, e);
        }
      return answer (id, 0);
    }
  if (mount (source, target, type, is_ro ? MS_RDONLY : 0, data) != 0)
    return fail (id, errpath, "mount %s", target, errno);
  return answer (id, 0);
}

static int
op_umount (long long id, const char *target, const char *errpath)
{
  if (target == NULL)
    return fail (id, errpath, "helper: %s", "umount needs a target", 0);
  if (umount2 (target, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return fail (id, errpath, "umount %s", target, errno);
  return answer (id, 0);
}

/* In a child: the namespace is the child's, its bind mount the helper's mount namespace's. */
static int
op_netns (long long id, const char *path, const char *errpath)
{
  pid_t pid;
  int fd;
  if (path == NULL)
    return fail (id, errpath, "helper: %s", "netns needs a path", 0);
  fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
  if (fd < 0)
    return fail (id, errpath, "create %s", path, errno);
  close (fd);
  pid = fork ();
  if (pid < 0)
    return fail (id, errpath, "fork for %s", path, errno);
  if (pid == 0)
    {
      struct ifreq ifr = { 0 };
      int s;
      if (unshare (CLONE_NEWNET) != 0)
        {
          fail (id, errpath, "unshare a network namespace for %s", path, errno);
          _exit (1);
        }
      s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      strcpy (ifr.ifr_name, "lo");
      if (s < 0 || ioctl (s, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags |= IFF_UP, ioctl (s, SIOCSIFFLAGS, &ifr)) != 0)
        {
          fail (id, errpath, "bring lo up in %s", path, errno);
          _exit (1);
        }
      if (mount ("/proc/self/ns/net", path, NULL, MS_BIND, NULL) != 0)
        {
          fail (id, errpath, "bind the network namespace at %s", path, errno);
          _exit (1);
        }
      _exit (0);
    }
  track (pid, id, errpath, -1);
  return 0;
}

static int
op_netns_rm (long long id, const char *path, const char *errpath)
{
  if (path == NULL)
    return fail (id, errpath, "helper: %s", "netns-rm needs a path", 0);
  if (umount2 (path, MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
    return fail (id, errpath, "umount %s", path, errno);
  if (unlink (path) != 0 && errno != ENOENT)
    return fail (id, errpath, "remove %s", path, errno);
  return answer (id, 0);
}

/* 0, or -1 with errno set (EBUSY: a mount point inside); goes on past errors. */
static int
rm_tree_at (int parent, const char *name, dev_t dev)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = 0;
  struct stat st;
  struct dirent *de;
  DIR *d;
  if (fd < 0)
    {
      if (errno != ENOTDIR && errno != ELOOP)
        return errno == ENOENT ? 0 : -1;
      return unlinkat (parent, name, 0) < 0 && errno != ENOENT ? -1 : 0;
    }
  if (fstat (fd, &st) != 0 || st.st_dev != dev)
    {
      close (fd);
      errno = EBUSY;
      return -1;
    }
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  while ((de = readdir (d)) != NULL)
    {
      int r;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
        r = rm_tree_at (dirfd (d), de->d_name, dev);
      else
        r = unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT ? -1 : 0;
      if (r < 0 && e == 0)
        e = errno;
    }
  closedir (d);
  if (e != 0)
    {
      errno = e;
      return -1;
    }
  return unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

static int
op_rm (long long id, const char *path, const char *errpath)
{
  struct stat st;
  if (path == NULL || path[0] != '/' || strcmp (path, "/") == 0)
    return fail (id, errpath, "helper: rm of %s: give an absolute path below /", path ? path : "(none)", 0);
  if (lstat (path, &st) != 0)
    return errno == ENOENT ? answer (id, 0) : fail (id, errpath, "remove %s", path, errno);
  if (!S_ISDIR (st.st_mode))
    return unlink (path) != 0 && errno != ENOENT ? fail (id, errpath, "remove %s", path, errno) : answer (id, 0);
  if (rm_tree_at (AT_FDCWD, path, st.st_dev) != 0)
    return fail (id, errpath, errno == EBUSY ? "remove %s (a mount point inside)" : "remove %s", path, errno);
  return answer (id, 0);
}

static void
handle (const char *line, size_t len)
{
  char msg[256];
  json_t *req = json_parse (line, len, msg, sizeof msg);
  const char *op, *out, *errpath;
  long long id;
  int64_t n;
  if (req == NULL || !json_int64 (json_get (req, "id"), &n))
    {
      fprintf (stderr, "berth-runtime helper: a request that is not {\"id\":N,...}: %s\n", req ? "no id" : msg);
      return;
    }
  id = (long long) n;
  op = json_string (json_get (req, "op"));
  out = json_string (json_get (req, "out"));
  errpath = json_string (json_get (req, "err"));
  if (out == NULL)
    out = "/dev/null";
  if (errpath == NULL)
    errpath = "/dev/null";
  if (op == NULL)
    fail (id, errpath, "helper: %s", "request without op", 0);
  else if (strcmp (op, "exec") == 0)
    op_exec (id, req, out, errpath);
  else if (strcmp (op, "runtime") == 0)
    op_runtime (id, req, out, errpath);
  else if (strcmp (op, "mount") == 0)
    op_mount (id, req, errpath);
  else if (strcmp (op, "umount") == 0)
    op_umount (id, json_string (json_get (req, "target")), errpath);
  else if (strcmp (op, "netns") == 0)
    op_netns (id, json_string (json_get (req, "path")), errpath);
  else if (strcmp (op, "rm") == 0)
    op_rm (id, json_string (json_get (req, "path")), errpath);
  else if (strcmp (op, "netns-rm") == 0)
    op_netns_rm (id, json_string (json_get (req, "path")), errpath);
  else
    fail (id, errpath, "helper: unknown op %s", op, 0);
  json_free (req);
}

int
cmd_helper (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc (cap);
  sigset_t chld;
  struct pollfd *fds = calloc (2, sizeof *fds);
  size_t nfds_cap = 2;
  (void) g;
  self_argv0 = program_invocation_name;
  if (buf == NULL || fds == NULL)
    return berth_make_error (err, ENOMEM, "helper buffer");
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, &default_mask);
  fds[0].fd = STDIN_FILENO;
  fds[0].events = POLLIN;
  fds[1].fd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  fds[1].events = POLLIN;
  if (fds[1].fd < 0)
    return berth_make_error (err, errno, "signalfd for SIGCHLD");
  setvbuf (stdout, NULL, _IONBF, 0);
  for (;;)
    {
      size_t nfds = 2, i;
      struct child *c, **p;
      for (c = children; c; c = c->next)
        nfds += c->ready_fd >= 0;
      if (nfds > nfds_cap)
        {
          struct pollfd *more = realloc (fds, nfds * sizeof *fds);
          if (more == NULL)
            return berth_make_error (err, ENOMEM, "helper poll set");
          fds = more;
          nfds_cap = nfds;
        }
      for (i = 2, c = children; c; c = c->next)
        if (c->ready_fd >= 0)
          fds[i++] = (struct pollfd) { .fd = c->ready_fd, .events = POLLIN };
      if (poll (fds, nfds, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return berth_make_error (err, errno, "poll");
        }
      /* Ready lines before exits: a container may be gone by the time both are seen. */
      for (i = 2, p = &children; *p;)
        {
          c = *p;
          if (c->ready_fd >= 0 && fds[i++].revents)
            {
              read_ready (p);
              if (*p != c)
                continue;
            }
          p = &c->next;
        }
      if (fds[1].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (fds[1].fd, &si, sizeof si) == sizeof si)
            ;
          reap ();
        }
      if (fds[0].revents & (POLLIN | POLLHUP))
        {
          ssize_t n;
          char *nl;
          if (len == cap)
            {
              char *bigger = realloc (buf, cap * 2);
              if (bigger == NULL)
                return berth_make_error (err, ENOMEM, "helper buffer");
              buf = bigger;
              cap *= 2;
            }
          n = read (STDIN_FILENO, buf + len, cap - len);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            return 0;
          len += (size_t) n;
          while ((nl = memchr (buf, '\n', len)) != NULL)
            {
              size_t used = (size_t) (nl - buf) + 1;
              handle (buf, used - 1);
              memmove (buf, buf + used, len - used);
              len -= used;
            }
        }
    }
}
