#include "sync.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
sync_pair (int fds[2])
{
  return socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

int
sync_send (int fd, int type, const char *text, int passfd)
{
  struct sync_msg m;
  struct iovec iov;
  struct msghdr msg = { 0 };
  char cbuf[CMSG_SPACE (sizeof (int))];
  size_t tlen = text ? strlen (text) : 0;
  memset (&m, 0, sizeof m);
  m.type = type;
  if (tlen >= sizeof m.text)
    tlen = sizeof m.text - 1;
  if (text)
    memcpy (m.text, text, tlen);
  iov.iov_base = &m;
  iov.iov_len = sizeof m.type + tlen + 1;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (passfd >= 0)
    {
      struct cmsghdr *c;
      memset (cbuf, 0, sizeof cbuf);
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int));
      memcpy (CMSG_DATA (c), &passfd, sizeof (int));
    }
  while (sendmsg (fd, &msg, MSG_NOSIGNAL) < 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

int
sync_recv (int fd, struct sync_msg *m, int *passfd)
{
  struct iovec iov = { .iov_base = m, .iov_len = sizeof *m };
  struct msghdr msg = { 0 };
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct cmsghdr *c;
  ssize_t n;
  memset (m, 0, sizeof *m);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  do
    n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return errno == ECONNRESET ? 0 : -1;
  if (n == 0)
    return 0;
  m->text[sizeof m->text - 1] = '\0';
  if (passfd)
    *passfd = -1;
  for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && passfd)
      memcpy (passfd, CMSG_DATA (c), sizeof (int));
  return 1;
}
