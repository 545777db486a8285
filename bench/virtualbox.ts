/**
 * create -d virtualbox to engine ready, through the driver's real SOAP traffic to the
 * fake vboxwebsrv (test/fixtures/vboxwebsrv.ts), whose VMs boot as namespace SSH hosts;
 * run by bench/virtualbox.sh. The fake notes when each SOAP call arrives, which splits
 * the time into: start-up (CLI, checks, the WSDL parse) up to the first call; the
 * driver's SOAP calls and boot wait up to the last call; provisioning over SSH (the same
 * code as generic) from there to the exit. Peer in the same run: create -d generic on a
 * fresh namespace host, which is start-up plus that provisioning.
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

/** Runs berth without blocking this process (the fake answers from here). */
function timed(args: string[], env: NodeJS.ProcessEnv): Promise<{ start: number; end: number; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(berth, args, { env: { ...process.env, ...env } });
    let stderr = '';
    c.stderr.on('data', (d) => { stderr += d; });
    c.on('close', (code) => {
      const end = performance.now();
      if (code === 0) resolve({ start, end, ms: end - start });
      else reject(new Error(`berth ${args.join(' ')}: ${stderr}`));
    });
  });
}

const f = await startSshHosts(0);
const vbox = await startFakeVbox({ guests: f, networksConf: [f.subnet] });
const work = mkdtempSync(join(tmpdir(), 'berth-bench-vbox-'));
const image = join(work, 'tiny.qcow2');
spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '64M']);
const total: number[] = [];
const startup: number[] = [];
const driver: number[] = [];
const rest: number[] = [];
const generic: number[] = [];
const soapCalls: number[] = [];
try {
  const env = { BERTH_STORAGE_PATH: join(work, 'store'), VIRTUALBOX_WEBSERVICE_URL: vbox.url };
  const cidr = f.subnet.replace(/\.0\/24$/, '.1/24');
  for (let i = 0; i < runs; i++) {
    const r = await timed(['machine', 'create', '-d', 'virtualbox', '--virtualbox-image', image, '--virtualbox-hostonly-cidr', cidr, '--virtualbox-no-share', `vb${i}`], env);
    const mine = vbox.callTimes.filter((t) => t >= r.start && t <= r.end);
    soapCalls.push(mine.length);
    total.push(r.ms);
    startup.push(mine[0] - r.start);
    driver.push(mine.at(-1)! - mine[0]);
    rest.push(r.end - mine.at(-1)!);
    await timed(['machine', 'rm', '-y', `vb${i}`], env);
    // A fresh host each time, as each VM is: the bundle is uploaded both ways.
    const host = await f.addHost();
    generic.push((await timed(['machine', 'create', '-d', 'generic', '--generic-ip-address', host.ip, '--generic-ssh-key', f.keyPath, `g${i}`], env)).ms);
    await timed(['machine', 'rm', '-y', `g${i}`], env);
  }
} finally {
  await vbox.stop();
  f.cleanup();
  rmSync(work, { recursive: true, force: true });
}
console.log(fmt('create -d virtualbox (fake vboxwebsrv), to engine ready', total));
console.log(fmt('  start-up, checks, WSDL parse (to the 1st SOAP call)', startup));
console.log(fmt('  driver: SOAP calls + boot wait (1st to last call)', driver));
console.log(fmt('  provisioning over SSH (last call to exit)', rest));
console.log(fmt('peer: create -d generic on a namespace host', generic));
console.log(`SOAP calls per create: ${stats(soapCalls).median}`);
console.log(`ratio virtualbox / generic (medians): ${(stats(total).median / stats(generic).median).toFixed(2)}`);
process.exit(0);
