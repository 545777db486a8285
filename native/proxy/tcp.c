/* TCP: each accepted connection gets a connection to the container and two pipes,
 * one per direction; splice(2) moves bytes socket -> pipe -> socket. Epoll is
 * edge-triggered: an event marks its socket readable and/or writable, and every
 * event pumps both directions until nothing moves; a socket is marked not
 * readable (writable) only when it said EAGAIN, so a wakeup is never lost and no
 * splice is tried that is known to fail. A half-close is passed on once the pipe
 * of its direction is drained (shutdown SHUT_WR), as docker-proxy does. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "proxy.h"

/* Bytes asked of one splice: more than a pipe holds, the pipe bounds it. */
#define SPLICE_LEN (1 << 20)
#define POOLED_PIPES 64
/* A pipe that fills up at the default size (a bulk transfer) is grown to the
 * largest size an unprivileged process may ask for by default (fs.pipe-max-size):
 * fewer splice calls per byte. Short exchanges keep the default, so the nobody
 * user's pipe budget (fs.pipe-user-pages-soft) goes to connections that move data. */
#define PIPE_DEFAULT (64 << 10)
#define PIPE_BULK (1 << 20)

struct pipe_buf
{
  int r, w;
  size_t len; /* bytes in the pipe */
  bool grown;
};

struct direction
{
  struct pipe_buf pipe;
  bool eof;  /* the source said EOF */
  bool shut; /* ... and the destination has been shut for writing */
};

struct ready
{
  bool rd, wr;
};

struct tcp_conn
{
  struct proxy_ev client_ev, upstream_ev;
  int client, upstream;
  bool connecting, dead;
  struct ready client_ready, upstream_ready;
  struct direction up, down; /* client -> container, container -> client */
  struct tcp_conn *next_dead;
};

static struct tcp_conn *dead;
/* Empty pipes of closed connections, reused: two pipe2 calls less per connection. */
static struct pipe_buf pool[POOLED_PIPES];
static int pooled;

static int
pipe_get (struct pipe_buf *p)
{
  int fds[2];

  if (pooled)
    {
      *p = pool[--pooled];
      return 0;
    }
  if (pipe2 (fds, O_NONBLOCK | O_CLOEXEC) < 0)
    return -1;
  p->r = fds[0];
  p->w = fds[1];
  p->len = 0;
  p->grown = false;
  return 0;
}

static void
pipe_put (struct pipe_buf *p)
{
  if (p->r < 0)
    return;
  if (p->len == 0 && pooled < POOLED_PIPES)
    pool[pooled++] = *p;
  else
    {
      close (p->r);
      close (p->w);
    }
  p->r = p->w = -1;
}

static void
conn_close (struct tcp_conn *c)
{
  if (c->dead)
    return;
  c->dead = true;
  /* closing a socket takes it out of the epoll set */
  close (c->client);
  if (c->upstream >= 0)
    close (c->upstream);
  pipe_put (&c->up.pipe);
  pipe_put (&c->down.pipe);
  c->next_dead = dead;
  dead = c;
}

void
tcp_reap (void)
{
  while (dead)
    {
      struct tcp_conn *c = dead;
      dead = c->next_dead;
      free (c);
    }
}

/* Moves what can move from src to dst; 0, or -1 when the connection is broken. */
static int
pump (int src, struct ready *src_ready, int dst, struct ready *dst_ready, struct direction *d)
{
  for (;;)
    {
      bool moved = false;
      ssize_t n;

      if (!d->eof && src_ready->rd)
        {
          bool empty = d->pipe.len == 0;
          n = splice (src, NULL, d->pipe.w, NULL, SPLICE_LEN, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n > 0)
            {
              d->pipe.len += n;
              if (!d->pipe.grown && d->pipe.len >= PIPE_DEFAULT)
                {
                  /* over the user's budget the pipe stays as it is: slower, no less correct */
                  (void) fcntl (d->pipe.w, F_SETPIPE_SZ, PIPE_BULK);
                  d->pipe.grown = true;
                }
            }
          else if (n == 0)
            d->eof = true;
          else if (errno == EAGAIN)
            {
              /* with data in the pipe, EAGAIN may mean the pipe is full, not the socket empty */
              if (empty)
                src_ready->rd = false;
            }
          else if (errno != EINTR)
            return -1;
          moved = n >= 0;
        }
      if (d->pipe.len > 0 && dst_ready->wr)
        {
          n = splice (d->pipe.r, NULL, dst, NULL, d->pipe.len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n > 0)
            {
              d->pipe.len -= n;
              moved = true;
            }
          else if (n < 0 && errno == EAGAIN)
            dst_ready->wr = false;
          else if (n < 0 && errno != EINTR)
            return -1;
        }
      if (d->eof && d->pipe.len == 0 && !d->shut)
        {
          /* ENOTCONN when the peer is gone already: the other direction will say so */
          (void) shutdown (dst, SHUT_WR);
          d->shut = true;
        }
      if (!moved)
        return 0;
    }
}

