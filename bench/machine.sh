#!/usr/bin/env bash
# berth machine benchmarks (root; run after `npm run build`):
#  1. create -d generic to engine ready on a fresh namespace host, and again when
#     the bundle is there, with the OpenSSH floor of the same host (bench/machine.ts);
#  2. `machine ls` with 20 machines (all pointing at one live local engine), against
#     `docker context ls` with 20 contexts, the nearest peer installed here;
#  3. `berth --version` cold start against `docker --version`.
# Docker Machine is not installed here and its generic driver downloads Docker:
# the goals (create < 5 s, re-create < 2 s, ls < 300 ms, cold start < 200 ms) are absolute.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "bench/machine.sh needs hyperfine: apt-get install hyperfine" >&2; exit 1; }
work=$(mktemp -d /var/tmp/berth-bench-machine.XXXXXX)
store="$work/store"
prefix="$work/local"
port=$((22000 + RANDOM % 20000))
cleanup() {
  BERTH_STORAGE_PATH="$store" bin/berth machine rm -f bench0 >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# hyperfine RUNS CMD PEER: min and median of both, and the ratio of the medians.
compare() {
  hyperfine -N -w 2 -r "$1" --style none --export-json "$work/h.json" "$2" "$3" >/dev/null
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).results;
    const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] * 1000;
    for (const x of r) console.log(`${x.command.padEnd(24)} min ${(x.min * 1000).toFixed(1).padStart(7)} ms   median ${med(x.times).toFixed(1).padStart(7)} ms`);
    console.log(`ratio of medians: ${(med(r[0].times) / med(r[1].times)).toFixed(1)}`);
  ' "$work/h.json"
}

echo "== create (namespace hosts, ${RUNS:-5} runs)"
# Bundled into bench/.cache (git-ignored) so its imports resolve from node_modules.
mkdir -p bench/.cache
node_modules/.bin/esbuild bench/machine.ts --bundle --platform=node --format=esm --packages=external --log-level=error --outfile=bench/.cache/machine-bench.mjs
node bench/.cache/machine-bench.mjs

echo "== ls with 20 machines"
export BERTH_STORAGE_PATH="$store"
bin/berth machine create --local-prefix "$prefix" --local-engine-port "$port" bench0 >/dev/null
for i in $(seq 1 19); do
  mkdir -p "$store/machines/bench$i"
  cp -a "$store/machines/bench0/." "$store/machines/bench$i/"
  sed -i "s#machines/bench0/#machines/bench$i/#g; s#\"Name\": \"bench0\"#\"Name\": \"bench$i\"#" "$store/machines/bench$i/config.json"
done
[ "$(bin/berth machine ls -q | wc -l)" = 20 ] || { echo "expected 20 machines" >&2; exit 1; }
export DOCKER_CONFIG="$work/docker"
for i in $(seq 0 19); do docker context create "ctx$i" --docker "host=tcp://127.0.0.1:$port" >/dev/null 2>&1; done
compare 15 'bin/berth machine ls' 'docker context ls'

echo "== cold start"
compare 20 'bin/berth --version' 'docker --version'
