#include "monitor.h"
#include "fsutil.h"
#include "jsonw.h"
#include "monproto.h"
#include "terminal.h"
#include "timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64

enum client_kind { C_HEADER, C_ATTACH, C_WAIT };

struct client {
  int fd;
  enum client_kind kind;
  struct monproto_line hdr;
  bool in, out, err, read_closed;
};

#define BACKLOG_MAX (1 << 20)

#define STDIN_HIGH (1 << 20)

struct loop {
  struct monitor *m;
  /* Bytes for the process's stdin not written yet: the monitor never blocks on a
   * process that does not read its stdin (it would stop relaying its output). */
  struct jsonw stdin_buf;
  size_t stdin_off;
  bool stdin_close_pending;
  struct jsonw backlog; /* [stream:1][len:4][data] records, for m->replay */
  bool attached_once;
  struct client clients[MAX_CLIENTS];
  size_t n;
  bool exited;
  int status;
};

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void
signal_set (sigset_t *set)
{
  size_t i;
  sigemptyset (set);
  sigaddset (set, SIGCHLD);
  for (i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
    sigaddset (set, forwarded[i]);
}

void
monitor_block_signals (void)
{
  sigset_t set;
  signal_set (&set);
  sigprocmask (SIG_BLOCK, &set, NULL);
  signal (SIGPIPE, SIG_IGN);
}

void
monitor_unblock_signals (void)
{
  sigset_t set;
  sigemptyset (&set);
  sigprocmask (SIG_SETMASK, &set, NULL);
  signal (SIGPIPE, SIG_DFL);
}

void
monitor_init (struct monitor *m)
{
  memset (m, 0, sizeof *m);
  m->out_fd = m->err_fd = m->in_fd = m->listen_fd = m->relay_in = m->relay_out = -1;
}

int
monitor_listen (const char *path, berth_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;
  if (strlen (path) >= sizeof addr.sun_path)
    return berth_make_error (err, 0, "monitor socket path `%s` is too long (max %zu bytes)", path,
                             sizeof addr.sun_path - 1);
  strcpy (addr.sun_path, path);
  unlink (path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return berth_make_error (err, errno, "socket");
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 64) < 0)
    {
      int e = errno;
      close (fd);
      return berth_make_error (err, e, "listen on `%s`", path);
    }
  chmod (path, 0600);
  return fd;
}

static void
drop_client (struct loop *l, size_t i)
{
  close (l->clients[i].fd);
  l->clients[i] = l->clients[--l->n];
}

static bool
send_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t w = send (fd, p, len, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return false;
      p += w;
      len -= (size_t) w;
    }
  return true;
}

static void
reply (int fd, const char *text)
{
  /* The peer may already be gone: nothing to do about a failed reply. */
  (void) send_all (fd, text, strlen (text));
}

static void
broadcast (struct loop *l, int stream, const char *buf, size_t len)
{
  unsigned char frame[8] = { (unsigned char) stream, 0, 0, 0, (unsigned char) (len >> 24),
                             (unsigned char) (len >> 16), (unsigned char) (len >> 8), (unsigned char) len };
  size_t i = 0;
  while (i < l->n)
    {
      struct client *c = &l->clients[i];
      bool wants = c->kind == C_ATTACH && ((stream == 1 && c->out) || (stream == 2 && c->err));
      if (wants && ((!l->m->tty && !send_all (c->fd, frame, 8)) || !send_all (c->fd, buf, len)))
        {
          drop_client (l, i);
          continue;
        }
      i++;
    }
}

static void
keep_backlog (struct loop *l, int stream, const char *buf, size_t len)
{
  unsigned char hdr[5] = { (unsigned char) stream, (unsigned char) (len >> 24), (unsigned char) (len >> 16),
                           (unsigned char) (len >> 8), (unsigned char) len };
  if (!l->m->replay || l->attached_once || l->backlog.len + len + 5 > BACKLOG_MAX)
    return;
  if (l->backlog.buf == NULL)
    jsonw_init (&l->backlog);
  jsonw_mem (&l->backlog, hdr, 5);
  jsonw_mem (&l->backlog, buf, len);
}