static void
conn_pump (struct tcp_conn *c)
{
  if (pump (c->client, &c->client_ready, c->upstream, &c->upstream_ready, &c->up) < 0
      || pump (c->upstream, &c->upstream_ready, c->client, &c->client_ready, &c->down) < 0
      || (c->up.shut && c->down.shut))
    conn_close (c);
}

static void
nodelay (int fd)
{
  int one = 1;
  /* No Nagle on either leg (as docker-proxy): a reply written in pieces would
   * otherwise wait for the peer's delayed ACK at each hop. */
  (void) setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* a speed matter only */
}

static int
watch (int epfd, int fd, struct proxy_ev *ev)
{
  struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = ev };
  return epoll_ctl (epfd, EPOLL_CTL_ADD, fd, &e);
}

static void
conn_open (int epfd, int client, const struct proxy_target *target)
{
  struct tcp_conn *c = calloc (1, sizeof *c);

  if (!c)
    {
      close (client);
      return;
    }
  c->client_ev.kind = EV_TCP_CLIENT;
  c->upstream_ev.kind = EV_TCP_UPSTREAM;
  c->client = client;
  /* unknown yet: try each once */
  c->client_ready = c->upstream_ready = (struct ready) { true, true };
  c->up.pipe.r = c->up.pipe.w = c->down.pipe.r = c->down.pipe.w = -1;
  c->upstream = socket (target->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->upstream < 0 || pipe_get (&c->up.pipe) < 0 || pipe_get (&c->down.pipe) < 0)
    {
      proxy_warn ("cannot open a connection to the container");
      conn_close (c);
      return;
    }
  nodelay (client);
  nodelay (c->upstream);
  if (connect (c->upstream, (const struct sockaddr *) &target->addr, target->len) < 0)
    {
      if (errno != EINPROGRESS)
        {
          /* the container is not listening (yet): the client sees its connection closed */
          conn_close (c);
          return;
        }
      c->connecting = true;
    }
  if (watch (epfd, c->upstream, &c->upstream_ev) < 0 || watch (epfd, client, &c->client_ev) < 0)
    {
      proxy_warn ("epoll_ctl");
      conn_close (c);
      return;
    }
  if (!c->connecting)
    conn_pump (c);
}

void
tcp_accept (int epfd, int lfd, const struct proxy_target *target)
{
  for (;;)
    {
      int fd = accept4 (lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0)
        {
          conn_open (epfd, fd, target);
          continue;
        }
      if (errno == EINTR || errno == ECONNABORTED)
        continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        {
          /* out of descriptors: the listening socket stays readable, so pause
           * rather than spin; pending clients wait in the backlog */
          proxy_warn ("accept");
          usleep (100 * 1000);
        }
      return;
    }
}

void
tcp_event (int epfd, struct proxy_ev *ev, unsigned events)
{
  struct tcp_conn *c = ev->kind == EV_TCP_CLIENT ? container_of (ev, struct tcp_conn, client_ev) : container_of (ev, struct tcp_conn, upstream_ev);
  struct ready *r = ev->kind == EV_TCP_CLIENT ? &c->client_ready : &c->upstream_ready;

  if (c->dead)
    return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    r->rd = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
    r->wr = true;
  if (c->connecting)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (ev->kind != EV_TCP_UPSTREAM || !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return; /* the client's data waits in its socket until the container answers */
      if (getsockopt (c->upstream, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
        {
          conn_close (c);
          return;
        }
      c->connecting = false;
    }
  conn_pump (c);
}
