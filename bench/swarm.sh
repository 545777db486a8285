#!/usr/bin/env bash
# Swarm benchmark (root): 5 namespace nodes each running berthd; service create
# --replicas 20 to all running against 20 plain `docker run -d` in the same run, and a
# worker's death to its tasks running elsewhere (bench/swarm.ts).
# Usage: RUNS=3 bench/swarm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in etcd busybox; do
  command -v "$tool" >/dev/null || { echo "bench/swarm.sh: $tool is missing: apt-get install -y etcd-server busybox-static" >&2; exit 1; }
done
make -s -C native
mkdir -p bench/.cache
node_modules/.bin/esbuild bench/swarm.ts --bundle --platform=node --format=esm --packages=external --log-level=error --outfile=bench/.cache/swarm-bench.mjs
exec node bench/.cache/swarm-bench.mjs
