/**
 * What must hold after berthd restarts from a kill -9, checked against the kernel and
 * the disk rather than berthd's word: every record parses; each container's state
 * matches its runtime state, monitor and processes; no mount, cgroup, monitor, netns,
 * temp file or content blob is left behind by a container or image that is gone; logs
 * seen before the kill are still there. Returns the violations found (empty = healthy).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimePath } from '../../src/common/paths.js';
import { api, type Daemon } from '../fixtures/daemon.js';

export interface Seen {
  /** Container id -> a log line read from it before the kill. */
  logs: Map<string, string>;
  /** Every container id the campaign ever made (for leaks of ones now gone). */
  containers: Set<string>;
}

function jsonFiles(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      // Content blobs are bytes by digest, and rootfs trees are the containers' own files.
      if (['content', 'snapshots', 'layers', 'volumes'].includes(e.name) && dir.split('/').length <= 6) continue;
      jsonFiles(p, out);
    } else if (e.name.endsWith('.json')) out.push(p);
  }
  return out;
}

/**
 * The runtime's view of each container under the engine's runtime root. A directory
 * whose state cannot be read (no state.json, a torn one, a runtime that fails) is
 * reported in `unreadable`: after a restart nothing is in flight, so it is a leftover
 * of a crash that the engine did not clean up.
 */
function runtimeStates(d: Daemon): { states: Map<string, { status: string; pid: number }>; unreadable: string[] } {
  const states = new Map<string, { status: string; pid: number }>();
  const unreadable: string[] = [];
  const root = join(d.execRoot, 'runtime');
  if (!existsSync(root)) return { states, unreadable };
  for (const e of readdirSync(root, { withFileTypes: true })) {
    // Dot entries are the runtime's own (its seccomp cache), not containers.
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const id = e.name;
    const res = spawnSync(runtimePath(), ['--root', root, 'state', id], { encoding: 'utf8' });
    try {
      if (res.status !== 0) throw new Error(`exit ${res.status ?? res.signal}: ${res.stderr.trim()}`);
      states.set(id, JSON.parse(res.stdout));
    } catch (err) {
      // Gone meanwhile (a removal the engine was finishing) is not a leftover.
      if (existsSync(join(root, id))) unreadable.push(`runtime state of ${id.slice(0, 12)} is unreadable: ${(err as Error).message}`);
    }
  }
  return { states, unreadable };
}

