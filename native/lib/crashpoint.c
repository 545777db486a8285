/* Steps (where a kill -9 leaves something for the next command to repair):
 *   create:dir       state directory made, config.json not yet written
 *   create:config    config.json written, monitor not yet forked
 *   monitor:spawned  container process set up, state.json not yet written
 *   monitor:state    state.json written, the caller not yet told
 *   create:ready     the monitor reported ready, the pid file not yet written (a
 *                    monitor in the caller's process: state.json written, the pid
 *                    file not yet, the caller not yet told)
 *   monitor:started  the container's process exec'd, state.json not yet updated
 *   monitor:exited   the container exited, exit.json not yet written
 *   delete:killed    delete killed the processes, nothing torn down yet
 *   teardown:cgroup  the cgroup is gone, the state directory not yet */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

void
crash_point (const char *step)
{
  const char *dir = getenv ("BERTH_RUNTIME_CRASH_AT");
  char path[4096];
  if (dir == NULL || dir[0] == '\0')
    return;
  if ((size_t) snprintf (path, sizeof path, "%s/%s", dir, step) >= sizeof path || unlink (path) != 0)
    return;
  raise (SIGKILL);
}
