/* Pseudo-terminals for process.terminal, and the --console-socket hand-over. */
#ifndef BERTH_TERMINAL_H
#define BERTH_TERMINAL_H

#include "error.h"
#include <termios.h>

/* Opens a pty through /dev/ptmx of the current mount namespace. */
int terminal_open (unsigned short rows, unsigned short cols, int *master, int *slave, berth_error_t *err);
/* setsid, make slave the controlling terminal and stdin/stdout/stderr. */
int terminal_make_controlling (int slave, berth_error_t *err);
int unix_connect (const char *path, berth_error_t *err);
/* Sends the master over a connected unix socket with SCM_RIGHTS (runc's recvtty protocol). */
int terminal_send_master (int sock, int master, berth_error_t *err);
int terminal_set_raw (int fd, struct termios *saved);
int terminal_resize (int fd, unsigned short rows, unsigned short cols);

#endif
