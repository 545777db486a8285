#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int
terminal_resize (int fd, unsigned short rows, unsigned short cols)
{
  struct winsize ws = { .ws_row = rows, .ws_col = cols };
  return ioctl (fd, TIOCSWINSZ, &ws);
}

int
terminal_open (unsigned short rows, unsigned short cols, int *master, int *slave, berth_error_t *err)
{
  char name[64];
  int unlock = 0;
  *master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0)
    return berth_make_error (err, errno, "open /dev/ptmx (is devpts mounted on /dev/pts?)");
  if (ioctl (*master, TIOCSPTLCK, &unlock) < 0 || ptsname_r (*master, name, sizeof name) != 0)
    {
      close (*master);
      return berth_make_error (err, errno, "unlock the pty");
    }
  *slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0)
    {
      int e = errno;
      close (*master);
      return berth_make_error (err, e, "open `%s`", name);
    }
  if (rows && cols)
    terminal_resize (*master, rows, cols);
  return 0;
}

int
terminal_make_controlling (int slave, berth_error_t *err)
{
  int i;
  if (setsid () < 0)
    return berth_make_error (err, errno, "setsid");
  if (ioctl (slave, TIOCSCTTY, 0) < 0)
    return berth_make_error (err, errno, "set the controlling terminal");
  for (i = 0; i < 3; i++)
    if (dup2 (slave, i) < 0)
      return berth_make_error (err, errno, "dup2 the terminal");
  if (slave > 2)
    close (slave);
  return 0;
}

int
unix_connect (const char *path, berth_error_t *err)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  int fd;
  if (strlen (path) >= sizeof addr.sun_path)
    return berth_make_error (err, 0, "socket path `%s` is too long", path);
  strcpy (addr.sun_path, path);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return berth_make_error (err, errno, "socket");
  if (connect (fd, (struct sockaddr *) &addr, sizeof addr) < 0)
    {
      int e = errno;
      close (fd);
      return berth_make_error (err, e, "connect to `%s`", path);
    }
  return fd;
}

int
terminal_send_master (int sock, int master, berth_error_t *err)
{
  char name[] = "/dev/ptmx";
  struct iovec iov = { .iov_base = name, .iov_len = sizeof name - 1 };
  char cbuf[CMSG_SPACE (sizeof (int))];
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  struct cmsghdr *c;
  memset (cbuf, 0, sizeof cbuf);
  c = CMSG_FIRSTHDR (&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN (sizeof (int));
  memcpy (CMSG_DATA (c), &master, sizeof (int));
  if (sendmsg (sock, &msg, MSG_NOSIGNAL) < 0)
    return berth_make_error (err, errno, "send the pty master to the console socket");
  return 0;
}

int
terminal_set_raw (int fd, struct termios *saved)
{
  struct termios t;
  if (tcgetattr (fd, &t) < 0)
    return -1;
  *saved = t;
  cfmakeraw (&t);
  t.c_oflag |= OPOST; /* keep "\n" → "\r\n" on the caller's side, as runc does */
  return tcsetattr (fd, TCSANOW, &t);
}