static void
replay_backlog (struct loop *l, struct client *c)
{
  size_t off = 0;
  l->attached_once = true;
  while (l->backlog.buf && off + 5 <= l->backlog.len)
    {
      const unsigned char *h = (const unsigned char *) l->backlog.buf + off;
      size_t len = ((size_t) h[1] << 24) | ((size_t) h[2] << 16) | ((size_t) h[3] << 8) | h[4];
      unsigned char frame[8] = { h[0], 0, 0, 0, h[1], h[2], h[3], h[4] };
      if ((h[0] == 1 && c->out) || (h[0] == 2 && c->err))
        {
          if (!l->m->tty)
            (void) send_all (c->fd, frame, 8);
          (void) send_all (c->fd, h + 5, len);
        }
      off += 5 + len;
    }
  if (l->backlog.buf)
    jsonw_free (&l->backlog);
}

/* Returns false at the end of that stream. */
static bool
pump (struct loop *l, int fd, int stream)
{
  char buf[32768];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0) /* EOF, or EIO from a pty whose last slave closed */
    return false;
  if (l->m->log)
    logfile_write (l->m->log, stream, buf, (size_t) n);
  keep_backlog (l, stream, buf, (size_t) n);
  broadcast (l, stream, buf, (size_t) n);
  if (l->m->relay_out >= 0)
    (void) write_all (l->m->relay_out, buf, (size_t) n);
  return true;
}

static bool
stdin_pending (struct loop *l)
{
  return l->stdin_buf.buf && l->stdin_off < l->stdin_buf.len;
}

static void
close_stdin (struct loop *l)
{
  struct monitor *m = l->m;
  if (m->in_fd < 0 || m->tty)
    return;
  if (stdin_pending (l))
    {
      l->stdin_close_pending = true;
      return;
    }
  close (m->in_fd);
  m->in_fd = -1;
}

static void flush_stdin (struct loop *l);

static void
queue_stdin (struct loop *l, const char *buf, size_t len)
{
  if (l->m->in_fd < 0 || len == 0)
    return;
  if (l->stdin_buf.buf == NULL)
    {
      jsonw_init (&l->stdin_buf);
      fcntl (l->m->in_fd, F_SETFL, fcntl (l->m->in_fd, F_GETFL) | O_NONBLOCK);
    }
  jsonw_mem (&l->stdin_buf, buf, len);
  flush_stdin (l);
}

/* Called when in_fd is writable. */
static void
flush_stdin (struct loop *l)
{
  struct monitor *m = l->m;
  while (stdin_pending (l))
    {
      ssize_t w = write (m->in_fd, l->stdin_buf.buf + l->stdin_off, l->stdin_buf.len - l->stdin_off);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EAGAIN)
        return;
      if (w <= 0)
        {
          /* The reader is gone (EPIPE): what is left can never be delivered. */
          l->stdin_off = l->stdin_buf.len;
          break;
        }
      l->stdin_off += (size_t) w;
    }
  l->stdin_buf.len = 0;
  l->stdin_off = 0;
  if (l->stdin_close_pending)
    {
      l->stdin_close_pending = false;
      close_stdin (l);
    }
}

static void
wait_reply (int fd, int code, const char *finished, bool oom)
{
  struct jsonw w;
  jsonw_init (&w);
  jsonw_fmt (&w, "{\"exitCode\":%d,\"finishedAt\":", code);
  jsonw_str (&w, finished);
  jsonw_fmt (&w, ",\"oomKilled\":%s}\n", oom ? "true" : "false");
  (void) send_all (fd, w.buf, w.len);
  jsonw_free (&w);
}

