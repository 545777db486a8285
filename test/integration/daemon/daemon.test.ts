/** berthd as a process: flags, lock, pidfile, signals, ping headers, events, df. */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'node:http';
import { api, berthdEntry, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { busyboxEntries, layerTar } from '../../fixtures/images.js';

const run = promisify(execFile);
let daemon: Daemon;
let work: string;

async function berthd(...args: string[]): Promise<{ code: number; out: string }> {
  const entry = await berthdEntry();
  return run(process.execPath, [...entry, ...args], { timeout: 20_000 }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e) => ({ code: e.code as number, out: String(e.stdout) + String(e.stderr) }),
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'berthd-test-'));
  daemon = await startDaemon({ args: ['--label', 'tier=test', '--pidfile', join(work, 'berthd.pid')] });
});

afterAll(async () => {
  await daemon?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('bad flags and bad config files are one-line errors', async () => {
  const bogus = await berthd('--bogus');
  expect(bogus.code).toBe(1);
  expect(bogus.out.trim().split('\n')).toHaveLength(1);
  expect(bogus.out).toMatch(/^berthd: Unknown option '--bogus'/);
  const host = await berthd('-H', 'ftp://x');
  expect(host.out).toMatch(/-H ftp:\/\/x: use unix:\/\/\/path\/to.sock, tcp:\/\/HOST:PORT or fd:\/\//);
  writeFileSync(join(work, 'daemon.json'), '{ nope');
  const cfg = await berthd('--config-file', join(work, 'daemon.json'));
  expect(cfg.code).toBe(1);
  expect(cfg.out).toMatch(/--config-file .*daemon.json: invalid JSON/);
  const tls = await berthd('--tlsverify', '-H', 'tcp://127.0.0.1:0');
  expect(tls.out).toMatch(/need --tlscert and --tlskey|needs --tlscacert/);
  expect((await berthd('--version')).out).toMatch(/^berthd version \d+\.\d+/);
});

test('a data-root locked by a running berthd is refused', async () => {
  const second = await berthd('--data-root', daemon.dataRoot, '--exec-root', join(work, 'run2'), '-H', `unix://${join(work, 'second.sock')}`);
  expect(second.code).toBe(1);
  expect(second.out).toContain(`data-root ${daemon.dataRoot} is in use by berthd pid ${daemon.pid}`);
});

test('the pidfile holds the pid; labels and data-root show in info', async () => {
  expect(readFileSync(join(work, 'berthd.pid'), 'utf8').trim()).toBe(String(daemon.pid));
  const info = (await api(daemon, 'GET', '/info')).json;
  expect(info.Labels).toEqual(['tier=test']);
  expect(info.DockerRootDir).toBe(daemon.dataRoot);
  expect(info.KernelVersion).toBeTruthy();
});

test('HEAD /_ping announces the API version and docker headers', async () => {
  const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const req = request({ socketPath: daemon.socket, path: '/_ping', method: 'HEAD' }, (res) => {
      res.resume();
      resolve(res.headers);
    });
    req.on('error', reject);
    req.end();
  });
  expect(headers['api-version']).toBe('1.47');
  expect(headers['ostype']).toBe('linux');
  expect(headers['docker-experimental']).toBe('false');
  expect(headers['cache-control']).toContain('no-cache');
  expect((await api(daemon, 'GET', '/v1.24/version')).json.ApiVersion).toBe('1.47');
  expect((await api(daemon, 'GET', '/v1.48/version')).status).toBe(400);
});

test('events stream with filters, since and until; import and tag emit image events', async () => {
  const since = Date.now() / 1000;
  const tar = await layerTar(busyboxEntries());
  const imp = await api(daemon, 'POST', '/images/create?fromSrc=-&repo=imported/fs&tag=v1&changes=CMD%20%5B%22sh%22%5D', tar);
  expect(imp.status).toBe(200);
  const id = imp.lines[imp.lines.length - 1].status as string;
  expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect((await api(daemon, 'POST', '/images/imported/fs:v1/tag?repo=imported/fs&tag=v2')).status).toBe(201);
  const until = Date.now() / 1000 + 0.2;
  const filters = encodeURIComponent(JSON.stringify({ type: ['image'] }));
  const ev = await api(daemon, 'GET', `/events?since=${since}&until=${until}&filters=${filters}`);
  expect(ev.lines.map((e) => e.Action)).toEqual(['import', 'tag']);
  expect(ev.lines[1].Actor.Attributes.name).toBe('imported/fs:v2');
  const cfg = (await api(daemon, 'GET', '/images/imported/fs:v1/json')).json;
  expect(cfg.Config.Cmd).toEqual(['sh']);
  const df = (await api(daemon, 'GET', '/system/df')).json;
  expect(df.Images.map((i: { Id: string }) => i.Id)).toContain(id);
  expect(df.LayersSize).toBeGreaterThan(0);
});

test('SIGTERM stops cleanly: exit 0, pidfile, socket and lock removed', async () => {
  const d = await startDaemon({ keep: true });
  const pidfile = join(d.execRoot, 'berthd.pid');
  expect(existsSync(pidfile)).toBe(true);
  const code = new Promise((r) => d.process.once('exit', (c) => r(c)));
  process.kill(d.pid, 'SIGTERM');
  expect(await code).toBe(0);
  expect(existsSync(pidfile)).toBe(false);
  expect(existsSync(d.socket)).toBe(false);
  expect(existsSync(join(d.dataRoot, 'berthd.lock'))).toBe(false);
  rmSync(join(d.dataRoot, '..'), { recursive: true, force: true });
});
