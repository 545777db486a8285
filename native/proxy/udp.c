/* UDP: a flow per client address, each with its own socket connected to the
 * container, so replies find their way back; a flow idle for UDP_IDLE_SECS is
 * closed (the JS proxy's 30 s). When MAX_FLOWS clients are active, datagrams of
 * new ones are dropped, as a full conntrack table would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "proxy.h"

#define UDP_IDLE_SECS 30
#define MAX_FLOWS 1024

struct udp_flow
{
  struct proxy_ev ev;
  int fd;
  struct sockaddr_storage client;
  socklen_t client_len;
  time_t last;
};

static struct udp_flow *flows[MAX_FLOWS];
static int nflows;
static int listen_fd;
static const struct proxy_target *target;
static char buf[65536];

static time_t
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec;
}

void
udp_init (int lfd, const struct proxy_target *t)
{
  listen_fd = lfd;
  target = t;
}

static struct udp_flow *
flow_find (const struct sockaddr_storage *from, socklen_t len)
{
  for (int i = 0; i < nflows; i++)
    if (flows[i]->client_len == len && !memcmp (&flows[i]->client, from, len))
      return flows[i];
  return NULL;
}

static struct udp_flow *
flow_open (int epfd, const struct sockaddr_storage *from, socklen_t len)
{
  struct epoll_event e = { .events = EPOLLIN };
  struct udp_flow *f;

  if (nflows == MAX_FLOWS || !(f = calloc (1, sizeof *f)))
    return NULL;
  f->ev.kind = EV_UDP_FLOW;
  f->fd = socket (target->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  e.data.ptr = &f->ev;
  if (f->fd < 0 || connect (f->fd, (const struct sockaddr *) &target->addr, target->len) < 0
      || epoll_ctl (epfd, EPOLL_CTL_ADD, f->fd, &e) < 0)
    {
      proxy_warn ("cannot open a UDP flow to the container");
      if (f->fd >= 0)
        close (f->fd);
      free (f);
      return NULL;
    }
  memcpy (&f->client, from, len);
  f->client_len = len;
  flows[nflows++] = f;
  return f;
}

void
udp_from_client (int epfd)
{
  for (;;)
    {
      struct sockaddr_storage from;
      socklen_t len = sizeof from;
      struct udp_flow *f;
      ssize_t n = recvfrom (listen_fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &from, &len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return; /* EAGAIN, or an ICMP error of an earlier reply: nothing to forward */
        }
      f = flow_find (&from, len);
      if (!f && !(f = flow_open (epfd, &from, len)))
        continue;
      f->last = now ();
      (void) send (f->fd, buf, n, MSG_DONTWAIT); /* UDP: a datagram the container refuses is lost */
    }
}

void
udp_from_upstream (struct proxy_ev *ev)
{
  struct udp_flow *f = container_of (ev, struct udp_flow, ev);

  for (;;)
    {
      ssize_t n = recv (f->fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
          continue; /* ECONNREFUSED: the container had no listener for an earlier datagram */
        }
      f->last = now ();
      (void) sendto (listen_fd, buf, n, MSG_DONTWAIT, (struct sockaddr *) &f->client, f->client_len); /* lost like any datagram */
    }
}

int
udp_expire (void)
{
  time_t t = now ();

  for (int i = 0; i < nflows;)
    if (t - flows[i]->last >= UDP_IDLE_SECS)
      {
        close (flows[i]->fd);
        free (flows[i]);
        flows[i] = flows[--nflows];
      }
    else
      i++;
  return nflows ? 1000 : -1;
}
