#!/usr/bin/env bash
# create -d virtualbox to engine ready against the fake vboxwebsrv, time in the driver
# (SOAP calls, boot wait) vs provisioning, with create -d generic as the peer in the
# same run (bench/virtualbox.ts). Root; run after `npm run build`. RUNS=3 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-img >/dev/null || { echo "bench/virtualbox.sh needs qemu-img: apt-get install qemu-utils" >&2; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p bench/.cache
node_modules/.bin/esbuild bench/virtualbox.ts --bundle --platform=node --format=esm --packages=external --log-level=error --outfile=bench/.cache/virtualbox-bench.mjs
node bench/.cache/virtualbox-bench.mjs
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
