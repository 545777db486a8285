#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, clang from Debian) of berth-runtime's config.json
# path: the JSON parser and spec_parse. Bounded by SECONDS (default 120). Crashing
# inputs are copied to native/tests/fuzz-regressions/ (commit them with the fix: every
# later run starts from them). Parse trees live as long as the process, so children
# are forked (-fork=1) and restarted, and leak checks are off.
#   bench/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_MAX=${1:-120}
command -v clang >/dev/null || { echo "bench/fuzz.sh: clang is missing: apt-get install clang" >&2; exit 1; }
WORK=$(mktemp -d /tmp/berth-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LIB=$(ls native/lib/*.c)
clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DBERTH_VERSION='"fuzz"' -Inative/lib \
  -o "$WORK/fuzz_spec" native/fuzz/fuzz_spec.c $LIB -lseccomp
# Seeds: runc's default spec, the regression inputs so far.
mkdir -p "$WORK/corpus" native/tests/fuzz-regressions
(cd "$WORK" && runc spec 2>/dev/null && mv config.json corpus/runc-spec.json) || echo '{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}' > "$WORK/corpus/min.json"
cp native/tests/fuzz-regressions/* "$WORK/corpus/" 2>/dev/null || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
set +e
ASAN_OPTIONS=detect_leaks=0 "$WORK/fuzz_spec" -max_total_time="$SECONDS_MAX" -max_len=65536 -timeout=10 -fork=1 \
  -artifact_prefix="$WORK/" -print_final_stats=1 "$WORK/corpus" 2>&1 | grep -E '^#[0-9]+|stat::|ERROR|SUMMARY|crash-|timeout-|oom-' | tail -8
rc=${PIPESTATUS[0]}
set -e
found=0
for f in "$WORK"/crash-* "$WORK"/timeout-* "$WORK"/oom-*; do
  [ -e "$f" ] || continue
  cp "$f" native/tests/fuzz-regressions/ && found=$((found + 1))
done
echo "fuzz: exit $rc, $found crashing input(s) kept in native/tests/fuzz-regressions/"
[ "$found" -eq 0 ]
