/* The container's filesystem view, built inside its private mount namespace. */
#ifndef BERTH_MOUNTS_H
#define BERTH_MOUNTS_H

#include "cgroup.h"
#include "error.h"
#include "spec.h"
#include <stdbool.h>

struct mount_flags {
  unsigned long flags;       /* MS_* for mount(2) */
  unsigned long propagation; /* MS_SHARED/MS_SLAVE/... (with MS_REC) or 0 */
  char data[1024];           /* filesystem-specific options */
};

int mount_parse_options (char **options, size_t n, struct mount_flags *out, berth_error_t *err);
/* Everything before pivot_root: root propagation, the rootfs bind, spec mounts, /dev. */
int rootfs_prepare (const struct spec *spec, const struct cgroup *cg, bool userns, berth_error_t *err);
/* pivot_root into the rootfs and drop the old root. */
int rootfs_pivot (const struct spec *spec, berth_error_t *err);
/* After pivot_root: masked and read-only paths, sysctls, read-only root. */
int rootfs_finalize (const struct spec *spec, berth_error_t *err);

/* devices.c */
int devices_create (int rootfd, const struct spec *spec, bool userns, berth_error_t *err);
int devices_links (int rootfd, berth_error_t *err);

#endif
