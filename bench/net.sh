#!/usr/bin/env bash
# Networking: berthd vs Debian's dockerd, both in this one run.
#   1. `docker run --rm busybox true` on the default bridge and with --network none
#      (hyperfine; the bridge's cost is bridge - none, per engine)
#   2. container-to-container throughput on a user network: busybox nc + dd
# Each engine runs in a network namespace of its own (its bridge, NAT rules and
# published ports live and die there), with its own data-root, exec-root and socket.
# Usage: bench/net.sh [RUNS] [MEGABYTES]   (root needed; RUNS >= 10)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-20}
MB=${2:-400}
DOCKER=${DOCKER:-/usr/local/bin/docker}
for tool in hyperfine dockerd containerd busybox node unshare; do
  command -v "$tool" >/dev/null || { echo "bench/net.sh: $tool is missing: apt-get install ${tool/dockerd/docker.io}" >&2; exit 1; }
done
[ -x "$DOCKER" ] || { echo "bench/net.sh: the docker CLI ($DOCKER) is missing" >&2; exit 1; }

WORK=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
PIDS=()
ENGINES=()
cleanup() {
  for e in "${ENGINES[@]}"; do ids=$($e ps -aq 2>/dev/null || true); [ -z "$ids" ] || $e rm -f $ids >/dev/null 2>&1 || true; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  grep " $WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- a busybox image as a docker-archive, loaded into both engines
IMG=$WORK/image
. bench/lib/busybox.sh
busybox_rootfs "$IMG/rootfs"
tar -C "$IMG/rootfs" --owner=0 --group=0 -cf "$IMG/layer.tar" .
DIFF=$(sha256sum "$IMG/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"bench"}]}' "$DIFF" > "$IMG/config.json"
CFG=$(sha256sum "$IMG/config.json" | cut -d' ' -f1)
mv "$IMG/config.json" "$IMG/$CFG.json"
printf '[{"Config":"%s.json","RepoTags":["busybox:latest"],"Layers":["layer.tar"]}]' "$CFG" > "$IMG/manifest.json"
tar -C "$IMG" -cf "$WORK/busybox.tar" manifest.json "$CFG.json" layer.tar

# --- berthd, bundled from the sources like the test fixture does
mkdir -p dist/.bench
echo "import { main } from './engine/main.ts'; await main(process.argv.slice(2));" |
  npx --no-install esbuild --bundle --platform=node --format=esm --target=node20 --packages=external \
    --loader=ts --sourcefile=berthd-entry.ts --outfile=dist/.bench/berthd.mjs --log-level=error
in_netns() { # run a daemon in a new network namespace with lo up and forwarding on; $! is the daemon
  exec unshare --net sh -c 'ip link set lo up; echo 1 > /proc/sys/net/ipv4/ip_forward; exec "$@"' sh "$@"
}
(in_netns node "$ROOT/dist/.bench/berthd.mjs" --data-root "$WORK/berth/data" --exec-root "$WORK/berth/run" \
  -H "unix://$WORK/berth.sock" >"$WORK/berthd.log" 2>&1) &
PIDS+=($!)
(in_netns dockerd --data-root "$WORK/docker/data" --exec-root "$WORK/docker/run" --pidfile "$WORK/docker/dockerd.pid" \
  -H "unix://$WORK/docker.sock" --storage-driver overlay2 --containerd-namespace berthbench \
  --containerd-plugins-namespace berthbench-plugins >"$WORK/dockerd.log" 2>&1) &
PIDS+=($!)

B="$DOCKER -H unix://$WORK/berth.sock"
D="$DOCKER -H unix://$WORK/docker.sock"
ENGINES=("$B" "$D")
for e in "$B" "$D"; do
  for _ in $(seq 1 200); do $e version >/dev/null 2>&1 && break; sleep 0.1; done
  $e version >/dev/null || { echo "an engine did not start:"; cat "$WORK"/*.log; exit 1; }
  $e load -q -i "$WORK/busybox.tar" >/dev/null
  $e run --rm busybox true && $e run --rm --network none busybox true   # warm-up, and proof it works
done

# --- 1. run latency: rounds with every case in each, times pooled (load drifts on a shared machine)
ROUNDS=5
PER=$(( (RUNS + ROUNDS - 1) / ROUNDS ))
for round in $(seq 1 $ROUNDS); do
  hyperfine -N --warmup 1 --runs "$PER" --export-json "$WORK/run-$round.json" \
    -n 'berthd bridge' "$B run --rm busybox true" \
    -n 'berthd none' "$B run --rm --network none busybox true" \
    -n 'dockerd bridge' "$D run --rm busybox true" \
    -n 'dockerd none' "$D run --rm --network none busybox true" >/dev/null 2>&1
done

# --- 1b. the bridge's cost as paired differences: each bridge run next to a none run,
# so drifting load on a shared machine cancels out (median of the differences)
paired() { # $1 = docker command line; prints the median of (bridge - none) in ms
  local e=$1 out=()
  for _ in $(seq 1 "$RUNS"); do
    local a b c
    a=$(date +%s%N); $e run --rm busybox true; b=$(date +%s%N); $e run --rm --network none busybox true; c=$(date +%s%N)
    out+=($(( (b - a) - (c - b) )))
  done
  printf '%s\n' "${out[@]}" | sort -n | awk '{v[NR]=$1} END {printf "%.1f", v[int((NR+1)/2)]/1e6}'
}
PB=$(paired "$B")
PD=$(paired "$D")

# --- 2. throughput between two containers of a user network (MB/s, best of 3)
throughput() { # $1 = docker command line
  local e=$1 best=0
  $e network create benchnet >/dev/null
  for i in 1 2 3; do
    $e run -d --name "sink$i" --network benchnet busybox sh -c 'sleep 1000 | nc -l -p 5000 >/dev/null' >/dev/null
    local ip
    ip=$($e inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "sink$i")
    local secs
    # busybox nc has no -z: retry until the sink listens (a refused try sends nothing)
    secs=$($e run --rm --network benchnet busybox sh -c "
      for try in \$(seq 100); do
        a=\$(cut -d' ' -f1 /proc/uptime)
        dd if=/dev/zero bs=1048576 count=$MB 2>/dev/null | nc $ip 5000 2>/dev/null && break
        sleep 0.05
      done
      b=\$(cut -d' ' -f1 /proc/uptime); echo \$a \$b" | awk '{print $2-$1}')
    $e rm -f "sink$i" >/dev/null
    best=$(awk -v b="$best" -v s="$secs" -v mb="$MB" 'BEGIN{t=mb/s; print (t>b)?t:b}')
  done
  $e network rm benchnet >/dev/null
  echo "$best"
}
TB=$(throughput "$B")
TD=$(throughput "$D")

node - "$WORK" "$ROUNDS" "$TB" "$TD" "$PB" "$PD" <<'JS'
const fs = require('fs');
const [dir, rounds, tb, td, pb, pd] = process.argv.slice(2);
const times = {};
for (let i = 1; i <= Number(rounds); i++) {
  for (const r of JSON.parse(fs.readFileSync(`${dir}/run-${i}.json`, 'utf8')).results) (times[r.command] ??= []).push(...r.times);
}
const stat = (n) => { const t = [...times[n]].sort((a, b) => a - b); return { min: t[0] * 1000, median: t[Math.floor(t.length / 2)] * 1000, n: t.length }; };
console.log('docker run --rm busybox true    min (ms)  median (ms)  runs');
for (const n of ['berthd bridge', 'berthd none', 'dockerd bridge', 'dockerd none']) {
  const s = stat(n);
  console.log(`${n.padEnd(16)} ${s.min.toFixed(1).padStart(10)} ${s.median.toFixed(1).padStart(12)} ${String(s.n).padStart(5)}`);
}
const cost = (e, k) => stat(`${e} bridge`)[k] - stat(`${e} none`)[k];
console.log(`bridge cost (bridge - none): berthd ${cost('berthd', 'min').toFixed(1)} ms by min, ${cost('berthd', 'median').toFixed(1)} ms by median; dockerd ${cost('dockerd', 'min').toFixed(1)} ms by min, ${cost('dockerd', 'median').toFixed(1)} ms by median`);
console.log(`bridge cost, median of paired differences (a bridge run minus the none run right after it): berthd ${pb} ms, dockerd ${pd} ms`);
const ratio = (k, c) => (stat(`berthd ${c}`)[k] / stat(`dockerd ${c}`)[k]).toFixed(2);
console.log(`ratio berthd/dockerd: bridge ${ratio('min', 'bridge')} (min) ${ratio('median', 'bridge')} (median), none ${ratio('min', 'none')} (min) ${ratio('median', 'none')} (median)`);
console.log(`container-to-container throughput (nc + dd, user network, best of 3): berthd ${Number(tb).toFixed(0)} MB/s, dockerd ${Number(td).toFixed(0)} MB/s, ratio ${(tb / td).toFixed(2)}`);
JS
