#!/usr/bin/env bash
# `docker build` (classic builder) of one multi-stage Dockerfile through berthd vs Debian's
# dockerd (20.10, overlay2) in the same run: a cold build (--no-cache) and a fully cached
# rebuild. Prints min/median (ms) and the ratios. Needs root, hyperfine, docker.io,
# busybox-static, jq.
# Usage: bench/build.sh [RUNS]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
DOCKER=/usr/local/bin/docker

for tool in hyperfine dockerd busybox jq; do
  command -v "$tool" >/dev/null || { echo "bench/build.sh: $tool is missing: apt-get install -y hyperfine docker.io busybox-static jq" >&2; exit 1; }
done
[ -x "$DOCKER" ] || { echo "bench/build.sh: the docker CLI is missing at $DOCKER" >&2; exit 1; }

# The whole build: tsc alone would leave bin/berth's CLI bundle older than dist/ (it then takes the slower path).
npm run -s build >/dev/null || { echo "bench/build.sh: npm run build failed" >&2; exit 1; }

T=$(mktemp -d /tmp/berth-bench-build.XXXXXX)
BERTH_PID= ; DOCKERD_PID=
cleanup() {
  set +e
  [ -n "$BERTH_PID" ] && { kill "$BERTH_PID"; wait "$BERTH_PID" 2>/dev/null; }
  [ -n "$DOCKERD_PID" ] && { kill "$DOCKERD_PID"; wait "$DOCKERD_PID" 2>/dev/null; }
  grep -F "$T" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

. bench/lib/busybox.sh
busybox_rootfs "$T/rootfs"
tar -C "$T/rootfs" -cf "$T/busybox.tar" .

# The context: a build stage that "compiles" 100 sources with busybox tools, a final stage
# that takes the result with COPY --from.
mkdir -p "$T/ctx/src"
for i in $(seq 1 100); do printf 'int f%d(void) { return %d; }\n' "$i" "$i" > "$T/ctx/src/f$i.c"; done
cat > "$T/ctx/Dockerfile" <<'DF'
FROM busybox AS build
ARG LEVEL=9
WORKDIR /src
COPY src/ ./
RUN for f in *.c; do sed 's/return/RETURN/' "$f" > "${f%.c}.o"; done && cat *.o | gzip -$LEVEL > /lib.gz
RUN sha256sum /lib.gz > /lib.sum
FROM busybox
LABEL stage=final
COPY --from=build /lib.gz /lib.sum /app/
ENV APP=/app
WORKDIR /app
CMD ["ls", "/app"]
DF

wait_sock() { for _ in $(seq 300); do [ -S "$1" ] && DOCKER_HOST=unix://$1 $DOCKER version >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "bench/build.sh: $2 did not start" >&2; exit 1; }

mkdir -p "$T/b"
cp native/build/berth-runtime "$T/berth-runtime"
BERTH_RUNTIME="$T/berth-runtime" bin/berthd --data-root "$T/b/data" --exec-root "$T/b/run" -H "unix://$T/b/run/berthd.sock" >"$T/berthd.log" 2>&1 &
BERTH_PID=$!
wait_sock "$T/b/run/berthd.sock" berthd

mkdir -p "$T/d"
dockerd --data-root "$T/d/data" --exec-root "$T/d/exec" -H "unix://$T/d/docker.sock" --pidfile "$T/d/docker.pid" \
  --storage-driver overlay2 --bridge none --iptables=false --ip6tables=false >"$T/dockerd.log" 2>&1 &
DOCKERD_PID=$!
wait_sock "$T/d/docker.sock" dockerd

B="env DOCKER_BUILDKIT=0 DOCKER_HOST=unix://$T/b/run/berthd.sock $DOCKER"
D="env DOCKER_BUILDKIT=0 DOCKER_HOST=unix://$T/d/docker.sock $DOCKER"
$B import "$T/busybox.tar" busybox:latest >/dev/null
$D import "$T/busybox.tar" busybox:latest >/dev/null

report() { # $1 = hyperfine json
  jq -r '.results[] | "\(.command)\tmin \(.min*1000|floor) ms\tmedian \(.median*1000|floor) ms"' "$1"
  jq -r '"ratio dockerd/berthd: min \((.results[1].min/.results[0].min*10|floor)/10)x, median \((.results[1].median/.results[0].median*10|floor)/10)x"' "$1"
}

echo "== cold build (--no-cache, $RUNS runs each; the base image is local)"
hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$T/cold.json" \
  -n berthd "$B build -q --no-cache --network none $T/ctx" \
  -n dockerd "$D build -q --no-cache --network none $T/ctx" >/dev/null
report "$T/cold.json"

echo "== fully cached rebuild ($RUNS runs each)"
hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$T/cached.json" \
  -n berthd "$B build -q --network none $T/ctx" \
  -n dockerd "$D build -q --network none $T/ctx" >/dev/null
report "$T/cached.json"

# Wall times swing with the machine's load; the engines' own CPU time per cached build does
# not: utime+stime of the daemon and its live children (dockerd: containerd), plus reaped ones.
cpu_ticks() { # $1 = pid
  local total=0 p stat
  for p in $1 $(ps -o pid= --ppid "$1"); do
    stat=$(cut -d')' -f2 "/proc/$p/stat" 2>/dev/null) || continue
    total=$(( total + $(echo "$stat" | awk '{print $12 + $13 + $14 + $15}') ))
  done
  echo "$total"
}
per_build_cpu() { # $1 = client, $2 = daemon pid; prints CPU ms per cached build over 20 builds
  local before after
  before=$(cpu_ticks "$2")
  for _ in $(seq 20); do $1 build -q --network none "$T/ctx" >/dev/null 2>&1; done
  after=$(cpu_ticks "$2")
  echo $(( (after - before) * 1000 / $(getconf CLK_TCK) / 20 ))
}
echo "== engine CPU time per cached rebuild (20 builds each)"
bc=$(per_build_cpu "$B" "$BERTH_PID"); dc=$(per_build_cpu "$D" "$DOCKERD_PID")
echo -e "berthd\t$bc ms\ndockerd\t$dc ms (dockerd + containerd)"
awk -v b="$bc" -v d="$dc" 'BEGIN { if (b > 0) printf "ratio dockerd/berthd: %.1fx\n", d/b }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
