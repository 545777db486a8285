#!/usr/bin/env bash
# `docker run --rm --network none busybox true` through berthd vs Debian's dockerd
# (overlay2, runc) in the same run, then 50 detached containers started concurrently.
# Prints min/median (ms) and the ratios, and each engine's CPU time per container (its own
# cgroup: the engine and what it starts, not the containers). Needs root, hyperfine,
# docker.io, busybox-static.
# Usage: bench/run.sh [RUNS]   (default 20)
#        bench/run.sh --breakdown [RUNS]: berthd alone, traced (BERTHD_TRACE, engine/trace.ts):
#        the time of each stage of its run path, per run (no dockerd, no ratios).
set -euo pipefail
cd "$(dirname "$0")/.."
BREAKDOWN=
[ "${1:-}" = --breakdown ] && { BREAKDOWN=1; shift; }
RUNS=${1:-20}
CONCURRENT=50
DOCKER=/usr/local/bin/docker

for tool in hyperfine dockerd busybox jq; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing: apt-get install -y hyperfine docker.io busybox-static jq" >&2; exit 1; }
done
[ -x "$DOCKER" ] || { echo "bench/run.sh: the docker CLI is missing at $DOCKER" >&2; exit 1; }

# The whole build: tsc alone would leave bin/berth's CLI bundle older than dist/ (it then takes the slower path).
npm run -s build >/dev/null || { echo "bench/run.sh: npm run build failed" >&2; exit 1; }

. bench/lib/cpuacct.sh
T=$(mktemp -d /tmp/berth-bench-run.XXXXXX)
BERTH_PID= ; DOCKERD_PID=
cleanup() {
  set +e
  if [ -n "$BERTH_PID" ]; then
    DOCKER_HOST=unix://$T/b/run/berthd.sock $DOCKER ps -aq | xargs -r env DOCKER_HOST=unix://$T/b/run/berthd.sock $DOCKER rm -f >/dev/null 2>&1
    kill "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null
  fi
  if [ -n "$DOCKERD_PID" ]; then
    DOCKER_HOST=unix://$T/d/docker.sock $DOCKER ps -aq | xargs -r env DOCKER_HOST=unix://$T/d/docker.sock $DOCKER rm -f >/dev/null 2>&1
    kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null
  fi
  grep -F "$T" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$T"
  cpu_cgroup_rm "$$-berthd"; cpu_cgroup_rm "$$-dockerd"
}
trap cleanup EXIT

# The busybox image both engines run: one layer, imported from the same tar.
. bench/lib/busybox.sh
busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/busybox.tar" .

