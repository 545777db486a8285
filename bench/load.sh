#!/usr/bin/env bash
# API load and memory: berthd vs Debian's dockerd in the same run (bench/load.ts).
#   RUNNING (200) containers running on each engine, then CLIENTS (50) keep-alive
#   clients sending RATE (1000) requests/s in all for DURATION (60) s, mixing ps /
#   inspect / logs / exec / create / rm: p50/p99 per call for both engines. Then
#   berthd's RSS and heap over CYCLES (10000) run/rm cycles, sampled every 500, and
#   the slope. The load average is printed with the figures (the machine is shared).
#   bench/load.sh [all|api|rss]     e.g. CYCLES=2000 DURATION=30 bench/load.sh
# Needs root, docker.io (dockerd) and busybox-static.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/sbin/dockerd ] || { echo "bench/load.sh: dockerd is missing: apt-get install docker.io" >&2; exit 1; }
command -v busybox >/dev/null || { echo "bench/load.sh: busybox is missing: apt-get install busybox-static" >&2; exit 1; }
make -s -C native
mkdir -p dist/.bench
npx esbuild bench/load.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/.bench/load.mjs --log-level=error
exec node dist/.bench/load.mjs "${1:-all}"
