// Prints berthd's stage timings (BERTHD_TRACE lines, engine/trace.ts) per `docker run`:
// one run per `POST /containers/create` (with the ping before it), stages in the order they started, each with
// its start offset from the create request and its duration (median, min, max over
// the runs), then each run's span inside berthd. BREAKDOWN_OPENS names another request
// that alone opens a run (bench/pull.sh: `api POST /images/create`).
// Usage: node bench/lib/breakdown.mjs TRACE_FILE [CLIENT_MS_JSON]
import { readFileSync } from 'node:fs';

const recs = readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.start - b.start);
const client = process.argv[3] ? JSON.parse(readFileSync(process.argv[3], 'utf8')) : [];
const runs = [];
// A run starts with the client's ping or its create request, once the run before has its create.
const OPEN = process.env.BREAKDOWN_OPENS ?? 'api POST /containers/create';
const opens = (r) => r.stage === OPEN || (!process.env.BREAKDOWN_OPENS && /^api (HEAD|GET) \/_ping$/.test(r.stage));
for (const r of recs) {
  if (opens(r) && (runs.length === 0 || runs.at(-1).some((x) => x.stage === OPEN))) runs.push([]);
  runs.at(-1)?.push(r);
}
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const stages = new Map();
for (const run of runs) {
  const t0 = run[0].start;
  for (const r of run) {
    const s = stages.get(r.stage) ?? { at: [], ms: [] };
    s.at.push(r.start - t0);
    s.ms.push(r.ms);
    stages.set(r.stage, s);
  }
}
const rows = [...stages].sort((a, b) => med(a[1].at) - med(b[1].at));
const pad = (s, n) => String(s).padStart(n);
console.log(`${'stage (berthd)'.padEnd(40)}${pad('starts at', 11)}${pad('median', 9)}${pad('min', 8)}${pad('max', 8)}  ms, over ${runs.length} runs`);
for (const [name, s] of rows) {
  console.log(`${name.padEnd(40)}${pad(med(s.at).toFixed(1), 11)}${pad(med(s.ms).toFixed(1), 9)}${pad(Math.min(...s.ms).toFixed(1), 8)}${pad(Math.max(...s.ms).toFixed(1), 8)}`);
}
console.log('\nper run: span inside berthd (first stage start to last stage end) and the client\'s wall time');
runs.forEach((run, i) => {
  const span = Math.max(...run.map((r) => r.start + r.ms)) - run[0].start;
  console.log(`run ${pad(i + 1, 2)}: berthd ${pad(span.toFixed(1), 6)} ms${client[i] !== undefined ? `   client wall ${pad(client[i].toFixed(1), 6)} ms` : ''}`);
});
