/* OCI hooks: run in the runtime's namespaces with the state JSON on stdin. */
#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include "error.h"
#include "json.h"
#include <stdbool.h>

bool hooks_present (json_t *hooks, const char *kind);
/* Runs hooks[kind] in order; the first failure stops and is returned. */
int hooks_run (json_t *hooks, const char *kind, const char *state_json, berth_error_t *err);

#endif
