#!/usr/bin/env bash
# Pull + unpack benchmark: berthd vs dockerd vs tar -xzf. Needs root, hyperfine,
# docker.io (dockerd), docker-registry, debootstrap (first run builds the image).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
[ -x /usr/sbin/dockerd ] || apt-get install -y -qq docker.io >/dev/null
mkdir -p dist/.bench
npx esbuild bench/pull.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/.bench/pull.mjs --log-level=error
exec node dist/.bench/pull.mjs
