#!/usr/bin/env bash
# berth's machine CLI start-up, in one run: `machine ls` with 20 machines and
# `machine env`, through bin/berth's fast path and through oclif (what every machine
# command paid before the fast path), against `docker context ls` with 20 contexts
# (the Go CLI: the floor of a command that lists 20 endpoints). The 20 machines are
# `-d none` machines pointing at one berthd on 127.0.0.1 with the store's TLS, so
# `ls` asks 20 engines for their version over mTLS, as with real hosts.
# BASELINE=/path/to/another/berth/checkout adds its bin/berth (e.g. an older build).
# Prints min/median wall and mean CPU (ms) and the ratios. Needs root, hyperfine, jq, the docker CLI.
# Usage: bench/cli.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-20}
DOCKER=/usr/local/bin/docker
for tool in hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "bench/cli.sh: $tool is missing: apt-get install -y hyperfine jq" >&2; exit 1; }
done
[ -x "$DOCKER" ] || { echo "bench/cli.sh: the docker CLI is missing at $DOCKER" >&2; exit 1; }

T=$(mktemp -d /tmp/berth-bench-cli.XXXXXX)
BERTH_PID=
cleanup() {
  set +e
  [ -n "$BERTH_PID" ] && { kill "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null; }
  rm -rf "$T"
}
trap cleanup EXIT

export BERTH_STORAGE_PATH="$T/store" DOCKER_CONFIG="$T/docker" DOCKER_HOST= MACHINE_STORAGE_PATH=
port=$((22000 + RANDOM % 20000))
bin/berth machine create -d none --url "tcp://127.0.0.1:$port" m0 >/dev/null
M="$T/store/machines/m0"
bin/berthd --data-root "$T/data" --exec-root "$T/run" -b none -H "tcp://127.0.0.1:$port" \
  --tlsverify --tlscacert "$M/ca.pem" --tlscert "$M/server.pem" --tlskey "$M/server-key.pem" >"$T/berthd.log" 2>&1 &
BERTH_PID=$!
for i in $(seq 1 19); do
  mkdir -p "$T/store/machines/m$i"
  cp -a "$M/." "$T/store/machines/m$i/"
  # every path into m0's directory, StorePath ("machines/m0", no slash) too: each machine its own certificates and TLS session
  sed -i "s#machines/m0\([/\"]\)#machines/m$i\1#g; s#\"Name\": \"m0\"#\"Name\": \"m$i\"#" "$T/store/machines/m$i/config.json"
done
for _ in $(seq 100); do bin/berth machine env m0 >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(bin/berth machine ls --format '{{.Name}} {{.DockerVersion}}' | grep -c ' v')" = 20 ] || { echo "bench/cli.sh: expected 20 running machines" >&2; exit 1; }
for i in $(seq 0 19); do $DOCKER context create "ctx$i" --docker "host=tcp://127.0.0.1:$port" >/dev/null 2>&1; done

# The same commands through oclif, as bin/berth runs a command its fast path leaves to oclif.
cat >"$T/oclif.mjs" <<JS
import { execute } from '@oclif/core';
await execute({ dir: 'file://$PWD/bin/berth', args: process.argv.slice(2), loadOptions: { root: '$PWD/' } });
JS
ln -s "$PWD/node_modules" "$T/node_modules"

bench() { # NAME CMD... pairs
  local args=()
  while [ $# -gt 0 ]; do args+=(-n "$1" "$2"); shift 2; done
  hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$T/h.json" "${args[@]}" >/dev/null
  jq -r '.results[] | "\(.command)\tmin \(.min*1000|floor) ms\tmedian \(.median*1000|floor) ms\tCPU (user+sys) mean \((.user+.system)*1000|floor) ms"' "$T/h.json" | column -t -s $'\t'
  jq -r '.results[0] as $a | .results[1:][] | "ratio \(.command) / \($a.command): min \((.min/$a.min*100|floor)/100)x, median \((.median/$a.median*100|floor)/100)x"' "$T/h.json"
}

base=()
[ -n "${BASELINE:-}" ] && base=("baseline" "$BASELINE/bin/berth machine ls")
echo "== machine ls, 20 machines ($RUNS runs each; load $(cut -d' ' -f1-3 /proc/loadavg))"
bench "docker context ls" "$DOCKER context ls" "berth fast path" "bin/berth machine ls" "berth via oclif" "node $T/oclif.mjs machine ls" "${base[@]}"
[ -n "${BASELINE:-}" ] && base=("baseline" "$BASELINE/bin/berth machine env m0")
echo "== machine env m0 ($RUNS runs each; load $(cut -d' ' -f1-3 /proc/loadavg))"
bench "docker context ls" "$DOCKER context ls" "berth fast path" "bin/berth machine env m0" "berth via oclif" "node $T/oclif.mjs machine env m0" "${base[@]}"
echo "== node -e 0 (the start-up floor of any node CLI)"
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  # node 20 builds its root store at start-up when it is set; bin/berth starts node without it (see bin/berth).
  echo "NODE_EXTRA_CA_CERTS is set here ($NODE_EXTRA_CA_CERTS)"
  bench "docker --version" "$DOCKER --version" "node -e 0" "node -e 0" "node -e 0, NODE_EXTRA_CA_CERTS unset" "env -u NODE_EXTRA_CA_CERTS node -e 0"
else
  bench "docker --version" "$DOCKER --version" "node -e 0" "node -e 0"
fi
