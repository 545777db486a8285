/* Capabilities: names, and the switch to the process's user and capability sets. */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include "error.h"
#include "spec.h"

/* >= 0: the number; -1: a real capability this kernel lacks; -2: not a capability. */
int cap_from_name (const char *name);
int cap_last_cap (void);
/* Drops the bounding set, switches uid/gid/groups keeping only the configured sets,
 * then raises the ambient set. Must run as root in the container's user namespace. */
int caps_apply_process (const struct process_spec *p, berth_error_t *err);

#endif
