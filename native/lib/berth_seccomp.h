/* linux.seccomp from the spec, compiled with libseccomp. */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include "error.h"
#include "json.h"

struct berth_seccomp;

/* Builds the filter (NULL in *out when the spec has none); nothing is loaded yet. */
int seccomp_prepare (json_t *spec, struct berth_seccomp **out, berth_error_t *err);
/* Loads it into the calling thread; without no_new_privs this needs CAP_SYS_ADMIN. */
int seccomp_install (struct berth_seccomp *f, berth_error_t *err);

#endif
