/* cgroups for one container: v1 (one hierarchy per controller, also the hybrid
 * layout where cgroup2 holds no or only some controllers, e.g. hugetlb) and pure v2. */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include "error.h"
#include "json.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_MAX_HIERARCHIES 16

struct cgroup_hierarchy {
  char controllers[128]; /* comma-separated, e.g. "cpu,cpuacct"; "name=systemd"; "" for cgroup2 */
  char name[64];         /* the mount point's basename: "cpu", "systemd", "unified" */
  char *dir;             /* the container's directory in this hierarchy */
  bool created;          /* made by us, so ours to remove */
};

struct cgroup {
  bool v2; /* pure cgroup v2 host */
  char *path;
  size_t n;
  struct cgroup_hierarchy h[CGROUP_MAX_HIERARCHIES];
};

/* Finds the hierarchies and computes the directories; creates nothing. cgroups_path
 * NULL or "" (as in a state file without one) means /ID. */
int cgroup_init (struct cgroup *cg, const char *cgroups_path, const char *id, berth_error_t *err);
int cgroup_create (struct cgroup *cg, berth_error_t *err);
int cgroup_add_pid (struct cgroup *cg, pid_t pid, berth_error_t *err);
/* The cgroup2 hierarchy (pure v2, or hybrid's "unified"), or -1. */
int cgroup_v2_index (const struct cgroup *cg);
/* clone3(CLONE_INTO_CGROUP) with `flags` into cg's cgroup2 directory: the child's pid,
 * 0 in the child, or -1 when there is no such hierarchy or the kernel refuses (older
 * than 5.7): the caller then clones or forks its own way. */
pid_t cgroup_clone_into_v2 (const struct cgroup *cg, uint64_t flags);
/* Moves the calling process, single-threaded, into the cgroups, leaving out the cgroup2
 * hierarchy when it is already there (clone3 into it); see cgroup.c. */
int cgroup_join_self (const struct cgroup *cg, bool in_v2, berth_error_t *err);
/* Removes the directories we made (existing ones too when force), waiting briefly for exiting tasks. */
int cgroup_destroy (struct cgroup *cg, bool force, berth_error_t *err);
/* The directory holding a controller's files ("memory", "pids", …). NULL if absent. */
const char *cgroup_dir (const struct cgroup *cg, const char *controller);
bool cgroup_oom_killed (const struct cgroup *cg);
int cgroup_freeze (struct cgroup *cg, bool frozen, berth_error_t *err);
bool cgroup_is_frozen (const struct cgroup *cg);
/* Host pids in the container's cgroup; returns the count or -1. */
int cgroup_pids (const struct cgroup *cg, pid_t **out);
/* Sends sig to every process in it; best effort (one may exit meanwhile). */
void cgroup_signal_all (const struct cgroup *cg, int sig);

/* cgroup_resources.c: linux.resources → cgroup files. */
int cgroup_apply_resources (struct cgroup *cg, json_t *resources, berth_error_t *err);

#endif