/* Handles a complete header line; returns false when the client is done. */
static bool
header (struct loop *l, struct client *c, const char *line, const char *rest, size_t rest_len)
{
  struct monitor *m = l->m;
  struct monproto_req req;
  char msg[2048] = "";
  char out[2100];
  if (monproto_parse (line, &req, msg, sizeof msg) < 0)
    {
      snprintf (out, sizeof out, "ERR %s\n", msg);
      reply (c->fd, out);
      return false;
    }
  switch (req.kind)
    {
    case MONPROTO_ATTACH:
      c->kind = C_ATTACH;
      c->in = req.in;
      c->out = req.out;
      c->err = req.err;
      if (m->replay && !l->attached_once)
        replay_backlog (l, c);
      if (c->in)
        queue_stdin (l, rest, rest_len);
      return true;
    case MONPROTO_RESIZE:
      if (!m->tty || m->in_fd < 0)
        reply (c->fd, "ERR the process has no terminal\n");
      else if (terminal_resize (m->in_fd, req.rows, req.cols) < 0)
        reply (c->fd, "ERR resize failed\n");
      else
        reply (c->fd, "OK\n");
      return false;
    case MONPROTO_WAIT:
      c->kind = C_WAIT;
      return true;
    case MONPROTO_START:
      if (m->on_start == NULL)
        reply (c->fd, "ERR the process was started already\n");
      else if (m->on_start (m->ctx, msg, sizeof msg) < 0)
        {
          snprintf (out, sizeof out, "ERR %s\n", msg);
          reply (c->fd, out);
        }
      else
        reply (c->fd, "OK\n");
      m->on_start = NULL;
      return false;
    }
  return false;
}

static bool
client_readable (struct loop *l, struct client *c)
{
  char buf[32768];
  ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return true;
  if (c->kind == C_HEADER)
    {
      size_t used = 0;
      int r;
      if (n <= 0)
        return false;
      r = monproto_feed (&c->hdr, buf, (size_t) n, &used);
      if (r < 0)
        reply (c->fd, "ERR the header line is too long or holds a NUL byte\n");
      if (r <= 0)
        return r == 0;
      /* bytes after the header line in this read are the first stdin bytes */
      return header (l, c, c->hdr.buf, buf + used, (size_t) n - used);
    }
  if (n <= 0)
    {
      if (c->kind == C_WAIT)
        return false;
      c->read_closed = true;
      if (c->in && l->m->stdin_once)
        close_stdin (l);
      return true;
    }
  if (c->kind == C_ATTACH && c->in)
    queue_stdin (l, buf, (size_t) n);
  return true;
}

