#!/usr/bin/env bash
# Soak runs of the fault campaigns (root needed). Each prints its seed (replay: the same
# SEED), the kills survived and the violations found; exits 1 on any violation.
#   bench/reliability.sh [berthd] [ITERATIONS] [BUDGET_SECONDS] [SEED]
#       kill -9 of berthd at seeded random moments during every kind of operation,
#       restart, invariant check (test/reliability/faults.ts; default 2000 kills, 1 h)
#   bench/reliability.sh runtime [KILLS] [SEED]
#       berth-runtime and container monitors killed at each step of create, start,
#       exit and delete and at random moments (test/reliability/runtime-kill.test.ts; default 300)
#   bench/reliability.sh machine [KILLS] [SEED]
#       `berth machine create/rm/regenerate-certs` killed at every step and at random
#       moments on a generic namespace host (test/reliability/machine-*kill.test.ts; default 60)
#   bench/reliability.sh all    the three, with their defaults
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=berthd
case "${1:-}" in berthd|runtime|machine|all) MODE=$1; shift ;; esac
jest() { node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand "$@"; }
seed() { echo "${1:-$((RANDOM * 32768 + RANDOM))}"; }

berthd() {
  local seed; seed=$(seed "${3:-}")
  BERTH_FAULT_ITERATIONS=${1:-2000} BERTH_FAULT_BUDGET_S=${2:-3600} BERTH_FAULT_SEED=$seed \
    jest test/reliability/faults.test.ts -t 'kill -9 of berthd'
}
runtime() {
  local seed; seed=$(seed "${2:-}")
  BERTH_RUNTIME_KILLS=${1:-300} BERTH_FAULT_SEED=$seed jest test/reliability/runtime-kill.test.ts
}
machine() {
  local seed; seed=$(seed "${2:-}")
  BERTH_MACHINE_ALL_STEPS=1 jest test/reliability/machine-create-kill.test.ts
  BERTH_MACHINE_KILLS=${1:-60} BERTH_MACHINE_ALL_STEPS=1 BERTH_FAULT_SEED=$seed jest test/reliability/machine-kill.test.ts
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
case $MODE in
  all) berthd; runtime; machine ;;
  *) $MODE "$@" ;;
esac
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
