#include "cli.h"
#include "state.h"
#include "terminal.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
cmd_start (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  struct container_state st;
  const char *id, *status;
  char reply[4096];
  size_t len = 0;
  ssize_t n;
  int fd;

  optind = 0;
  if (getopt (argc, argv, "+") != -1)
    return berth_make_error (err, 0, "usage: berth-runtime start ID");
  if (cli_one_id (argc, argv, "start", &id, err) < 0)
    return -1;
  if (state_read (g->root, id, &st, err) < 0)
    return -1;
  status = state_status (&st, g->root);
  if (strcmp (status, "created") != 0)
    return berth_make_error (err, 0, "cannot start container `%s`: it is %s, not created", id, status);
  fd = unix_connect (st.socket, err);
  if (fd < 0)
    return berth_error_wrap (err, "reach the monitor of `%s`", id);
  if (send (fd, "START\n", 6, MSG_NOSIGNAL) != 6)
    return berth_make_error (err, errno, "talk to the monitor of `%s`", id);
  while (len < sizeof reply - 1 && (n = read (fd, reply + len, sizeof reply - 1 - len)) > 0)
    len += (size_t) n;
  close (fd);
  reply[len] = '\0';
  if (strncmp (reply, "OK", 2) == 0)
    return 0;
  if (strchr (reply, '\n'))
    *strchr (reply, '\n') = '\0';
  return berth_make_error (err, 0, "start `%s`: %s", id, strncmp (reply, "ERR ", 4) == 0 ? reply + 4 : "no answer from its monitor");
}
