/* create, run and run --detach: one flow with the monitor either detached (create,
 * run -d) or being the calling process itself (run in the foreground). */
#ifndef BERTH_LIFECYCLE_H
#define BERTH_LIFECYCLE_H

#include "error.h"
#include <stdbool.h>

struct create_opts {
  const char *root, *id, *bundle, *pid_file, *console_socket;
  bool detach; /* the monitor leaves the caller */
  bool start;  /* run: exec right away */
  /* Detached, >= 0: this process becomes the monitor itself (no fork) and reports
   * "OK PID" on this descriptor once the container is set up and the pid file written;
   * a failure is the verb's error and exit status as usual. The helper's forks pass
   * one: the helper is the caller that waits, so a second fork would only cost time. */
  int ready_fd;
};

/* In the foreground, *exit_code is the container's; otherwise 0. */
int container_create (const struct create_opts *o, int *exit_code, berth_error_t *err);

#endif