wait_sock() { for _ in $(seq 300); do [ -S "$1" ] && DOCKER_HOST=unix://$1 $DOCKER version >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "bench/run.sh: $2 did not start" >&2; exit 1; }

# Exec roots on tmpfs, as /run is on a host: state that a reboot clears anyway.
mkdir -p "$T/b/run" "$T/d/exec"
mount -t tmpfs -o mode=0711 berth-bench "$T/b/run"
mount -t tmpfs -o mode=0711 berth-bench "$T/d/exec"
# A private copy: a concurrent `make` must not swap the binary under the benchmark.
cp native/build/berth-runtime "$T/berth-runtime"
[ -n "$BREAKDOWN" ] && export BERTHD_TRACE="$T/trace.jsonl"
(cpu_cgroup "$$-berthd" "$BASHPID"; BERTH_RUNTIME="$T/berth-runtime" exec bin/berthd --data-root "$T/b/data" --exec-root "$T/b/run" -H "unix://$T/b/run/berthd.sock" >"$T/berthd.log" 2>&1) &
BERTH_PID=$!
wait_sock "$T/b/run/berthd.sock" berthd
unset BERTHD_TRACE

if [ -n "$BREAKDOWN" ]; then
  B="env DOCKER_HOST=unix://$T/b/run/berthd.sock $DOCKER"
  $B import "$T/busybox.tar" busybox:latest >/dev/null
  for _ in 1 2 3; do $B run --rm --network none busybox true; done
  : >"$T/trace.jsonl"
  c0=$(cpu_ms "$$-berthd")
  walls=()
  for _ in $(seq "$RUNS"); do
    s=$(date +%s%N); $B run --rm --network none busybox true; e=$(date +%s%N)
    walls+=("$(( (e - s) / 1000 ))")
  done
  sleep 0.5 # the last removal's trace lines
  echo "== docker run --rm --network none busybox true through berthd, $RUNS runs (load $(cut -d' ' -f1-3 /proc/loadavg))"
  awk -v c="$(( $(cpu_ms "$$-berthd") - c0 ))" -v n="$RUNS" 'BEGIN { if (c > 0) printf "CPU per run (berthd cgroup: engine, helpers, runtime, monitor): %.1f ms\n", c / n }'
  printf '%s\n' "${walls[@]}" | jq -s 'map(. / 1000)' >"$T/walls.json"
  node bench/lib/breakdown.mjs "$T/trace.jsonl" "$T/walls.json"
  exit 0
fi

sysctl -qw net.ipv4.ip_forward=1
(cpu_cgroup "$$-dockerd" "$BASHPID"; exec dockerd --data-root "$T/d/data" --exec-root "$T/d/exec" -H "unix://$T/d/docker.sock" --pidfile "$T/d/docker.pid" \
  --storage-driver overlay2 --bridge none --iptables=false --ip6tables=false >"$T/dockerd.log" 2>&1) &
DOCKERD_PID=$!
wait_sock "$T/d/docker.sock" dockerd

cpu_line() { # berthd ms, dockerd ms, count, label
  awk -v b="$1" -v d="$2" -v n="$3" -v what="$4" 'BEGIN { if (b + d > 0) printf "CPU %s (engine cgroup): berthd %.1f ms, dockerd %.1f ms, ratio %.1fx\n", what, b / n, d / n, d / (b ? b : 1) }'
}

B="env DOCKER_HOST=unix://$T/b/run/berthd.sock $DOCKER"
D="env DOCKER_HOST=unix://$T/d/docker.sock $DOCKER"
$B import "$T/busybox.tar" busybox:latest >/dev/null
$D import "$T/busybox.tar" busybox:latest >/dev/null

echo "== docker run --rm --network none busybox true ($RUNS runs each, load $(cut -d' ' -f1-3 /proc/loadavg))"
bc0=$(cpu_ms "$$-berthd"); dc0=$(cpu_ms "$$-dockerd")
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$T/run.json" \
  -n berthd "$B run --rm --network none busybox true" \
  -n dockerd "$D run --rm --network none busybox true" >/dev/null
jq -r '.results[] | "\(.command)\tmin \(.min*1000|floor) ms\tmedian \(.median*1000|floor) ms"' "$T/run.json"
jq -r '"ratio dockerd/berthd: min \((.results[1].min/.results[0].min*10|floor)/10)x, median \((.results[1].median/.results[0].median*10|floor)/10)x"' "$T/run.json"
# Each engine idles while the other runs: its CPU over the whole hyperfine is its runs' CPU.
cpu_line "$(( $(cpu_ms "$$-berthd") - bc0 ))" "$(( $(cpu_ms "$$-dockerd") - dc0 ))" "$(( RUNS + 3 ))" "per run"

concurrent() { # $1 = client command, $2 = engine's cgroup; prints wall ms of CONCURRENT detached runs; adds their CPU to cpu_$2
  local start end c0
  c0=$(cpu_ms "$$-$2")
  start=$(date +%s%N)
  seq "$CONCURRENT" | xargs -P "$CONCURRENT" -I{} $1 run -d --network none busybox sleep 600 >/dev/null
  end=$(date +%s%N)
  echo $(( $(cpu_ms "$$-$2") - c0 )) >>"$T/cpu-$2"
  echo $(( (end - start) / 1000000 ))
  $1 ps -aq | xargs -r $1 rm -f >/dev/null
}

echo "== $CONCURRENT detached containers started concurrently (3 rounds, ms, load $(cut -d' ' -f1-3 /proc/loadavg))"
bt=(); dt=()
for _ in 1 2 3; do bt+=("$(concurrent "$B" berthd)"); dt+=("$(concurrent "$D" dockerd)"); done
bmin=$(printf '%s\n' "${bt[@]}" | sort -n | head -1); dmin=$(printf '%s\n' "${dt[@]}" | sort -n | head -1)
bmed=$(printf '%s\n' "${bt[@]}" | sort -n | sed -n 2p); dmed=$(printf '%s\n' "${dt[@]}" | sort -n | sed -n 2p)
echo -e "berthd\tmin $bmin ms\tmedian $bmed ms"
echo -e "dockerd\tmin $dmin ms\tmedian $dmed ms"
awk -v b="$bmin" -v d="$dmin" -v bm="$bmed" -v dm="$dmed" 'BEGIN { printf "ratio dockerd/berthd: min %.1fx, median %.1fx\n", d/b, dm/bm }'
cpu_line "$(awk '{ s += $1 } END { print s }' "$T/cpu-berthd")" "$(awk '{ s += $1 } END { print s }' "$T/cpu-dockerd")" "$(( 3 * CONCURRENT ))" "per detached start"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
