/**
 * The monitor: ATTACH/RESIZE/WAIT on its socket, json-file logs with rotation, the
 * terminal handed over a console socket, and exec processes with their own monitor.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Harness, RECVTTY } from './harness.js';

let h: Harness;
beforeAll(() => { h = new Harness(); });
afterAll(() => h?.cleanup());

interface Conn { sock: Socket; data: Buffer[]; closed: Promise<Buffer> }

function open(path: string, header: string): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const data: Buffer[] = [];
    const closed = new Promise<Buffer>((res) => sock.on('close', () => res(Buffer.concat(data))));
    sock.on('data', (d: Buffer) => data.push(d));
    sock.once('error', reject);
    sock.once('connect', () => { sock.write(header); resolve({ sock, data, closed }); });
  });
}

/** Docker's multiplexed frames → text per stream. */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out = { stdout: '', stderr: '' };
  for (let off = 0; off + 8 <= buf.length;) {
    const size = buf.readUInt32BE(off + 4);
    const chunk = buf.subarray(off + 8, off + 8 + size).toString();
    if (buf[off] === 1) out.stdout += chunk; else if (buf[off] === 2) out.stderr += chunk;
    off += 8 + size;
  }
  return out;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 15000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('ATTACH streams framed output and feeds stdin; stdin-once closes it; WAIT answers; logs are json-file', async () => {
  const id = h.id();
  const sock = join(h.work, `${id}.sock`);
  const log = join(h.work, `${id}.log`);
  const b = h.bundle({
    id, args: ['sh', '-c', 'echo out1; echo err1 >&2; while read line; do echo got:$line; done; echo eof; exit 4'],
    annotations: { 'io.berth.monitor.socket': sock, 'io.berth.log.path': log, 'io.berth.stdin': '1', 'io.berth.stdin-once': '1' },
  });
  const created = h.rt(['create', '--bundle', b.dir, id]);
  expect(created.stderr).toBe('');
  expect(existsSync(sock)).toBe(true); // the monitor outlives `create`
  const att = await open(sock, 'ATTACH stdin=1 stdout=1 stderr=1\n');
  const wait = await open(sock, 'WAIT\n');
  expect(h.rt(['start', id]).status).toBe(0);
  att.sock.end('hello\nworld\n'); // half-close: stdin-once closes the container's stdin
  const streams = demux(await att.closed);
  expect(streams.stdout).toBe('out1\ngot:hello\ngot:world\neof\n');
  expect(streams.stderr).toBe('err1\n');
  const answer = JSON.parse((await wait.closed).toString()) as { exitCode: number; finishedAt: string; oomKilled: boolean };
  expect(answer.exitCode).toBe(4);
  expect(answer.oomKilled).toBe(false);
  expect(Number.isNaN(Date.parse(answer.finishedAt))).toBe(false);
  const st = h.state(id);
  expect(st.status).toBe('stopped');
  expect(st.exitCode).toBe(4);
  expect(st.finishedAt).toBe(answer.finishedAt);
  const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { log: string; stream: string; time: string });
  expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.log)).toEqual(['out1\n', 'got:hello\n', 'got:world\n', 'eof\n']);
  expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.log)).toEqual(['err1\n']);
  expect(lines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(l.time))).toBe(true);
  expect(existsSync(sock)).toBe(false); // gone with the container
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('a TTY container: the monitor owns the pty, RESIZE sets its size, ATTACH gets raw bytes', async () => {
  const id = h.id();
  const sock = join(h.work, `${id}.sock`);
  const b = h.bundle({
    id, terminal: true, args: ['sh', '-c', 'read x; stty size; echo tty=$(tty)'],
    annotations: { 'io.berth.monitor.socket': sock },
  });
  expect(h.rt(['create', '--bundle', b.dir, id]).stderr).toBe('');
  const att = await open(sock, 'ATTACH stdin=1 stdout=1 stderr=1\n');
  expect(h.rt(['start', id]).status).toBe(0);
  const rs = await open(sock, 'RESIZE 31 101\n');
  expect((await rs.closed).toString()).toBe('OK\n');
  att.sock.write('go\r');
  const out = (await att.closed).toString();
  expect(out).toMatch(/31 101/);
  expect(out).toMatch(/tty=\/dev\/pts\/0/);
  expect(out.startsWith('\u0001')).toBe(false); // raw, no frame headers
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('logs rotate at max-size, keeping max-file files', async () => {
  const id = h.id();
  const log = join(h.work, `${id}.log`);
  const b = h.bundle({
    id, args: ['sh', '-c', 'for i in $(seq 1 40); do echo line-$i; done'],
    annotations: { 'io.berth.log.path': log, 'io.berth.log.max-size': '300', 'io.berth.log.max-file': '3' },
  });
  expect(h.rt(['run', '--detach', '--bundle', b.dir, id]).status).toBe(0);
  await h.waitStatus(id, 'stopped');
  expect(existsSync(`${log}.1`)).toBe(true);
  expect(existsSync(`${log}.2`)).toBe(true);
  expect(existsSync(`${log}.3`)).toBe(false);
  for (const f of [log, `${log}.1`, `${log}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(300);
  const last = readFileSync(log, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { log: string }).log);
  expect(last[last.length - 1]).toBe('line-40\n');
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('a terminal goes to the --console-socket receiver (SCM_RIGHTS)', async () => {
  if (!existsSync(RECVTTY)) throw new Error(`${RECVTTY} is missing: run \`make -C native\``);
  const sock = join(h.work, 'console.sock');
  const outFile = join(h.work, 'console.out');
  const recv = spawn(RECVTTY, [sock, outFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((res) => recv.on('exit', (c) => res(c)));
  await new Promise<void>((res) => recv.stdout!.once('data', () => res()));
  const id = h.id();
  const b = h.bundle({ id, terminal: true, args: ['sh', '-c', 'tty; stty size; echo hi-from-tty'], edit: (s) => { s.process.consoleSize = { height: 25, width: 90 }; } });
  const r = h.rt(['run', '--console-socket', sock, '--bundle', b.dir, id]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(await exited).toBe(0);
  const out = readFileSync(outFile, 'utf8');
  expect(out).toMatch(/\/dev\/pts\/0/);
  expect(out).toMatch(/25 90/);
  expect(out).toMatch(/hi-from-tty/);
});

test('exec with its own monitor: output before the first ATTACH is replayed, exit file written', async () => {
  const id = h.id();
  const b = h.bundle({ id, args: ['sleep', '60'] });
  expect(h.rt(['run', '-d', '--bundle', b.dir, id]).status).toBe(0);
  const sock = join(h.work, `${id}-exec.sock`);
  const exitFile = join(h.work, `${id}-exec.exit`);
  const pidFile = join(h.work, `${id}-exec.pid`);
  const r = h.rt(['exec', '--detach', '--monitor-socket', sock, '--exit-file', exitFile, '--pid-file', pidFile, id, 'sh', '-c', 'echo early; echo oops >&2; exit 6']);
  expect(r.stderr).toBe('');
  expect(Number(readFileSync(pidFile, 'utf8'))).toBeGreaterThan(1);
  // WAIT is answered at the exit, without waiting for an ATTACH; the ATTACH that comes
  // afterwards still gets the output made before it
  const wait = await open(sock, 'WAIT\n');
  expect((JSON.parse((await wait.closed).toString()) as { exitCode: number }).exitCode).toBe(6);
  const att = await open(sock, 'ATTACH stdin=0 stdout=1 stderr=1\n');
  expect(demux(await att.closed)).toEqual({ stdout: 'early\n', stderr: 'oops\n' });
  await until(() => existsSync(exitFile), 'the exit file');
  expect((JSON.parse(readFileSync(exitFile, 'utf8')) as { exitCode: number }).exitCode).toBe(6);
  expect(h.state(id).status).toBe('running'); // the container is not affected
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});

test('a process that writes before it reads its stdin does not deadlock with a client that writes first', async () => {
  const id = h.id();
  const sock = join(h.work, `${id}.sock`);
  const b = h.bundle({
    id, args: ['sh', '-c', 'head -c 300000 /dev/zero | tr "\\0" x; wc -c'],
    annotations: { 'io.berth.monitor.socket': sock, 'io.berth.stdin': '1', 'io.berth.stdin-once': '1' },
  });
  expect(h.rt(['create', '--bundle', b.dir, id]).stderr).toBe('');
  const att = await open(sock, 'ATTACH stdin=1 stdout=1 stderr=1\n');
  att.sock.end(Buffer.alloc(500000, 'y')); // far more than a pipe holds, before anything is read
  expect(h.rt(['start', id]).status).toBe(0);
  const out = demux(await att.closed).stdout;
  expect(out.length).toBe(300000 + '500000\n'.length);
  expect(out.endsWith('500000\n')).toBe(true);
  expect(h.rt(['delete', id]).status).toBe(0);
});

test('bad header lines get one ERR line naming the usage; the monitor keeps serving', async () => {
  const id = h.id();
  const sock = join(h.work, `${id}.sock`);
  const b = h.bundle({ id, args: ['sleep', '60'], annotations: { 'io.berth.monitor.socket': sock } });
  const created = h.rt(['run', '-d', '--bundle', b.dir, id]);
  expect(created.stderr).toBe('');
  const answer = async (header: string | Buffer) => {
    const c = await open(sock, header as string);
    return (await c.closed).toString();
  };
  expect(await answer('RESIZE 70000 10\n')).toBe('ERR usage: RESIZE ROWS COLS (0 to 65535 each)\n');
  expect(await answer('ATTACHED stdin=1\n')).toBe('ERR unknown command: use ATTACH, RESIZE, WAIT or START\n');
  expect(await answer(`${'x'.repeat(300)}\n`)).toBe('ERR the header line is too long or holds a NUL byte\n');
  expect(await answer(Buffer.from('WA\0IT\n'))).toBe('ERR the header line is too long or holds a NUL byte\n');
  expect(await answer('RESIZE 31 101\n')).toBe('ERR the process has no terminal\n');
  expect(h.state(id).status).toBe('running');
  expect(h.rt(['delete', '--force', id]).status).toBe(0);
});
