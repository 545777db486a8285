/**
 * Interrupted and failing creates on a namespace host: SIGINT/SIGTERM at each step of
 * `machine create -d generic` stops it cleanly (exit 130/143), keeps either nothing or
 * a half-made machine that start refuses and the next create resumes; kill -9 leaves
 * a machine that `provision` finishes; a second create of a name whose create still
 * runs is refused and deletes nothing; a refused SSH port fails at once.
 */
import { jest } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { berth, berthBin, removeTempDirs, tempDir, type Run } from './helpers.js';

jest.setTimeout(240_000);

let f: SshHosts;
const store = tempDir('berth-intr-store-');
const env = { BERTH_STORAGE_PATH: store, BERTH_SSH_TIMEOUT: '5', DOCKER_HOST: '' };
const machines = () => readdirSync(join(store, 'machines'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const createArgs = (name: string, extra: string[] = []) => ['machine', 'create', '-d', 'generic', '--generic-ip-address', f.hosts[0].ip, '--generic-ssh-key', f.keyPath, ...extra, name];

const STEPS = ['Reserving the name and keys', 'Creating the host', 'Waiting for the host', 'Detecting the OS', 'Installing the engine bundle',
  'Configuring TLS and starting the engine', 'Waiting for the engine'];

/** Runs create and sends `signal` as soon as the step titled `at` has started (plain progress prints each start). */
function createAndSignal(args: string[], at: string, signal: NodeJS.Signals): Promise<Run & { sent: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(berthBin(), args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (c) => {
      stdout += c;
      // "Checking the keys" is the first step of a resumed create.
      const started = stdout.split('\n').some((l) => /STARTED|\u276f|\u25fc|\u2192/.test(l) && (l.includes(at) || (at === STEPS[0] && l.includes('Checking the keys'))));
      if (!sent && started) {
        sent = true;
        child.kill(signal);
      }
    });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : -1), stdout, stderr, sent }));
  });
}

beforeAll(async () => {
  f = await startSshHosts(1);
});
afterAll(() => {
  f?.cleanup();
  removeTempDirs();
});

test('SIGINT/SIGTERM at each step: clean stop, nothing or a half-made machine, the next create resumes', async () => {
  const outcomes: string[] = [];
  for (const [i, step] of STEPS.entries()) {
    const signal = i % 2 ? 'SIGTERM' : 'SIGINT';
    const r = await createAndSignal(createArgs('m'), step, signal);
    expect(r.sent).toBe(true);
    // The signal lands in this step or, when the step is quicker than the signal, a later one.
    if (r.code === 0) {
      outcomes.push(`${step}: finished`);
      continue;
    }
    expect({ step, code: r.code }).toEqual({ step, code: signal === 'SIGINT' ? 130 : 143 });
    expect(r.stderr).toMatch(new RegExp(`create of "m" interrupted \\(${signal}\\) at "[^"]+"`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const kept = machines().includes('m');
    if (!kept) {
      expect(r.stderr).toMatch(/nothing was kept/);
      outcomes.push(`${step}: nothing kept`);
      continue;
    }
    outcomes.push(`${step}: half-made`);
    expect(r.stderr).toMatch(/Hint: run the same create again to finish it/);
    expect(existsSync(join(store, 'machines', 'm', 'creating.json'))).toBe(true);
    const ls = berth(['machine', 'ls', '--format', '{{.Name}} {{.State}} {{.Error}}'], env);
    expect(ls.stdout).toBe('m Error machine "m" was not fully created\n');
    for (const verb of ['start', 'env']) {
      const used = berth(['machine', verb, 'm'], env);
      expect(used.code).toBe(1);
      expect(used.stderr).toMatch(/^Error: machine "m" was not fully created\nHint: run the same `berth machine create`/);
    }
  }
  // Before the host exists nothing is kept (when the signal is quicker than those steps), after it a machine to resume.
  expect(outcomes.filter((o) => o.endsWith('half-made')).length).toBeGreaterThanOrEqual(3);
  const done = berth(createArgs('m'), env);
  expect({ code: done.code, stderr: done.stderr }).toEqual({ code: 0, stderr: '' });
  expect(existsSync(join(store, 'machines', 'm', 'creating.json'))).toBe(false);
  expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}'], env).stdout).toBe('m Running\n');
  expect(berth(createArgs('m'), env).stderr).toMatch(/^Error: Host already exists: "m"/);
});

test('kill -9 during create: provision finishes the machine', async () => {
  expect(berth(['machine', 'rm', '-y', 'm'], env).code).toBe(0);
  const r = await createAndSignal(createArgs('k'), 'Installing the engine bundle', 'SIGKILL');
  expect(r.code).not.toBe(0);
  expect(machines()).toEqual(['k']);
  expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}'], env).stdout).toBe('k Error\n');
  const p = berth(['machine', 'provision', 'k'], env);
  expect({ code: p.code, stderr: p.stderr }).toEqual({ code: 0, stderr: '' });
  expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}'], env).stdout).toBe('k Running\n');
  expect(berth(['machine', 'rm', '-y', 'k'], env).code).toBe(0);
});

