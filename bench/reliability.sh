#!/usr/bin/env bash
# Soak run of the fault campaign (test/reliability/faults.ts): kill -9 of berthd at
# seeded random moments during every kind of operation, restart, invariant check.
#   bench/reliability.sh [ITERATIONS] [BUDGET_SECONDS] [SEED]    (root needed)
# Prints the seed (replay: the same SEED), iterations survived, operations tried and
# the violations found; exits 1 on any violation.
set -euo pipefail
cd "$(dirname "$0")/.."
ITERATIONS=${1:-2000}
BUDGET=${2:-3600}
SEED=${3:-$((RANDOM * 32768 + RANDOM))}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
BERTH_FAULT_ITERATIONS=$ITERATIONS BERTH_FAULT_BUDGET_S=$BUDGET BERTH_FAULT_SEED=$SEED \
  node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand test/reliability/faults.test.ts -t 'kill -9 of berthd'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
