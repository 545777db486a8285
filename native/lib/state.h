/* The state directory of a container: <root>/<id>/{state.json,config.json,exit.json,attach.sock}.
 * Every file is replaced atomically, so a reader sees a whole one after any crash. */
#ifndef BERTH_STATE_H
#define BERTH_STATE_H

#include "error.h"
#include "json.h"
#include "jsonw.h"
#include <stdbool.h>
#include <sys/types.h>

#define BERTH_DEFAULT_ROOT "/run/berth-runtime"

struct container_state {
  char id[256];
  char bundle[4096];
  char rootfs[4096];
  char socket[4096];
  char cgroups_path[4096];
  char created[64];
  char started_at[64]; /* "" until the process was started */
  pid_t pid;
  unsigned long long pid_start; /* guards against pid reuse */
  pid_t monitor_pid;
  unsigned long long monitor_start;
  /* from exit.json, written by the monitor */
  bool exited;
  int exit_code;
  bool oom_killed;
  char finished_at[64];
  json_t *annotations; /* from the saved config.json; may be NULL */
};

int state_validate_id (const char *id, berth_error_t *err);
void state_dir (const char *root, const char *id, char *buf, size_t len);
int state_write (const char *root, const struct container_state *st, berth_error_t *err);
/* Fails with "container `ID` does not exist" when there is no such state dir. */
int state_read (const char *root, const char *id, struct container_state *st, berth_error_t *err);
int state_write_exit_file (const char *path, int code, const char *finished_at, bool oom, berth_error_t *err);
/* "created", "running", "paused" or "stopped", judged from the files and the kernel. */
const char *state_status (const struct container_state *st, const char *root);
bool state_pid_alive (pid_t pid, unsigned long long start);
unsigned long long proc_start_time (pid_t pid);
/* The OCI state JSON, plus exitCode/startedAt/finishedAt/oomKilled when known. */
void state_oci_json (const struct container_state *st, const char *status, struct jsonw *w);

#endif
