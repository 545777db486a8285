#!/usr/bin/env bash
# berth-runtime vs crun vs runc on the same OCI bundle (busybox rootfs, `true`):
#   1. `run` (create + start + wait + delete in one call)
#   2. create; start; delete --force (three calls, as an engine drives them)
# hyperfine, >= 50 runs each, all in one run of this script; prints min/median (ms)
# and berth's ratio to each peer. Usage: bench/runtime.sh [RUNS]   (root needed)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${1:-60}
BERTH=${BERTH_RUNTIME:-$PWD/native/build/berth-runtime}
for tool in hyperfine crun runc busybox node; do
  command -v "$tool" >/dev/null || { echo "bench/runtime.sh: $tool is missing: apt-get install ${tool/node/nodejs}" >&2; exit 1; }
done
[ -x "$BERTH" ] || { echo "bench/runtime.sh: $BERTH is missing: run make -C native" >&2; exit 1; }

# crun refuses hybrid cgroups while hugetlb sits on cgroup2 only (see TESTING.md).
if [ -d /sys/fs/cgroup/memory ] && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo; then
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null ||
    echo "bench/runtime.sh: hugetlb has no v1 hierarchy here (mount refused); crun may refuse this host" >&2
fi

# State roots on tmpfs (/run), where runtimes keep them in production; the bundle on disk.
WORK=$(mktemp -d /tmp/berth-bench-runtime.XXXXXX)
ROOTS=$(mktemp -d /run/berth-bench-runtime.XXXXXX)
trap 'rm -rf "$WORK" "$ROOTS"' EXIT
BUNDLE=$WORK/bundle
mkdir -p "$BUNDLE/rootfs/bin"
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
for applet in $(busybox --list-full); do
  mkdir -p "$BUNDLE/rootfs/$(dirname "$applet")"
  [ -e "$BUNDLE/rootfs/$applet" ] || ln -s /bin/busybox "$BUNDLE/rootfs/$applet"
done
mkdir -p "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/sys" "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/tmp"
(cd "$BUNDLE" && runc spec)
node -e '
  const fs = require("fs"); const f = process.argv[1]; const s = JSON.parse(fs.readFileSync(f, "utf8"));
  s.process.terminal = false; s.process.args = ["true"];
  fs.writeFileSync(f, JSON.stringify(s, null, 2));' "$BUNDLE/config.json"

declare -A RT=([berth]=$BERTH [crun]=crun [runc]=runc)
for r in berth crun runc; do mkdir -p "$ROOTS/root-$r"; done
# One warm-up call each also proves every runtime runs this bundle.
for r in berth crun runc; do
  "${RT[$r]}" --root "$ROOTS/root-$r" run --bundle "$BUNDLE" "warm-$r" </dev/null
done

args=()
for r in berth crun runc; do
  args+=(-n "$r run" "${RT[$r]} --root $ROOTS/root-$r run --bundle $BUNDLE bench-$r")
done
for r in berth crun runc; do
  R="${RT[$r]} --root $ROOTS/root-$r"
  args+=(-n "$r create+start+delete" "$R create --bundle $BUNDLE cyc-$r && $R start cyc-$r && $R delete --force cyc-$r")
done
# The machine is shared and its load drifts: run in rounds, every command in every
# round, so that no runtime gets all the quiet (or busy) minutes. Then pool the times.
ROUNDS=5
PER=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for round in $(seq 1 $ROUNDS); do
  hyperfine -N --warmup 3 --runs "$PER" --style none --export-json "$WORK/run-$round.json" "${args[@]:0:6}" >/dev/null
  hyperfine --warmup 3 --runs "$PER" --style none --export-json "$WORK/cycle-$round.json" "${args[@]:6}" >/dev/null
done

node -e '
  const fs = require("fs");
  const pooled = {};
  for (const f of process.argv.slice(1)) for (const r of JSON.parse(fs.readFileSync(f)).results) (pooled[r.command] ??= []).push(...r.times);
  const median = (t) => { const s = [...t].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
  const rows = Object.entries(pooled).map(([command, times]) => ({ command, times, min: Math.min(...times), median: median(times) }));
  const ms = (v) => (v * 1000).toFixed(1);
  const by = Object.fromEntries(rows.map((r) => [r.command, r]));
  console.log(`runs per command: ${rows[0].times.length} (in ${process.argv.length - 1 >> 1} rounds)`);
  console.log("command                        min ms  median ms");
  for (const r of rows) console.log(`${r.command.padEnd(30)} ${ms(r.min).padStart(6)} ${ms(r.median).padStart(10)}`);
  for (const what of ["run", "create+start+delete"]) {
    const b = by[`berth ${what}`];
    for (const peer of ["crun", "runc"]) {
      const p = by[`${peer} ${what}`];
      console.log(`berth/${peer} ${what}: min ${(b.min / p.min).toFixed(2)}  median ${(b.median / p.median).toFixed(2)}`);
    }
  }' "$WORK"/run-*.json "$WORK"/cycle-*.json
