#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, clang from Debian) of every target in
# native/fuzz/fuzz_NAME.c: spec (config.json through the JSON parser and spec_parse),
# monproto (the monitor's socket protocol: header framing and requests) and unpack (a
# layer tar through berth-runtime unpack's unpacker, which must write nothing outside
# the layer; seeds from bench/fuzz-unpack-seeds.sh). Each target runs SECONDS (default
# 120). Crashing inputs are copied to native/tests/fuzz-regressions/NAME/ (commit them
# with the fix: every later run starts from them, and
# test/unit/native/fuzz-regressions.test.ts replays them). Children are forked
# (-fork=1) and restarted; spec's parse trees live as long as the process, so its leak
# checks are off (the other targets free everything: leaks are findings).
#   bench/fuzz.sh [SECONDS] [NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_MAX=${1:-120}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=($(ls native/fuzz/fuzz_*.c | sed 's|.*/fuzz_\(.*\)\.c|\1|'))
command -v clang >/dev/null || { echo "bench/fuzz.sh: clang is missing: apt-get install clang" >&2; exit 1; }
WORK=$(mktemp -d /tmp/berth-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo 'int LLVMFuzzerTestOneInput(const char *d, long n) { return 0; }' > "$WORK/probe.c"
clang -fsanitize=fuzzer,address,undefined -o "$WORK/probe" "$WORK/probe.c" 2>/dev/null || {
  echo "bench/fuzz.sh: clang cannot link libFuzzer and the sanitizers: apt-get install libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev" >&2
  exit 1
}
LIB=$(ls native/lib/*.c)

seeds() { # NAME DIR
  case "$1" in
    spec)
      (cd "$2" && runc spec 2>/dev/null && mv config.json runc-spec.json) ||
        echo '{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}' > "$2/min.json" ;;
    monproto) # first byte: the read size; then what the engine and berth-runtime send
      local i=0 h
      for h in 'ATTACH stdin=1 stdout=1 stderr=1\nhello' 'ATTACH stdin=0 stdout=1 stderr=0\n' 'RESIZE 31 101\n' 'WAIT\n' 'START\n'; do
        printf "\\x0$((i % 10))$h" > "$2/seed$i"; i=$((i + 1))
      done ;;
    unpack)
      bench/fuzz-unpack-seeds.sh "$2" ;;
  esac
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
for name in "${TARGETS[@]}"; do
  [ -f "native/fuzz/fuzz_$name.c" ] || { echo "bench/fuzz.sh: no target native/fuzz/fuzz_$name.c" >&2; exit 2; }
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -DBERTH_VERSION='"fuzz"' \
    -Inative/lib -o "$WORK/fuzz_$name" "native/fuzz/fuzz_$name.c" $LIB -lseccomp -lz -lcrypto -lpthread
  kept="native/tests/fuzz-regressions/$name"
  mkdir -p "$WORK/$name/corpus" "$WORK/$name/art" "$kept"
  seeds "$name" "$WORK/$name/corpus"
  cp "$kept"/* "$WORK/$name/corpus/" 2>/dev/null || true
  set +e
  leaks=1
  [ "$name" != spec ] || leaks=0
  ASAN_OPTIONS=detect_leaks=$leaks "$WORK/fuzz_$name" -max_total_time="$SECONDS_MAX" -max_len=65536 -timeout=10 -fork=1 \
    -artifact_prefix="$WORK/$name/art/" "$WORK/$name/corpus" > "$WORK/$name/log" 2>&1
  rc=$?
  set -e
  execs=$(grep -oE '^#[0-9]+' "$WORK/$name/log" | tail -1 | tr -d '#')
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$WORK/$name/log" | tail -1)
  found=0
  for f in "$WORK/$name/art"/crash-* "$WORK/$name/art"/timeout-* "$WORK/$name/art"/oom-*; do
    [ -e "$f" ] || continue
    cp "$f" "$kept/" && found=$((found + 1))
  done
  grep -E 'ERROR|SUMMARY' "$WORK/$name/log" | sort -u | head -5 || true
  echo "fuzz $name: ${SECONDS_MAX}s, ${execs:-0} execs, ${cov:-cov: ?}, exit $rc, $found crashing input(s) kept in $kept/"
  [ "$found" -eq 0 ] || failed=1
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $failed
