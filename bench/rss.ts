/**
 * Idle memory: berthd's RSS vs dockerd + its containerd, both freshly started
 * and left idle for a few seconds, in one run; then berthd's RSS after 100 and
 * after CYCLES (default 1000) `docker run --rm --network none busybox true`
 * (create, start, wait, remove through the API; CYCLES=0 skips them).
 * Run: bench/rss.sh (BERTHD_BIN=bin/berthd for the built entry rather than the bundle)
 */
import { execFileSync, spawn } from 'node:child_process';
import { api, startDaemon } from '../test/fixtures/daemon.js';
import { busyboxEntries, layerTar } from '../test/fixtures/images.js';
import { anonKb, childPids, rssKb, startDockerd } from './lib/dockerd.js';

const SETTLE_MS = Number(process.env.SETTLE_MS ?? 5000);
const CYCLES = Number(process.env.CYCLES ?? 1000);
const berthd = await startDaemon();
const dockerd = await startDockerd();
// The floor of any Node daemon: node itself, idle, with berthd's heap flag.
const bareNode = spawn(process.execPath, ['--max-semi-space-size=2', '-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
let dockerdStopped = false;
try {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const b = rssKb(berthd.pid);
  const d = rssKb(dockerd.pid);
  const c = childPids(dockerd.pid).reduce((n, p) => n + rssKb(p), 0);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`idle RSS after ${SETTLE_MS / 1000}s (anonymous: RSS less mapped files such as the binary)`);
  console.log(`berthd               ${mb(b)} (anonymous ${mb(anonKb(berthd.pid))})`);
  console.log(`bare node            ${mb(rssKb(bareNode.pid!))} (anonymous ${mb(anonKb(bareNode.pid!))})`);
  console.log(`dockerd              ${mb(d)}`);
  console.log(`containerd           ${mb(c)}`);
  console.log(`dockerd + containerd ${mb(d + c)}`);
  console.log(`berthd / (dockerd + containerd): ${(b / (d + c)).toFixed(2)}x (goal <= 0.5x)`);
  bareNode.kill();
  await dockerd.stop();
  dockerdStopped = true;
  if (CYCLES > 0) {
    execFileSync('docker', ['import', '-', 'busybox:latest'], { input: await layerTar(busyboxEntries()), env: { ...process.env, ...berthd.env }, stdio: ['pipe', 'ignore', 'inherit'] });
    const at: Record<number, number> = {};
    for (let i = 1; i <= CYCLES; i++) {
      const { json } = await api(berthd, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } });
      const id = (json as { Id: string }).Id;
      await api(berthd, 'POST', `/containers/${id}/start`);
      await api(berthd, 'POST', `/containers/${id}/wait`);
      await api(berthd, 'DELETE', `/containers/${id}`);
      if (i === 100 || i === CYCLES || i % 250 === 0) {
        at[i] = rssKb(berthd.pid);
        console.log(`berthd after ${String(i).padStart(5)} run/rm ${mb(at[i])}`);
      }
    }
    console.log(`berthd after ${CYCLES} run/rm vs after 100: ${((at[CYCLES] / at[100] - 1) * 100).toFixed(1)}% (goal within 10%)`);
    await new Promise((r) => setTimeout(r, SETTLE_MS)); // the idle collector runs after 2-4 s without a request
    const idle = rssKb(berthd.pid);
    console.log(`berthd ${SETTLE_MS / 1000}s idle after that  ${mb(idle)} (${((idle / at[100] - 1) * 100).toFixed(1)}% vs after 100)`);
  }
} finally {
  if (bareNode.exitCode === null) bareNode.kill();
  if (!dockerdStopped) await dockerd.stop();
  await berthd.stop();
}