static void
accept_clients (struct loop *l)
{
  int fd;
  while ((fd = accept4 (l->m->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
    {
      struct timeval tv = { .tv_sec = 10 };
      if (l->n == MAX_CLIENTS)
        {
          close (fd);
          continue;
        }
      /* A client that stops reading for 10 s is dropped rather than stalling the process. */
      setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      memset (&l->clients[l->n], 0, sizeof l->clients[l->n]);
      l->clients[l->n].fd = fd;
      l->clients[l->n].kind = C_HEADER;
      l->n++;
    }
}

static void
handle_signal (struct loop *l, int sfd)
{
  struct signalfd_siginfo si;
  struct monitor *m = l->m;
  while (read (sfd, &si, sizeof si) == sizeof si)
    {
      if (si.ssi_signo == SIGCHLD)
        {
          int st;
          pid_t p;
          while ((p = waitpid (-1, &st, WNOHANG)) > 0)
            if (p == m->child)
              {
                l->exited = true;
                l->status = st;
              }
          continue;
        }
      if (si.ssi_signo == SIGWINCH && m->tty && m->relay_in >= 0 && m->in_fd >= 0)
        {
          struct winsize ws;
          if (ioctl (m->relay_in, TIOCGWINSZ, &ws) == 0)
            ioctl (m->in_fd, TIOCSWINSZ, &ws);
          continue;
        }
      if (si.ssi_signo != SIGWINCH)
        kill (m->child, (int) si.ssi_signo);
    }
}

static void
drain (struct loop *l)
{
  struct monitor *m = l->m;
  int *fds[2] = { &m->out_fd, &m->err_fd };
  int s;
  for (s = 0; s < 2; s++)
    {
      if (*fds[s] < 0)
        continue;
      /* Output still buffered is read; a writer that outlived the process is not waited for. */
      fcntl (*fds[s], F_SETFL, fcntl (*fds[s], F_GETFL) | O_NONBLOCK);
      for (;;)
        {
          struct pollfd p = { .fd = *fds[s], .events = POLLIN };
          if (poll (&p, 1, 0) <= 0 || !pump (l, *fds[s], s + 1))
            break;
        }
    }
}

static long long
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* See monitor.replay: give the first ATTACH a chance to collect the output. */
static void
linger_for_attach (struct loop *l, int code, const char *finished, bool oom)
{
  long long deadline = now_ms () + 2000;
  struct pollfd pfds[MAX_CLIENTS + 1];
  size_t i, n;
  while (!l->attached_once && now_ms () < deadline)
    {
      n = 0;
      pfds[n++] = (struct pollfd) { .fd = l->m->listen_fd, .events = POLLIN };
      for (i = 0; i < l->n; i++)
        pfds[n++] = (struct pollfd) { .fd = l->clients[i].kind == C_HEADER ? l->clients[i].fd : -1, .events = POLLIN };
      if (poll (pfds, n, (int) (deadline - now_ms ())) <= 0)
        break;
      for (i = l->n; i > 0; i--)
        if (pfds[i].revents && pfds[i].fd == l->clients[i - 1].fd && !client_readable (l, &l->clients[i - 1]))
          drop_client (l, i - 1);
      if (pfds[0].revents)
        accept_clients (l);
      for (i = l->n; i > 0; i--)
        if (l->clients[i - 1].kind == C_WAIT)
          {
            wait_reply (l->clients[i - 1].fd, code, finished, oom);
            drop_client (l, i - 1);
          }
    }
}

/* Connections that arrived as the process exited still get their answer. */

static void
answer_waits (struct loop *l, int code, const char *finished, bool oom)
{
  size_t i = 0;
  while (i < l->n)
    {
      struct client *c = &l->clients[i];
      if (c->kind == C_HEADER)
        {
          struct pollfd p = { .fd = c->fd, .events = POLLIN };
          if (poll (&p, 1, 100) > 0 && !client_readable (l, c))
            {
              drop_client (l, i);
              continue;
            }
        }
      if (c->kind == C_WAIT)
        {
          wait_reply (c->fd, code, finished, oom);
          drop_client (l, i);
          continue;
        }
      i++;
    }
}

/* Connections that arrived as the process exited still get their answer. WAIT is
 * answered at once; a first ATTACH may still come for the replay (monitor.replay). */
static void
late_clients (struct loop *l, int code, const char *finished, bool oom)
{
  if (l->m->listen_fd >= 0)
    accept_clients (l);
  answer_waits (l, code, finished, oom);
  if (l->m->replay && l->m->listen_fd >= 0 && l->backlog.len > 0)
    linger_for_attach (l, code, finished, oom);
  if (l->m->listen_fd >= 0)
    accept_clients (l);
  answer_waits (l, code, finished, oom);
  while (l->n)
    drop_client (l, 0);
}

int
monitor_run (struct monitor *m)
{
  struct loop l = { .m = m };
  struct pollfd pfds[MAX_CLIENTS + 8];
  bool full;
  sigset_t set;
  char finished[64];
  struct termios saved;
  int sfd, code, raw_fd = -1;
  bool oom;
  size_t i;

  /* Relaying a pty to the caller's terminal: keystrokes go through unchanged. */
  if (m->tty && m->relay_in >= 0 && isatty (m->relay_in) && terminal_set_raw (m->relay_in, &saved) == 0)
    raw_fd = m->relay_in;
  signal_set (&set);
  sfd = signalfd (-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  /* The child may have exited before the signalfd existed. */
  {
    int st;
    if (waitpid (m->child, &st, WNOHANG) == m->child)
      {
        l.exited = true;
        l.status = st;
      }
  }
  while (!l.exited)
    {
      size_t n = 0, base;
      pfds[n++] = (struct pollfd) { .fd = sfd, .events = POLLIN };
      pfds[n++] = (struct pollfd) { .fd = m->listen_fd, .events = POLLIN };
      pfds[n++] = (struct pollfd) { .fd = m->out_fd, .events = POLLIN };
      pfds[n++] = (struct pollfd) { .fd = m->err_fd, .events = POLLIN };
      full = stdin_pending (&l) && l.stdin_buf.len - l.stdin_off > STDIN_HIGH;
      pfds[n++] = (struct pollfd) { .fd = full ? -1 : m->relay_in, .events = POLLIN };
      pfds[n++] = (struct pollfd) { .fd = stdin_pending (&l) ? m->in_fd : -1, .events = POLLOUT };
      base = n;
      /* While stdin is backed up, writers of stdin wait in their socket buffers. */
      for (i = 0; i < l.n; i++)
        pfds[n++] = (struct pollfd) { .fd = l.clients[i].read_closed || (full && l.clients[i].in) ? -1 : l.clients[i].fd,
                                      .events = POLLIN };
      if (poll (pfds, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pfds[0].revents)
        handle_signal (&l, sfd);
      if (pfds[2].revents && !pump (&l, m->out_fd, 1))
        {
          if (!m->tty)
            close (m->out_fd);
          m->out_fd = -1;
        }
      if (pfds[3].revents && !pump (&l, m->err_fd, 2))
        {
          close (m->err_fd);
          m->err_fd = -1;
        }
      if (pfds[5].revents)
        flush_stdin (&l);
      if (pfds[4].revents)
        {
          char buf[4096];
          ssize_t r = read (m->relay_in, buf, sizeof buf);
          if (r > 0)
            queue_stdin (&l, buf, (size_t) r);
          else if (r <= 0)
            m->relay_in = -1;
        }
      /* Clients are handled from the last so that dropping one keeps indexes valid. */
      for (i = l.n; i > 0; i--)
        {
          size_t k = i - 1;
          if (base + k < n && pfds[base + k].revents && pfds[base + k].fd == l.clients[k].fd
              && !client_readable (&l, &l.clients[k]))
            drop_client (&l, k);
        }
      if (pfds[1].revents)
        accept_clients (&l);
    }

  drain (&l);
  if (m->log)
    logfile_flush (m->log);
  code = WIFEXITED (l.status) ? WEXITSTATUS (l.status) : 128 + WTERMSIG (l.status);
  oom = m->cg ? cgroup_oom_killed (m->cg) : false;
  berth_now_rfc3339 (finished, sizeof finished);
  if (m->on_exit)
    m->on_exit (m->ctx, code, finished, oom);
  late_clients (&l, code, finished, oom);
  if (m->listen_fd >= 0)
    {
      close (m->listen_fd);
      unlink (m->socket_path);
    }
  if (l.stdin_buf.buf)
    jsonw_free (&l.stdin_buf);
  close (sfd);
  if (raw_fd >= 0)
    tcsetattr (raw_fd, TCSANOW, &saved);
  return code;
}

void
monitor_ready_ok (int fd, pid_t pid)
{
  char msg[64];
  snprintf (msg, sizeof msg, "OK %d\n", (int) pid);
  (void) write_all (fd, msg, strlen (msg));
  close (fd);
}

void
monitor_ready_error (int fd, const char *msg)
{
  char line[4200];
  snprintf (line, sizeof line, "ERR %s\n", msg);
  (void) write_all (fd, line, strlen (line));
  close (fd);
}

int
monitor_await_ready (int fd, pid_t *pid, const char *died, berth_error_t *err)
{
  char buf[4200];
  size_t len = 0;
  ssize_t n;
  char *nl;
  while (len < sizeof buf - 1 && (n = read (fd, buf + len, sizeof buf - 1 - len)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      len += (size_t) n;
      if (memchr (buf, '\n', len))
        break;
    }
  buf[len] = '\0';
  close (fd);
  if (strncmp (buf, "OK ", 3) == 0)
    {
      *pid = (pid_t) atoi (buf + 3);
      return 0;
    }
  if (strncmp (buf, "ERR ", 4) != 0)
    return berth_make_error (err, 0, "%s", died);
  if ((nl = strchr (buf, '\n')) != NULL)
    *nl = '\0';
  return berth_make_error (err, 0, "%s", buf + 4);
}
