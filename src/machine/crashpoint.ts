import { unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Test-only fault injection, as berth-runtime's (native/lib/crashpoint.c): with
 * BERTH_MACHINE_CRASH_AT=DIR set, the process that reaches `step` kills itself with
 * SIGKILL if it can remove DIR/<step>, so a test arms one kill -9 at a chosen step by
 * creating that file. Unset, it reads one environment variable and nothing else.
 * Steps: `create:<title of the listr2 step>` (as it starts), `reserve:temp` (a new
 * machine's directory made under its temp name, marker inside), `reserve:placed` (renamed
 * into place, no key or config.json yet), `rm:driver` (the driver's
 * side removed, the store not yet), `rm:store` (the machine's directory renamed away,
 * not yet deleted), `certs:ca` / `certs:client` (the new key written,
 * its certificate not yet), `certs:server` (the server certificate written here, not
 * yet on the host), `certs:configured` (on the host, engine not yet restarted).
 */
export function crashPoint(step: string): void {
  const dir = process.env.BERTH_MACHINE_CRASH_AT;
  if (!dir) return;
  try {
    unlinkSync(join(dir, step.replace(/\//g, '_')));
  } catch {
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
