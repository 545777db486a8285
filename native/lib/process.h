/* The last steps of any container process (init or exec): limits, privileges,
 * seccomp, and execve with a PATH lookup in the process's own environment. */
#ifndef BERTH_PROCESS_H
#define BERTH_PROCESS_H

#include "error.h"
#include "json.h"
#include "spec.h"

struct berth_seccomp;

struct process_prepared {
  struct berth_seccomp *seccomp;
  char exe[4096];
};

/* umask, rlimits, no_new_privs, user and capabilities, cwd, and the executable's path;
 * seccomp (the filter seccomp_prepare built before the fork, or NULL) is loaded here
 * when no_new_privs is off (loading needs CAP_SYS_ADMIN then), else in process_exec. */
int process_prepare (const struct process_spec *p, struct berth_seccomp *seccomp, struct process_prepared *out,
                     berth_error_t *err);
/* Loads a pending seccomp filter and execs; returns only on failure. */
int process_exec (const struct process_spec *p, struct process_prepared *pp, berth_error_t *err);

#endif
