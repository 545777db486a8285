#!/usr/bin/env bash
# Builds (once) a debootstrap minbase bookworm rootfs as one gzip layer tar, cached in
# bench/.cache (gitignored): debootstrap-layer.tar.gz (~50 MB) and debootstrap-layer.tar.
set -euo pipefail
cd "$(dirname "$0")"
CACHE=.cache
out="$CACHE/debootstrap-layer.tar.gz"
if [ -s "$out" ]; then echo "$out"; exit 0; fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
mkdir -p "$CACHE"
root=$(mktemp -d "$CACHE/rootfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >&2
# Not part of an image: apt lists and caches.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/dev/* "$root"/proc/* "$root"/sys/*
tar --numeric-owner --xattrs -C "$root" -cf "$CACHE/debootstrap-layer.tar" .
gzip -6 -c "$CACHE/debootstrap-layer.tar" > "$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
