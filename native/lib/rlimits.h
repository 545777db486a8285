#ifndef BERTH_RLIMITS_H
#define BERTH_RLIMITS_H

#include "error.h"
#include "spec.h"

int rlimit_from_name (const char *name);
/* Applies the limits, lowering a hard limit above the current one to it:
 * raising a hard limit needs CAP_SYS_RESOURCE, which hosts may not grant. */
int rlimits_apply (const struct process_spec *p, berth_error_t *err);

#endif
