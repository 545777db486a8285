/* The parts of an OCI runtime-spec config.json that berth-runtime acts on.
 * Sections handled by one module only (linux.resources, linux.seccomp, hooks,
 * annotations) stay as JSON trees and are read by that module. */
#ifndef BERTH_SPEC_H
#define BERTH_SPEC_H

#include "error.h"
#include "json.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct mount_spec {
  char *destination, *type, *source;
  char **options;
  size_t n_options;
};

struct id_map {
  uint32_t container_id, host_id, size;
};

struct rlimit_spec {
  int resource;
  uint64_t soft, hard;
};

struct caps_spec {
  uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct process_spec {
  bool terminal;
  unsigned short rows, cols;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  int umask; /* -1: leave as is */
  char **args;
  char **env;
  char *cwd;
  bool has_caps;
  struct caps_spec caps;
  struct rlimit_spec *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  bool has_oom_score_adj;
  int oom_score_adj;
};

struct ns_spec {
  int flag;   /* CLONE_NEW* */
  char *path; /* join this namespace instead of making one */
};

struct spec {
  json_t *doc;
  char *root_path; /* absolute (made absolute against the bundle) */
  bool root_readonly;
  char *hostname, *domainname;
  struct mount_spec *mounts;
  size_t n_mounts;
  struct process_spec process;
  struct ns_spec *namespaces;
  size_t n_namespaces;
  struct id_map *uid_maps, *gid_maps;
  size_t n_uid_maps, n_gid_maps;
  char *cgroups_path;
  char *rootfs_propagation;
  char **masked_paths, **readonly_paths;
  size_t n_masked_paths, n_readonly_paths;
  json_t *resources, *seccomp, *sysctl, *devices, *hooks, *annotations;
};

/* Parses config.json text; root.path is made absolute against bundle. */
int spec_parse (const char *text, size_t len, const char *bundle, struct spec *spec, berth_error_t *err);
/* Parses an OCI "process" object (also used by exec --process). */
int spec_parse_process (json_t *proc, struct process_spec *out, berth_error_t *err);
int spec_capability_mask (json_t *list, uint64_t *mask, berth_error_t *err);
const char *spec_annotation (const struct spec *spec, const char *key);
bool spec_has_namespace (const struct spec *spec, int flag);
const struct ns_spec *spec_namespace (const struct spec *spec, int flag);

#endif
