/* Creating a container: the parent side of clone, up to the point where the
 * process waits for START, and the START itself. */
#ifndef BERTH_CONTAINER_H
#define BERTH_CONTAINER_H

#include "cgroup.h"
#include "error.h"
#include "spec.h"
#include "state.h"

struct spawn {
  /* in */
  const char *root;
  struct spec *spec;
  struct cgroup cg;
  int stdio[3];   /* for the child's 0-2; -1 inherits ours */
  int console_fd; /* connected --console-socket or -1 */
  struct container_state st;
  /* out */
  pid_t pid;
  int sync_fd;
  int pty_master; /* when the terminal stays with us; else -1 */
};

/* cgroup, clone, id maps, hooks; returns once the process is ready to exec. On
 * failure nothing is left: the process is killed and the cgroup removed. */
int container_spawn (struct spawn *s, berth_error_t *err);
/* Lets the process exec; fails with its error if exec fails. Runs poststart hooks. */
int container_start (struct spawn *s, berth_error_t *err);
void container_abort (struct spawn *s);
/* The OCI state JSON handed to hooks. */
char *container_hook_state (const struct container_state *st, const char *status);
/* Removes cgroup and state dir and runs poststop hooks: for delete and run's end. */
int container_teardown (const char *root, const char *id, berth_error_t *err);
/* A create that died half-way (no state.json): kills what runs in its cgroup, removes
 * the cgroup and the state directory. The cgroup path comes from the saved config.json. */
int container_remove_unfinished (const char *root, const char *id, berth_error_t *err);
/* The same for a caller that knows the cgroup already. */
void container_reap (struct cgroup *cg, const char *dir);

#endif
