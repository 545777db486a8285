/* Path resolution confined to a root directory: a symlink in an image, absolute or
 * with "..", can never lead a mount or a write outside the container's rootfs. */
#ifndef BERTH_PATHRES_H
#define BERTH_PATHRES_H

#include "error.h"
#include <stdbool.h>
#include <stddef.h>

/* openat2(RESOLVE_IN_ROOT) on rootfd; returns an fd or -1 with errno. */
int open_in_root (int rootfd, const char *path, int flags);
/* Creates the missing components of path inside the root (the last one as a regular
 * file when as_file) and returns an O_PATH fd to it. */
int create_in_root (int rootfd, const char *path, bool as_file, berth_error_t *err);
/* "/proc/self/fd/N": how mount(2) can target an fd resolved safely beforehand. */
void fd_path (int fd, char *buf, size_t len);

#endif
