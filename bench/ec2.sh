#!/usr/bin/env bash
# berth EC2 driver benchmark (root; run after `npm run build`): create -d amazonec2 to
# engine ready against moto_server on 127.0.0.1, split into time in the driver (EC2 API
# calls and waiters) and provisioning; one machine alone vs 5 in one create, in the same
# run (goal: 5 at once within 2x one). See bench/ec2.ts. RUNS=N rounds (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p bench/.cache
node_modules/.bin/esbuild bench/ec2.ts --bundle --platform=node --format=esm --packages=external --log-level=error --outfile=bench/.cache/ec2-bench.mjs
node bench/.cache/ec2-bench.mjs
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
