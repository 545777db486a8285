import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, NotSupportedError } from './errors.js';
import type { Machine } from './machine.js';

/**
 * `machine ssh` and `machine scp` use the system's OpenSSH client (a real terminal,
 * agent forwarding, ~/.ssh/config), as Docker Machine's "external" client does.
 * For the local driver the machine is this host: commands run here directly.
 */
const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=quiet', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectionAttempts=3', '-o', 'ConnectTimeout=10'];

function spawnStatus(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'inherit' });
    child.on('error', (err) => reject((err as NodeJS.ErrnoException).code === 'ENOENT'
      ? new InvalidArgumentError(`${cmd} is not installed`, { hint: 'install the OpenSSH client (apt-get install openssh-client)' })
      : err));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 255 : 0)));
  });
}

export function sshArgs(m: Machine): { dest: string; args: string[] } {
  const c = m.driver.connection();
  if (c.kind === 'none') throw new NotSupportedError(`machine "${m.host.Name}" has no driver (none): berth cannot SSH into it`);
  if (c.kind !== 'ssh') throw new NotSupportedError(`machine "${m.host.Name}" is this host (${m.host.DriverName} driver): it has no SSH`);
  return { dest: `${c.user}@${c.host}`, args: [...SSH_OPTS, '-i', c.keyPath, '-p', String(c.port)] };
}

/** Runs a command (or a login shell) on the machine; resolves to its exit status. */
export function sshRun(m: Machine, command: string[]): Promise<number> {
  if (m.driver.connection().kind === 'local') {
    return command.length ? spawnStatus('/bin/sh', ['-c', command.join(' ')]) : spawnStatus(process.env.SHELL || '/bin/sh', []);
  }
  const c = m.driver.connection();
  if (c.kind === 'ssh' && (nativeSshWanted() || !onPath('ssh'))) return import('./ssh-native.js').then((n) => n.nativeSshRun(c, command));
  const { dest, args } = sshArgs(m);
  const tty = command.length === 0 && process.stdin.isTTY ? ['-t'] : [];
  return spawnStatus('ssh', [...args, ...tty, dest, ...command]);
}

/** Docker Machine's rule: the built-in client when asked for (--native-ssh, MACHINE_NATIVE_SSH), else the system's `ssh`. */
function nativeSshWanted(): boolean {
  const v = process.env.MACHINE_NATIVE_SSH ?? '';
  return v !== '' && !/^(0|false|no)$/i.test(v);
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, cmd)));
}

/** `NAME:path` on either side; both sides may be local paths. */
export function scpRun(src: { m?: Machine; path: string }, dst: { m?: Machine; path: string }, opts: { recursive: boolean; delta: boolean; quiet: boolean }): Promise<number> {
  const remote = src.m ?? dst.m;
  const local = (x: { m?: Machine; path: string }) => !x.m || x.m.driver.connection().kind === 'local';
  if (local(src) && local(dst)) {
    return spawnStatus('cp', [...(opts.recursive ? ['-r'] : []), src.path, dst.path]);
  }
  const { dest, args } = sshArgs(remote!);
  const side = (x: { m?: Machine; path: string }) => (x.m && !local(x) ? `${dest}:${x.path}` : x.path);
  if (opts.delta) {
    const e = ['ssh', ...args].map((a) => `'${a}'`).join(' ');
    return spawnStatus('rsync', ['-a', ...(opts.quiet ? ['-q'] : []), '-e', e, side(src), side(dst)]);
  }
  const scpArgs = args.map((a) => (a === '-p' ? '-P' : a));
  return spawnStatus('scp', [...scpArgs, ...(opts.recursive ? ['-r'] : []), ...(opts.quiet ? ['-q'] : []), side(src), side(dst)]);
}

/**
 * `machine mount`: the machine's PATH on LOCALDIR through sshfs (as Docker Machine
 * does), or `fusermount -u LOCALDIR` with `unmount`.
 */
export async function sshfsMount(m: Machine, path: string, localDir: string, unmount: boolean): Promise<number> {
  if (unmount) {
    const tool = onPath('fusermount3') ? 'fusermount3' : 'fusermount';
    if (!onPath(tool)) throw new InvalidArgumentError('fusermount is not installed', { hint: 'install FUSE (apt-get install fuse3)' });
    return spawnStatus(tool, ['-u', localDir]);
  }
  if (!onPath('sshfs')) throw new InvalidArgumentError('sshfs is not installed: machine mount needs it', { hint: 'install it (apt-get install sshfs)' });
  const c = m.driver.connection();
  if (c.kind !== 'ssh') throw new NotSupportedError(`machine "${m.host.Name}" (${m.host.DriverName} driver) has no SSH: mount works on SSH machines`);
  const opts = ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'LogLevel=quiet', 'IdentitiesOnly=yes', `IdentityFile=${c.keyPath}`, `Port=${c.port}`];
  return spawnStatus('sshfs', [...opts.flatMap((o) => ['-o', o]), `${c.user}@${c.host.includes(':') ? `[${c.host}]` : c.host}:${path}`, localDir]);
}
