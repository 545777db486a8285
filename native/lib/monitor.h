/* The monitor: the parent of one container process (or exec'd process). It holds the
 * process's stdio, writes its logs, serves the attach socket and records the exit.
 * Socket protocol (one header line per connection, parsed by monproto.h; a bad one
 * gets "ERR message"):
 *   ATTACH stdin=0|1 stdout=0|1 stderr=0|1  → output stream from now on (multiplexed
 *       8-byte frames without a TTY, raw with one); client bytes go to stdin
 *   RESIZE ROWS COLS → "OK"      WAIT → {"exitCode","finishedAt","oomKilled"} at exit
 *   START → "OK" or "ERR message" (runtime-internal: `berth-runtime start`) */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

#include "cgroup.h"
#include "error.h"
#include "logfile.h"
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct monitor {
  pid_t child;
  int out_fd, err_fd; /* pipes from the process, or the pty master as out_fd; -1: none */
  int in_fd;          /* its stdin pipe, or the pty master; -1: none */
  bool tty;
  bool stdin_once;
  int listen_fd; /* -1: no socket */
  const char *socket_path;
  struct logfile *log;
  int relay_in, relay_out; /* the caller's terminal in the foreground (raw while it runs); -1: none */
  struct cgroup *cg;       /* for oomKilled; may be NULL */
  /* exec: output made before the first ATTACH is kept (up to 1 MiB) and replayed to
   * it, and after the exit the monitor waits up to 2 s for that first ATTACH. The
   * engine can only attach once `exec` has returned, when the process already runs. */
  bool replay;
  int (*on_start) (void *ctx, char *errbuf, size_t len);
  void (*on_exit) (void *ctx, int code, const char *finished_at, bool oom);
  void *ctx;
};

void monitor_init (struct monitor *m);
/* Signals the monitor handles; block them before creating the child so none is lost
 * (the child unblocks them with monitor_unblock_signals before exec). */
void monitor_block_signals (void);
void monitor_unblock_signals (void);
int monitor_listen (const char *path, berth_error_t *err);
/* Runs until the child exits; returns its exit code (128+N for signal N). */
int monitor_run (struct monitor *m);

/* The ready pipe of a detached monitor (create, run -d, exec -d): one line to the
 * process that forked it, "OK PID" once the process runs or "ERR message". Both
 * writers close fd. */
void monitor_ready_ok (int fd, pid_t pid);
void monitor_ready_error (int fd, const char *msg);
/* The forking side: 0 with *pid on OK; else -1 with the monitor's message, or `died`
 * when it exited without one. Closes fd. */
int monitor_await_ready (int fd, pid_t *pid, const char *died, berth_error_t *err);

#endif
