/* The runtime re-executes itself from a write-proof view of its binary before it
 * enters a container (create, run, exec), as runc and crun do against CVE-2019-5736:
 * a process in the container that opens /proc/<pid>/exe of a runtime process reaches
 * a read-only overlayfs view (or, without one, a sealed memfd copy), never a writable
 * host binary. */
#ifndef BERTH_SELFCLONE_H
#define BERTH_SELFCLONE_H

#include "error.h"

/* Returns only if /proc/self/exe is already write-proof (read-only mount or sealed
 * memfd); otherwise makes a view or copy and execs it with the same argv and
 * environment. -1 with *err when it cannot. */
int selfclone_ensure (char **argv, berth_error_t *err);

/* The binary's GNU build ID as hex ("" without one): names the build across copies. */
const char *selfclone_build_id (void);

#endif
