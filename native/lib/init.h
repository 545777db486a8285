/* The container's first process, between clone and execve: it sets up its own
 * namespaces' contents (mounts, hostname, terminal) and privileges. */
#ifndef BERTH_INIT_H
#define BERTH_INIT_H

#include "cgroup.h"
#include "spec.h"
#include "state.h"

struct berth_seccomp;

struct init_args {
  struct spec *spec;
  const struct cgroup *cg;
  int sync_fd;
  int console_fd;  /* connected --console-socket, or -1 (then the master goes to the parent) */
  int stdio[3];    /* become fds 0-2 unless -1 */
  int ns_fds[8];   /* namespaces to join, -1 terminated */
  int ns_types[8];
  bool userns;
  bool join_cgroup; /* move itself into cg first (cgroup_join_self); else the parent moves it */
  bool in_v2;       /* started in cg's cgroup2 hierarchy (clone3) */
  struct container_state *st; /* for the state JSON of in-container hooks */
  struct berth_seccomp *seccomp; /* compiled by the parent before clone, or NULL */
};

__attribute__ ((noreturn)) void container_init (struct init_args *a);

#endif
