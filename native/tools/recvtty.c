/* recvtty: a console-socket receiver for tests, like runc's contrib/recvtty.
 * `recvtty SOCKET OUTFILE [INPUT]`: accepts one connection, receives the pty master
 * by SCM_RIGHTS, writes INPUT (if any) to it, then copies everything the terminal
 * prints into OUTFILE until the terminal closes. Prints "ready" once listening. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  char buf[4096], cbuf[CMSG_SPACE (sizeof (int))];
  struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c;
  int lfd, cfd, master = -1, out;
  ssize_t n;

  if (argc < 3)
    {
      fprintf (stderr, "usage: recvtty SOCKET OUTFILE [INPUT]\n");
      return 2;
    }
  snprintf (addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
  unlink (argv[1]);
  lfd = socket (AF_UNIX, SOCK_STREAM, 0);
  if (lfd < 0 || bind (lfd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (lfd, 1) < 0)
    {
      perror ("recvtty: listen");
      return 1;
    }
  printf ("ready\n");
  fflush (stdout);
  cfd = accept (lfd, NULL, NULL);
  if (cfd < 0 || recvmsg (cfd, &msg, 0) < 0)
    {
      perror ("recvtty: receive");
      return 1;
    }
  for (c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
      memcpy (&master, CMSG_DATA (c), sizeof (int));
  if (master < 0)
    {
      fprintf (stderr, "recvtty: no descriptor received\n");
      return 1;
    }
  out = open (argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0)
    {
      perror ("recvtty: open output");
      return 1;
    }
  if (argc > 3 && write (master, argv[3], strlen (argv[3])) < 0)
    perror ("recvtty: write input");
  while ((n = read (master, buf, sizeof buf)) > 0)
    if (write (out, buf, (size_t) n) < 0)
      break;
  close (out);
  return 0;
}
