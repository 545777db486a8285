#!/usr/bin/env bash
# QEMU driver benchmarks (root; run after `npm run build`):
#  1. `machine image build`: cold (a fresh directory: debootstrap from the mirror) and
#     cached (the second run);
#  2. `create -d qemu --qemu-accel tcg` to engine ready, split into boot-to-SSH (the
#     "Creating the host" step: overlay, seed, boot) and provisioning (every later step),
#     with the guest's own systemd-analyze;
#  3. the KVM estimate: the same CPU work (sha256 of 64 MiB) timed in the guest and on
#     the host gives the emulation slowdown; boot and provisioning divided by it is what
#     a KVM host should see (KVM runs guest code at near host speed).
# Only one VM runs at a time; the load average is printed, as other work skews TCG.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /var/tmp/berth-bench-qemu.XXXXXX)
store="$work/store"
export BERTH_STORAGE_PATH="$store" BERTH_QEMU_BOOT_TIMEOUT=900 BERTH_ENGINE_TIMEOUT=600
name=bench-qemu
cleanup() { bin/berth machine rm -f -y "$name" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
secs() { node -e 'const s=process.argv[1];let t=0;for(const m of s.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g))t+=Number(m[1])*({h:3600,m:60,s:1})[m[2]];console.log(t.toFixed(1))' "$1"; }
now() { date +%s.%N; }
elapsed() { node -e 'console.log((Number(process.argv[2])-Number(process.argv[1])).toFixed(1))' "$1" "$2"; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
images="${IMAGE_DIR:-$work/images}"
t0=$(now); bin/berth machine image build --output "$images" >/dev/null; t1=$(now)
bin/berth machine image build --output "$images" >/dev/null; t2=$(now)
echo "image build: cold $(elapsed "$t0" "$t1") s${IMAGE_DIR:+ (IMAGE_DIR given: may have been cached)}, cached $(elapsed "$t1" "$t2") s"

t0=$(now)
bin/berth machine create -d qemu --qemu-accel tcg --qemu-image "$images/debian-bookworm.qcow2" "$name" > "$work/create.log"
t1=$(now)
total=$(elapsed "$t0" "$t1")
boot=$(secs "$(sed -n 's/.*✔ Creating the host \[\(.*\)\]/\1/p' "$work/create.log")")
prov=$(node -e 'console.log((process.argv[1]-process.argv[2]).toFixed(1))' "$total" "$boot")
echo "create to engine ready (TCG): $total s = boot-to-SSH $boot s + provisioning $prov s"
grep -E '✔ (Installing|Configuring|Waiting for the engine)' "$work/create.log" | sed 's/^/  /'
bin/berth machine ssh "$name" 'systemd-analyze | head -n 1' | sed 's/^/  guest: /'

guest=$(bin/berth machine ssh "$name" 's=$(date +%s%N); head -c 67108864 /dev/zero | sha256sum >/dev/null; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))')
h0=$(now); head -c 67108864 /dev/zero | sha256sum >/dev/null; h1=$(now)
host=$(node -e 'console.log(Math.round((process.argv[2]-process.argv[1])*1000))' "$h0" "$h1")
node -e '
  const [g, h, boot, prov] = process.argv.slice(1).map(Number);
  const r = g / h;
  console.log(`CPU work (sha256 of 64 MiB): guest ${g} ms, host ${h} ms: emulation is ${r.toFixed(1)}x slower`);
  console.log(`KVM estimate: boot-to-SSH ~${(boot / r).toFixed(1)} s, provisioning ~${(prov / r).toFixed(1)} s, total ~${((boot + prov) / r).toFixed(1)} s`);
' "$guest" "$host" "$boot" "$prov"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