/** berth-monitor processes of this engine: forked from `berth-runtime … create --bundle <execRoot>/bundles/<id>`. */
export function monitors(d: Daemon): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'berth-monitor') continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const root = argv[argv.indexOf('--root') + 1];
      if (root !== join(d.execRoot, 'runtime')) continue;
      out.set(argv.filter(Boolean).at(-1)!, Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const alive = (pid: number) => pid > 0 && existsSync(`/proc/${pid}`);

export async function checkInvariants(d: Daemon, seen: Seen): Promise<string[]> {
  const bad: string[] = [];
  for (const f of jsonFiles(d.dataRoot)) {
    try {
      JSON.parse(readFileSync(f, 'utf8'));
    } catch (err) {
      bad.push(`record ${f.slice(d.dataRoot.length)} does not parse: ${(err as Error).message}`);
    }
  }
  for (const dir of ['tmp', 'content/ingest']) {
    const p = join(d.dataRoot, dir);
    if (existsSync(p) && readdirSync(p).length) bad.push(`temp files left in ${dir}: ${readdirSync(p).join(' ')}`);
  }

  const list = await api(d, 'GET', '/containers/json?all=1');
  const engine = new Map<string, string>();
  for (const c of list.json as Array<{ Id: string; State: string }>) engine.set(c.Id, c.State);
  const { states: rt, unreadable } = runtimeStates(d);
  bad.push(...unreadable);
  const mons = monitors(d);
  for (const [id, state] of engine) {
    const r = rt.get(id);
    const insp = (await api(d, 'GET', `/containers/${id}/json`)).json;
    if (state === 'running' || state === 'paused') {
      if (r?.status !== state) bad.push(`container ${id.slice(0, 12)} is ${state} for the engine but ${r?.status ?? 'absent'} for the runtime`);
      if (!alive(insp.State.Pid)) bad.push(`container ${id.slice(0, 12)} is ${state} with pid ${insp.State.Pid}, which is not alive`);
    } else if (r && r.status !== 'stopped' && !(state === 'created' && r.status === 'created')) {
      bad.push(`container ${id.slice(0, 12)} is ${state} for the engine but ${r.status} for the runtime (pid ${r.pid})`);
    }
    const log = seen.logs.get(id);
    if (log) {
      const logs = (await api(d, 'GET', `/containers/${id}/logs?stdout=1&stderr=1`)).body.toString('latin1');
      if (!logs.includes(log)) bad.push(`container ${id.slice(0, 12)} lost the log line ${JSON.stringify(log)} written before the kill`);
    }
  }
  for (const [id, r] of rt) {
    // Even a stopped one: its state directory (and maybe its cgroup) is a leak.
    if (!engine.has(id)) bad.push(`runtime container ${id.slice(0, 12)} (${r.status}, pid ${r.pid}) belongs to no engine container`);
  }
  for (const [id, pid] of mons) {
    const state = engine.get(id);
    if (!state) bad.push(`monitor ${pid} of ${id.slice(0, 12)}, which the engine no longer has`);
  }

  // Mounts under the engine's roots belong to containers that exist; cgroups to ones that run.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter(Boolean);
  for (const m of mounts) {
    if (!m.startsWith(d.execRoot) && !m.startsWith(d.dataRoot)) continue;
    const id = /[0-9a-f]{64}/.exec(m)?.[0];
    if (id && seen.containers.has(id) && !engine.has(id)) bad.push(`mount ${m} of removed container ${id.slice(0, 12)}`);
    if (id && engine.has(id) && !['running', 'paused', 'restarting'].includes(engine.get(id)!)) {
      if (m.endsWith('/rootfs')) bad.push(`rootfs of ${engine.get(id)} container ${id.slice(0, 12)} still mounted at ${m}`);
    }
  }
  for (const id of seen.containers) {
    for (const base of existsSync('/sys/fs/cgroup/memory') ? ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids'] : ['/sys/fs/cgroup']) {
      const dir = join(base, 'berth', id);
      if (!existsSync(dir)) continue;
      const state = engine.get(id);
      if (!state || !['running', 'paused', 'restarting', 'created'].includes(state)) {
        const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim();
        bad.push(`cgroup ${dir} of ${state ?? 'removed'} container ${id.slice(0, 12)} is left${procs ? ` with processes ${procs.replace(/\n/g, ' ')}` : ''}`);
      }
    }
  }
  // Network namespaces of containers that are gone.
  const nsDir = join(d.execRoot, 'netns');
  if (existsSync(nsDir)) {
    for (const name of readdirSync(nsDir)) {
      const id = /[0-9a-f]{64}/.exec(name)?.[0];
      if (id && !engine.has(id)) bad.push(`netns ${name} of a removed container`);
    }
  }
  bad.push(...await unreferencedBlobs(d));
  return bad;
}

/** Content blobs that no image's manifest, config or layer list refers to. */
async function unreferencedBlobs(d: Daemon): Promise<string[]> {
  const dir = join(d.dataRoot, 'content', 'sha256');
  if (!existsSync(dir)) return [];
  const live = new Set<string>();
  const listed = await api(d, 'GET', '/images/json?all=1');
  if (listed.status !== 200 || !Array.isArray(listed.json)) return [`GET /images/json answered ${listed.status}: ${listed.body.toString().slice(0, 300)}`];
  const images = listed.json as Array<{ Id: string; RepoDigests?: string[] }>;
  const read = (digest: string) => { try { return JSON.parse(readFileSync(join(dir, digest.slice(7)), 'utf8')); } catch { return undefined; } };
  const metaDir = join(d.dataRoot, 'images');
  const manifestsOf = (id: string): string[] => {
    try { return (JSON.parse(readFileSync(join(metaDir, `${id.slice(7)}.json`), 'utf8')).manifests ?? []) as string[]; } catch { return []; }
  };
  for (const img of images) {
    live.add(img.Id);
    for (const m of manifestsOf(img.Id)) {
      live.add(m);
      const doc = read(m);
      if (doc?.config?.digest) live.add(doc.config.digest);
      for (const l of doc?.layers ?? []) live.add(l.digest);
      for (const x of doc?.manifests ?? []) live.add(x.digest);
    }
  }
  // Layer records keep their compressed blob (for push) alive too.
  for (const layerDir of [join(d.dataRoot, 'layers'), join(d.dataRoot, 'layers', 'l')]) {
    if (!existsSync(layerDir)) continue;
    for (const chain of readdirSync(layerDir)) {
      const f = join(layerDir, chain, 'layer.json');
      if (!existsSync(f)) continue;
      try { const info = JSON.parse(readFileSync(f, 'utf8')); if (info.blob?.digest) live.add(info.blob.digest); } catch { /* checked as a record above */ }
    }
  }
  const out: string[] = [];
  for (const hex of readdirSync(dir)) {
    if (!live.has(`sha256:${hex}`) && statSync(join(dir, hex)).isFile()) out.push(`content blob sha256:${hex.slice(0, 12)} is referenced by no image`);
  }
  return out;
}
