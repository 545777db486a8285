#!/usr/bin/env bash
# Networking: berthd vs Debian's dockerd, both in this one run.
#   1. `docker run --rm busybox true` on the default bridge and with --network none
#      (hyperfine; the bridge's cost is bridge - none, per engine)
#   2. container-to-container throughput on a user network: busybox nc + dd, and
#      Debian's iperf3 (copied with its libraries into the image)
#   3. a published port, from the engine's host: iperf3 throughput and the connection
#      rate (new TCP connection per HTTP request to busybox httpd) through 127.0.0.1
#      (each engine's userland proxy: berthd's, docker-proxy) and through the bridge's
#      gateway address (DNAT)
# Each engine runs in a network namespace of its own (its bridge, NAT rules and
# published ports live and die there), with its own data-root, exec-root and socket.
# Usage: bench/net.sh [RUNS] [MEGABYTES]   (root needed; RUNS >= 10)
#   ONLY=ports bench/net.sh: part 3 alone (the published-port path)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNS=${1:-20}
MB=${2:-400}
DOCKER=${DOCKER:-/usr/local/bin/docker}
for tool in hyperfine dockerd containerd busybox node unshare iperf3 nsenter; do
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
# iperf3 is dynamically linked: its libraries and loader go in beside it
for f in "$(command -v iperf3)" $(ldd "$(command -v iperf3)" | grep -o '/[^ ]*'); do
  mkdir -p "$IMG/rootfs$(dirname "$f")"; cp -L "$f" "$IMG/rootfs$f"
done
mkdir -p "$IMG/rootfs/www"; echo ok > "$IMG/rootfs/www/index.html"
tar -C "$IMG/rootfs" --owner=0 --group=0 -cf "$IMG/layer.tar" .
DIFF=$(sha256sum "$IMG/layer.tar" | cut -d' ' -f1)
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin:/usr/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"bench"}]}' "$DIFF" > "$IMG/config.json"
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

ONLY=${ONLY:-}
[ -z "$ONLY" ] || [ "$ONLY" = ports ] || { echo "bench/net.sh: ONLY=$ONLY: the only part that runs alone is ONLY=ports" >&2; exit 1; }
ROUNDS=5
TB=0 TD=0 PB=0 PD=0 IB=0 ID=0
if [ -z "$ONLY" ]; then
# --- 1. run latency: rounds with every case in each, times pooled (load drifts on a shared machine)
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
fi

