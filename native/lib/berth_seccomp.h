/* linux.seccomp from the spec, compiled with libseccomp (or taken from the cache of
 * compiled filters, seccomp_cache.h) and loaded with seccomp(2). */
#ifndef BERTH_SECCOMP_H
#define BERTH_SECCOMP_H

#include "error.h"
#include "json.h"

struct berth_seccomp;

/* Builds the filter (NULL in *out when the spec has none); nothing is loaded yet.
 * root: the runtime's --root, home of the cache (NULL: no cache). Call it before
 * forking the container process: the child gets the program in memory. */
int seccomp_prepare (json_t *spec, const char *root, struct berth_seccomp **out, berth_error_t *err);
/* Loads it into the calling thread; without no_new_privs this needs CAP_SYS_ADMIN. */
int seccomp_install (struct berth_seccomp *f, berth_error_t *err);
void seccomp_free (struct berth_seccomp *f);

#endif
