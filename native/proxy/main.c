/* berth-proxy: forwards a published host port to a container's port, TCP or UDP,
 * for the connections that nft's DNAT rules leave alone (those to the host's
 * loopback, and IPv6).
 *
 *   berth-proxy tcp|udp CONTAINER_IP CONTAINER_PORT
 *
 * The engine binds the host port and hands the socket over as fd 3, so this
 * process needs no privileges and a port in use is the engine's error to report.
 * stdin is a pipe from the engine: when it closes (the engine stopped or died),
 * the proxy exits, so no proxy outlives the engine's record of it. SIGTERM stops
 * it too. TCP bytes move between the sockets with splice(2) through a pipe, never
 * through user memory. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include "proxy.h"

#define LISTEN_FD 3
#define NOBODY 65534

void
proxy_warn (const char *msg)
{
  fprintf (stderr, "berth-proxy: %s: %s\n", msg, strerror (errno));
}

static int
usage (const char *why)
{
  fprintf (stderr, "berth-proxy: %s\nusage: berth-proxy tcp|udp CONTAINER_IP CONTAINER_PORT (the bound host socket on fd 3)\n", why);
  return 2;
}

static int
parse_target (const char *ip, const char *port, struct proxy_target *t)
{
  struct sockaddr_in *in = (struct sockaddr_in *) &t->addr;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &t->addr;
  char *end;
  long p;

  errno = 0;
  p = strtol (port, &end, 10);
  if (errno || *end || end == port || p < 1 || p > 65535)
    return -1;
  memset (t, 0, sizeof *t);
  if (inet_pton (AF_INET, ip, &in->sin_addr) == 1)
    {
      in->sin_family = AF_INET;
      in->sin_port = htons (p);
      t->len = sizeof *in;
      return 0;
    }
  if (inet_pton (AF_INET6, ip, &in6->sin6_addr) == 1)
    {
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (p);
      t->len = sizeof *in6;
      return 0;
    }
  return -1;
}

int
main (int argc, char **argv)
{
  static struct proxy_ev engine_ev = { EV_ENGINE }, listen_ev = { EV_LISTEN };
  struct epoll_event evs[64], e;
  struct proxy_target target;
  struct rlimit rl;
  int epfd, type = 0, tcp, timeout = -1;
  socklen_t len = sizeof type;

  if (argc != 4)
    return usage ("wrong number of arguments");
  if (strcmp (argv[1], "tcp") && strcmp (argv[1], "udp"))
    return usage ("the protocol must be tcp or udp");
  tcp = !strcmp (argv[1], "tcp");
  if (parse_target (argv[2], argv[3], &target) < 0)
    return usage ("CONTAINER_IP must be an IPv4 or IPv6 address and CONTAINER_PORT a port number (1-65535)");
  if (getsockopt (LISTEN_FD, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != (tcp ? SOCK_STREAM : SOCK_DGRAM))
    {
      fprintf (stderr, "berth-proxy: fd %d is not a bound %s socket (the engine passes the host port's socket there)\n", LISTEN_FD, argv[1]);
      return 2;
    }
  /* A peer gone while we write is an EPIPE to handle, not a reason to die. */
  signal (SIGPIPE, SIG_IGN);
  /* Every TCP connection holds six descriptors: take all the kernel allows. */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max)
    {
      rl.rlim_cur = rl.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &rl); /* the soft limit stays; fewer connections at once */
    }
  /* The host socket is bound already and connecting out needs nothing: run as nobody. */
  if (getuid () == 0
      && (setgroups (0, NULL) < 0 || setresgid (NOBODY, NOBODY, NOBODY) < 0 || setresuid (NOBODY, NOBODY, NOBODY) < 0))
    {
      proxy_warn ("cannot drop privileges to uid/gid 65534");
      return 1;
    }
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    {
      proxy_warn ("prctl(PR_SET_NO_NEW_PRIVS)");
      return 1;
    }
  fcntl (LISTEN_FD, F_SETFL, fcntl (LISTEN_FD, F_GETFL) | O_NONBLOCK);
  fcntl (LISTEN_FD, F_SETFD, FD_CLOEXEC);

  epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (epfd < 0)
    {
      proxy_warn ("epoll_create1");
      return 1;
    }
  e.events = EPOLLIN;
  e.data.ptr = &engine_ev;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, STDIN_FILENO, &e) < 0)
    {
      proxy_warn ("stdin must be a pipe from the engine");
      return 2;
    }
  e.data.ptr = &listen_ev;
  if (epoll_ctl (epfd, EPOLL_CTL_ADD, LISTEN_FD, &e) < 0)
    {
      proxy_warn ("epoll_ctl on the host socket");
      return 1;
    }
  if (!tcp)
    udp_init (LISTEN_FD, &target);

  for (;;)
    {
      int n = epoll_wait (epfd, evs, sizeof evs / sizeof evs[0], timeout);
      if (n < 0 && errno != EINTR)
        {
          proxy_warn ("epoll_wait");
          return 1;
        }
      for (int i = 0; i < n; i++)
        {
          struct proxy_ev *ev = evs[i].data.ptr;
          switch (ev->kind)
            {
            case EV_ENGINE:
              /* Anything on stdin, EOF above all, means the engine is done with us. */
              return 0;
            case EV_LISTEN:
              if (tcp)
                tcp_accept (epfd, LISTEN_FD, &target);
              else
                udp_from_client (epfd);
              break;
            case EV_TCP_CLIENT:
            case EV_TCP_UPSTREAM:
              tcp_event (epfd, ev, evs[i].events);
              break;
            case EV_UDP_FLOW:
              udp_from_upstream (ev);
              break;
            }
        }
      if (tcp)
        tcp_reap ();
      else
        timeout = udp_expire ();
    }
}