# iperf3 -c ... -f m: the receiver's Mbits/sec
iperf_mbits() { awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i+1) == "Mbits/sec") print $i}'; }
best() { awk -v b="$1" -v r="${2:-0}" 'BEGIN{print (r>b)?r:b}'; }
cat >"$WORK/connrate.js" <<'JS'
// Connections per second to HOST PORT for SECONDS, CONC at a time: each connection
// sends one HTTP/1.0 request and reads the answer to its end.
const net = require('net');
const [host, port, seconds, conc] = process.argv.slice(2).map((v, i) => (i ? Number(v) : v));
let done = 0, failed = 0;
const end = Date.now() + seconds * 1000;
const one = () => new Promise((res) => {
  const s = net.connect(port, host, () => s.write('GET /index.html HTTP/1.0\r\n\r\n'));
  let got = 0;
  s.on('data', (d) => { got += d.length; });
  s.on('error', () => { failed++; res(); });
  s.on('close', () => { if (got > 0) done++; else failed++; res(); });
});
const worker = async () => { while (Date.now() < end) await one(); };
Promise.all(Array.from({ length: conc }, worker)).then(() => console.log((done / seconds).toFixed(0), failed));
JS
# The engines take turns, round after round (best of 3 each): load drifts on a shared machine.
declare -A IP GW PI PJ PH
for e in "$B" "$D"; do
  $e network create benchnet >/dev/null
  $e run -d --name isrv --network benchnet busybox iperf3 -s >/dev/null
  IP[$e]=$($e inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' isrv)
  # one iperf3 server per path: a proxy that leaves a test's connection half-open keeps its server busy
  $e run -d --name psrv -p 5201 -p 5202 -p 80 busybox sh -c 'httpd -p 80 -h /www; iperf3 -s -D -p 5202; exec iperf3 -s' >/dev/null
  PI[$e]=$($e port psrv 5201/tcp | head -n1 | sed 's/.*://')
  PJ[$e]=$($e port psrv 5202/tcp | head -n1 | sed 's/.*://')
  PH[$e]=$($e port psrv 80/tcp | head -n1 | sed 's/.*://')
  GW[$e]=$($e network inspect -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' bridge)
done
pid_of() { [ "$1" = "$B" ] && echo "${PIDS[0]}" || echo "${PIDS[1]}"; }
# from the engine's own namespace: iperf3 to HOST:PORT (retried until the server listens)
host_iperf() { nsenter --net="/proc/$(pid_of "$1")/ns/net" sh -c "for t in \$(seq 50); do iperf3 -c $2 -p $3 -t 3 -f m 2>/dev/null && break; sleep 0.1; done" | iperf_mbits; }
declare -A R
for round in 1 2 3; do
  for e in "$B" "$D"; do
    [ -n "$ONLY" ] || R[$e,c2c]=$(best "${R[$e,c2c]:-0}" "$($e run --rm --network benchnet busybox sh -c "for t in \$(seq 50); do iperf3 -c ${IP[$e]} -t 3 -f m 2>/dev/null && break; sleep 0.1; done" | iperf_mbits)")
    R[$e,proxy]=$(best "${R[$e,proxy]:-0}" "$(host_iperf "$e" 127.0.0.1 "${PI[$e]}")")
    R[$e,dnat]=$(best "${R[$e,dnat]:-0}" "$(host_iperf "$e" "${GW[$e]}" "${PJ[$e]}")")
    R[$e,cproxy]=$(best "${R[$e,cproxy]:-0}" "$(nsenter --net="/proc/$(pid_of "$e")/ns/net" node "$WORK/connrate.js" 127.0.0.1 "${PH[$e]}" 3 4 | cut -d' ' -f1)")
    R[$e,cdnat]=$(best "${R[$e,cdnat]:-0}" "$(nsenter --net="/proc/$(pid_of "$e")/ns/net" node "$WORK/connrate.js" "${GW[$e]}" "${PH[$e]}" 3 4 | cut -d' ' -f1)")
  done
done
for e in "$B" "$D"; do $e rm -f isrv psrv >/dev/null; $e network rm benchnet >/dev/null; done
IB=${R[$B,c2c]:-0}; ID=${R[$D,c2c]:-0}
PB_PI=${R[$B,proxy]} PB_DI=${R[$B,dnat]} PB_PC=${R[$B,cproxy]} PB_DC=${R[$B,cdnat]}
PD_PI=${R[$D,proxy]} PD_DI=${R[$D,dnat]} PD_PC=${R[$D,cproxy]} PD_DC=${R[$D,cdnat]}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
node - "$WORK" "$ONLY" "$ROUNDS" "$TB" "$TD" "$PB" "$PD" "$IB" "$ID" "$PB_PI $PB_DI $PB_PC $PB_DC" "$PD_PI $PD_DI $PD_PC $PD_DC" <<'JS'
const fs = require('fs');
const [dir, only, rounds, tb, td, pb, pd, ib, id, pubB, pubD] = process.argv.slice(2);
const [b, d] = [pubB, pubD].map((s) => s.split(' ').map(Number));
const row = (what, i, unit) => console.log(`published port, ${what}: berthd ${b[i]} ${unit}, dockerd ${d[i]} ${unit}, ratio ${(b[i] / d[i]).toFixed(2)}`);
const published = () => {
  row('iperf3 via 127.0.0.1 (userland proxy; best of 3)', 0, 'Mbit/s');
  row('iperf3 via the bridge gateway (DNAT; best of 3)', 1, 'Mbit/s');
  row('new connections via 127.0.0.1 (userland proxy; 4 at a time, 3 s)', 2, 'conn/s');
  row('new connections via the bridge gateway (DNAT; 4 at a time, 3 s)', 3, 'conn/s');
};
if (only) { published(); process.exit(0); }
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
console.log(`container-to-container throughput (iperf3, user network, best of 3): berthd ${Number(ib).toFixed(0)} Mbit/s, dockerd ${Number(id).toFixed(0)} Mbit/s, ratio ${(ib / id).toFixed(2)}`);
published();
JS
