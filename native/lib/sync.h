/* Messages between the runtime (parent) and the process it is setting up (child),
 * over a SOCK_SEQPACKET pair; a descriptor can ride along (the pty master). */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

enum sync_type {
  SYNC_GO = 1,     /* parent → child: cgroups and id maps are in place */
  SYNC_HOOKS,      /* child → parent: run prestart/createRuntime hooks now */
  SYNC_HOOKS_DONE, /* parent → child */
  SYNC_PTY,        /* child → parent: the pty master, as SCM_RIGHTS */
  SYNC_READY,      /* child → parent: set up, waiting for START */
  SYNC_START,      /* parent → child: exec the process */
  SYNC_ERROR,      /* child → parent: text is the error; the child exits */
};

struct sync_msg {
  int type;
  char text[2048];
};

int sync_pair (int fds[2]);
int sync_send (int fd, int type, const char *text, int passfd);
/* 1: a message; 0: the peer closed (for the child after START: exec succeeded); -1: error. */
int sync_recv (int fd, struct sync_msg *m, int *passfd);

#endif
