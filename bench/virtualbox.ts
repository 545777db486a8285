/**
 * create -d virtualbox to engine ready, through the driver's real SOAP traffic to the
 * fake vboxwebsrv (test/fixtures/vboxwebsrv.ts), whose VMs boot as namespace SSH hosts;
 * run by bench/virtualbox.sh. The time is split into "Creating the host" (the driver:
 * web service logon, WSDL parse, SOAP calls, boot wait) and the rest (provisioning over
 * SSH, the same code as generic). Peer in the same run: create -d generic on a namespace
 * host, which is that provisioning alone.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshHosts } from '../test/fixtures/sshhosts.js';
import { startFakeVbox } from '../test/fixtures/vboxwebsrv.js';

const runs = Number(process.env.RUNS ?? 3);
const berth = join(process.cwd(), 'bin', 'berth');
const stats = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return { min: s[0], median: s[Math.floor(s.length / 2)] }; };
const fmt = (name: string, xs: number[]) => { const { min, median } = stats(xs); return `${name.padEnd(52)} min ${min.toFixed(0).padStart(6)} ms   median ${median.toFixed(0).padStart(6)} ms`; };

/** Runs berth without blocking this process (the fake answers from here); returns ms and stdout. */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(berth, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - t, stdout }) : reject(new Error(`berth ${args.join(' ')}: ${stderr}`))));
  });
}

/** listr's plain renderer ends a step's line with its duration: "[1.23s]" or "[1m2.3s]". */
function stepMs(stdout: string, title: string): number {
  const m = new RegExp(`${title}.*\\[(?:(\\d+)m)?([\\d.]+)s\\]`).exec(stdout);
  if (!m) throw new Error(`no timing for "${title}" in:\n${stdout}`);
  return (Number(m[1] ?? 0) * 60 + Number(m[2])) * 1000;
}

const f = await startSshHosts(1);
const vbox = await startFakeVbox({ guests: f, networksConf: [f.subnet] });
const work = mkdtempSync(join(tmpdir(), 'berth-bench-vbox-'));
const image = join(work, 'tiny.qcow2');
spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
const total: number[] = [];
const driver: number[] = [];
const rest: number[] = [];
const generic: number[] = [];
const soapCalls: number[] = [];
try {
  const env = { BERTH_STORAGE_PATH: join(work, 'store'), VIRTUALBOX_WEBSERVICE_URL: vbox.url };
  const cidr = f.subnet.replace(/\.0\/24$/, '.1/24');
  for (let i = 0; i < runs; i++) {
    const before = [...vbox.calls.values()].reduce((a, b) => a + b, 0);
    const r = await timed(['machine', 'create', '-d', 'virtualbox', '--virtualbox-image', image, '--virtualbox-hostonly-cidr', cidr, '--virtualbox-no-share', `vb${i}`], env);
    soapCalls.push([...vbox.calls.values()].reduce((a, b) => a + b, 0) - before);
    total.push(r.ms);
    driver.push(stepMs(r.stdout, 'Creating the host'));
    rest.push(r.ms - driver.at(-1)!);
    await timed(['machine', 'rm', '-y', `vb${i}`], env);
    generic.push((await timed(['machine', 'create', '-d', 'generic', '--generic-ip-address', f.hosts[0].ip, '--generic-ssh-key', f.keyPath, `g${i}`], env)).ms);
    await timed(['machine', 'rm', '-y', `g${i}`], env);
  }
} finally {
  await vbox.stop();
  f.cleanup();
  rmSync(work, { recursive: true, force: true });
}
console.log(fmt('create -d virtualbox (fake vboxwebsrv), to engine ready', total));
console.log(fmt('  of which the driver: SOAP + boot wait', driver));
console.log(fmt('  of which the rest: provisioning over SSH', rest));
console.log(fmt('peer: create -d generic on a namespace host', generic));
console.log(`SOAP calls per create: ${stats(soapCalls).median}`);
console.log(`ratio virtualbox / generic (medians): ${(stats(total).median / stats(generic).median).toFixed(2)}`);
process.exit(0);
