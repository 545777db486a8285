#!/usr/bin/env bash
# Swarm simulation: one real manager berthd on loopback and NODES simulated nodes
# (bench/swarm-sim.ts). Usage: NODES=100 bench/swarm-sim.sh; NODES=1000 REPLICAS=2000 bench/swarm-sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v etcd >/dev/null || { echo "bench/swarm-sim.sh: etcd is missing: apt-get install -y etcd-server" >&2; exit 1; }
mkdir -p bench/.cache
node_modules/.bin/esbuild bench/swarm-sim.ts --bundle --platform=node --format=esm --packages=external --log-level=error --outfile=bench/.cache/swarm-sim.mjs
exec node bench/.cache/swarm-sim.mjs
