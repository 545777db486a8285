import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * The qemu process of a machine: launched daemonized with a pidfile (QEMU removes
 * the pidfile when it exits on its own: a guest poweroff or a QMP quit), so a pidfile
 * whose process is gone means QEMU died.
 */
export async function launch(binary: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    // With -daemonize the parent exits once the VM is set up, or with the reason it could not be.
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(stderr.trim() || `${binary} exited with ${code}`))));
  });
}

export async function readPid(pidfile: string): Promise<number> {
  return Number((await readFile(pidfile, 'utf8').catch(() => '')).trim()) || 0;
}

export async function pidAlive(pid: number): Promise<boolean> {
  if (!pid) return false;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

/** A program named on PATH, or the path given; '' when there is none. */
export async function findBinary(name: string): Promise<string> {
  const candidates = name.includes('/') ? [name] : (process.env.PATH ?? '/usr/bin:/bin').split(delimiter).map((d) => join(d, name));
  for (const c of candidates) if (await access(c, constants.X_OK).then(() => true, () => false)) return c;
  return '';
}

/** The host CPU clock in kHz from /proc/cpuinfo (undefined when it says none). */
export async function hostTscKhz(): Promise<number | undefined> {
  const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}
