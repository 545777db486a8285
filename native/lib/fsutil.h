/* Small file helpers used by the state store, cgroups and /proc writes. */
#ifndef BERTH_FSUTIL_H
#define BERTH_FSUTIL_H

#include "error.h"
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file (NUL-terminated); returns its length or -1 with errno set. */
ssize_t read_file (const char *path, char **out);
ssize_t read_file_at (int dirfd, const char *path, char **out);
/* Writes data to an existing file (no O_CREAT), e.g. /proc and cgroup files. */
int write_file (const char *path, const char *data, size_t len);
int write_file_at (int dirfd, const char *path, const char *data, size_t len);
/* temp file + fsync + rename: readers see the old or the new file, never half of one. */
int write_file_atomic (const char *path, const char *data, size_t len, berth_error_t *err);
/* The pid as text, written atomically; a NULL path writes nothing (no --pid-file). */
int write_pid_file (const char *path, pid_t pid, berth_error_t *err);
int mkdir_p (const char *path, mode_t mode);
/* Removes a directory tree that the runtime owns (no mount points inside). */
int remove_tree (const char *path);
int write_all (int fd, const void *buf, size_t len);
/* Marks every descriptor from `first` on close-on-exec: what the caller left open
 * must not leak into containers (--preserve-fds keeps 3..first-1). */
void cloexec_from (unsigned first);
/* Points fds 0-2 at /dev/null: a detached monitor must not hold the caller's stdio.
 * Best effort: without /dev/null they stay as they are. */
void stdio_to_null (void);
/* path itself when absolute (or NULL), else cwd/path in new memory. */
const char *path_absolute (const char *path);

#endif
