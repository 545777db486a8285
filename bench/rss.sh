#!/usr/bin/env bash
# Idle RSS: berthd vs dockerd + containerd. Needs root and docker.io (dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/sbin/dockerd ] || apt-get install -y -qq docker.io >/dev/null
mkdir -p dist/.bench
npx esbuild bench/rss.ts --bundle --platform=node --format=esm --packages=external --outfile=dist/.bench/rss.mjs --log-level=error
exec node dist/.bench/rss.mjs