test('a create of a name whose create still runs is refused, and leaves that create alone', async () => {
  // The first create is held between its reservation and its first save: its SSH key's
  // public half is a FIFO, and copying it into the machine waits until something writes to it.
  const key = join(tempDir('berth-intr-fifo-'), 'id');
  copyFileSync(f.keyPath, key);
  expect(spawnSync('mkfifo', [`${key}.pub`]).status).toBe(0);
  const held = spawn(berthBin(), ['machine', 'create', '-d', 'generic', '--generic-ip-address', f.hosts[0].ip, '--generic-ssh-key', key, 'h'], { env: { ...process.env, ...env } });
  let heldErr = '';
  held.stderr.on('data', (c) => { heldErr += c; });
  const heldDone = new Promise<number | null>((r) => held.on('close', (code) => r(code)));
  try {
    const marker = join(store, 'machines', 'h', 'creating.json');
    while (!existsSync(marker) && held.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    const refusal = `Error: a create of machine "h" is running (process ${held.pid}, at "Reserving the name and keys")\n` +
      `Hint: wait for it to finish, or stop it (kill ${held.pid}) and remove the machine with \`berth machine rm -f h\`\n`;
    const second = berth(createArgs('h'), env);
    expect({ code: second.code, stderr: second.stderr }).toEqual({ code: 1, stderr: refusal });
    const rm = berth(['machine', 'rm', '-f', 'h'], env);
    expect({ code: rm.code, stderr: rm.stderr }).toEqual({ code: 1, stderr: refusal });
    expect(JSON.parse(readFileSync(marker, 'utf8'))).toEqual({ hostCreated: false, step: 'Reserving the name and keys', pid: held.pid });

    // Released: opening the FIFO's other end lets the copy's open return. The copy may
    // then read nothing and close before this write (EPIPE): released all the same.
    const fd = openSync(`${key}.pub`, constants.O_WRONLY | constants.O_NONBLOCK);
    try {
      writeSync(fd, readFileSync(`${f.keyPath}.pub`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    } finally {
      closeSync(fd);
    }
    expect({ code: await heldDone, stderr: heldErr }).toEqual({ code: 0, stderr: '' });
    expect(berth(['machine', 'ls', '--format', '{{.Name}} {{.State}}'], env).stdout).toBe('h Running\n');
    expect(berth(['machine', 'rm', '-y', 'h'], env).code).toBe(0);
  } finally {
    if (held.exitCode === null && held.signalCode === null) {
      held.kill('SIGKILL');
      await heldDone;
    }
    // a failure here must not leave "h" to the next tests
    if (machines().includes('h')) berth(['machine', 'rm', '-f', '-y', 'h'], env);
  }
});

test('a refused SSH port fails at once, naming host and port; nothing left', () => {
  const r = berth(createArgs('refused', ['--generic-ssh-port', '1']), { ...env, BERTH_SSH_TIMEOUT: '60' });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(new RegExp(`^Error: SSH to root@${f.hosts[0].ip.replace(/\./g, '\\.')}:1 was refused`, 'm'));
  expect(machines()).toEqual([]);
});
