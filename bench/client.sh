#!/usr/bin/env bash
# berth's own client vs the docker CLI (Go), both talking to the same berthd, in the
# same run: `ps`, `images` and `run --rm --network none busybox true`. The difference
# is the client's own cost (start-up, requests); the engine work is shared.
# Prints min/median (ms) and the ratios. Needs root, hyperfine, jq, busybox-static.
# Usage: bench/client.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
DOCKER=/usr/local/bin/docker

for tool in hyperfine busybox jq; do
  command -v "$tool" >/dev/null || { echo "bench/client.sh: $tool is missing: apt-get install -y hyperfine busybox-static jq" >&2; exit 1; }
done
[ -x "$DOCKER" ] || { echo "bench/client.sh: the docker CLI is missing at $DOCKER" >&2; exit 1; }

# The whole build: tsc alone would leave bin/berth's CLI bundle older than dist/ (it then takes the slower path).
npm run -s build >/dev/null || { echo "bench/client.sh: npm run build failed" >&2; exit 1; }

T=$(mktemp -d /tmp/berth-bench-client.XXXXXX)
BERTH_PID=
cleanup() {
  set +e
  if [ -n "$BERTH_PID" ]; then
    DOCKER_HOST=unix://$T/run/berthd.sock $DOCKER ps -aq | xargs -r env DOCKER_HOST=unix://$T/run/berthd.sock $DOCKER rm -f >/dev/null 2>&1
    kill "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null
  fi
  grep -F "$T" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

. bench/lib/busybox.sh
busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/busybox.tar" .

cp native/build/berth-runtime "$T/berth-runtime"
BERTH_RUNTIME="$T/berth-runtime" bin/berthd --data-root "$T/data" --exec-root "$T/run" -H "unix://$T/run/berthd.sock" >"$T/berthd.log" 2>&1 &
BERTH_PID=$!
for _ in $(seq 300); do [ -S "$T/run/berthd.sock" ] && DOCKER_HOST=unix://$T/run/berthd.sock $DOCKER version >/dev/null 2>&1 && break; sleep 0.1; done

export DOCKER_HOST=unix://$T/run/berthd.sock DOCKER_CONFIG=$T/docker-config
$DOCKER import "$T/busybox.tar" busybox:latest >/dev/null

compare() { # $1 title, $2 arguments
  echo "== $1 ($RUNS runs each)"
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$T/r.json" -n berth "bin/berth $2" -n docker "$DOCKER $2" >/dev/null
  jq -r '.results[] | "\(.command)\tmin \(.min*1000|floor) ms\tmedian \(.median*1000|floor) ms"' "$T/r.json"
  jq -r '"ratio berth/docker: min \((.results[0].min/.results[1].min*100|floor)/100)x, median \((.results[0].median/.results[1].median*100|floor)/100)x"' "$T/r.json"
}

compare "ps" "ps"
compare "images" "images"
compare "run --rm --network none busybox true" "run --rm --network none busybox true"
