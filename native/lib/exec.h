/* exec: a new process inside a running container's namespaces and cgroup. */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include "error.h"
#include <stdbool.h>
#include <stddef.h>

struct exec_opts {
  const char *root, *id;
  const char *process_file; /* --process: an OCI process JSON */
  const char *console_socket, *pid_file, *monitor_socket, *exit_file, *cwd, *user;
  char **args; /* CMD… when no --process */
  char **env;  /* --env K=V, added to the container's env */
  size_t n_env;
  char **caps; /* --cap CAP_X, added to the process's sets */
  size_t n_caps;
  bool tty, detach, no_new_privs;
  bool stdin_pipe, stdin_once; /* with --monitor-socket: give it a stdin pipe */
};

/* Foreground: *exit_code is the process's. */
int container_exec (const struct exec_opts *o, int *exit_code, berth_error_t *err);

#endif
