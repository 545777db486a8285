#!/usr/bin/env bash
# Pull + unpack benchmark: berthd vs dockerd vs tar -xzf, interleaved rounds. Needs root,
# docker.io (dockerd), docker-registry, debootstrap (first run builds the image).
# bench/pull.sh --breakdown: berthd's stages per pull too (BERTHD_TRACE).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/sbin/dockerd ] || apt-get install -y -qq docker.io >/dev/null
mkdir -p dist/.bench
npx esbuild bench/pull.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/.bench/pull.mjs --log-level=error
[ "${1:-}" = --breakdown ] && export PULL_BREAKDOWN=1
exec node dist/.bench/pull.mjs
