/* A cache of compiled seccomp filters, as crun keeps: compiling docker's default
 * profile with libseccomp costs tens of milliseconds, loading a stored program none.
 *
 * <root>/.seccomp-cache/<key>.bpf holds the raw classic-BPF program (an array of
 * struct sock_filter, as seccomp_export_bpf writes it). key = hex SHA-256 of the
 * canonical linux.seccomp JSON, the runtime version and binary, the libseccomp
 * version and API level, and the native architecture. The directory starts with a
 * dot: container IDs cannot, so it never collides with a container's state dir. */
#ifndef BERTH_SECCOMP_CACHE_H
#define BERTH_SECCOMP_CACHE_H

#include "error.h"
#include "json.h"

#include <linux/filter.h>
#include <stddef.h>

/* What compiles spec into a libseccomp context (a scmp_filter_ctx), on a miss. */
typedef int (*seccomp_compile_fn) (json_t *spec, void **ctx, berth_error_t *err);

/* The BPF program for spec in *prog (malloc'd, *len instructions): from the cache
 * under root when a valid entry exists, else compiled, exported and stored there
 * (best effort: a cache that cannot be written only costs the next call the compile).
 * root NULL: no cache. Fails only when compiling fails. */
int seccomp_cache_get (json_t *spec, const char *root, seccomp_compile_fn compile, struct sock_filter **prog,
                       size_t *len, berth_error_t *err);

/* Hex SHA-256 key of spec (exposed for tests). */
void seccomp_cache_key (const json_t *spec, char hex[65]);

#endif
