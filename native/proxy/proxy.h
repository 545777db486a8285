/* berth-proxy: the userland side of a published port (see main.c). */
#ifndef BERTH_PROXY_H
#define BERTH_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* What an epoll event points at: the first member of each watched object. */
enum proxy_ev_kind
{
  EV_ENGINE,
  EV_LISTEN,
  EV_TCP_CLIENT,
  EV_TCP_UPSTREAM,
  EV_UDP_FLOW,
};

struct proxy_ev
{
  enum proxy_ev_kind kind;
};

struct proxy_target
{
  struct sockaddr_storage addr;
  socklen_t len;
};

/* Prints "berth-proxy: MSG: strerror(errno)" to stderr. */
void proxy_warn (const char *msg);

void tcp_accept (int epfd, int lfd, const struct proxy_target *target);
void tcp_event (int epfd, struct proxy_ev *ev, unsigned events);
/* Frees the connections closed while handling the last batch of events (later
 * events of that batch may still point at them). */
void tcp_reap (void);

void udp_init (int lfd, const struct proxy_target *target);
void udp_from_client (int epfd);
void udp_from_upstream (struct proxy_ev *ev);
/* Closes flows idle for longer than the timeout; returns the epoll timeout (ms) until the next check. */
int udp_expire (void);

#define container_of(ptr, type, member) ((type *) ((char *) (ptr) - offsetof (type, member)))

#endif
