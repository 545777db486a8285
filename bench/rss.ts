/**
 * Idle memory: berthd's RSS vs dockerd + its containerd, both freshly started
 * and left idle for a few seconds, in one run. Run: bench/rss.sh
 */
import { startDaemon } from '../test/fixtures/daemon.js';
import { childPids, rssKb, startDockerd } from './lib/dockerd.js';

const SETTLE_MS = Number(process.env.SETTLE_MS ?? 5000);
const berthd = await startDaemon();
const dockerd = await startDockerd();
try {
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const b = rssKb(berthd.pid);
  const d = rssKb(dockerd.pid);
  const c = childPids(dockerd.pid).reduce((n, p) => n + rssKb(p), 0);
  const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
  console.log(`idle RSS after ${SETTLE_MS / 1000}s`);
  console.log(`berthd               ${mb(b)}`);
  console.log(`dockerd              ${mb(d)}`);
  console.log(`containerd           ${mb(c)}`);
  console.log(`dockerd + containerd ${mb(d + c)}`);
  console.log(`berthd / (dockerd + containerd): ${(b / (d + c)).toFixed(2)}x (goal <= 0.5x)`);
} finally {
  await dockerd.stop();
  await berthd.stop();
}
