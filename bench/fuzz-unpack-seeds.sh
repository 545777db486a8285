#!/usr/bin/env bash
# Seeds of the unpack fuzz target (bench/fuzz.sh): small layer tars made by GNU tar, one
# kind of entry each: a file, a directory, symlinks, a hardlink, pax records (per entry,
# global, xattrs), GNU long names, base-256 numbers, whiteouts and a fifo.
#   bench/fuzz-unpack-seeds.sh DIR
set -euo pipefail
OUT=$(realpath "$1")
SRC=$(mktemp -d /tmp/berth-fuzz-seeds.XXXXXX)
trap 'rm -rf "$SRC"' EXIT
cd "$SRC"
# One 512-byte record per block (no 10 KiB padding), fixed owners and times.
t() { # NAME FORMAT [TAR OPTION...] -- PATH...
  local name=$1 format=$2
  shift 2
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  tar -c -b 1 --format="$format" --sort=name --numeric-owner --owner=0 --group=0 --mtime=@1700000000 \
    "${opts[@]}" -f "$OUT/$name.tar" "$@"
}

echo hello > file
t file ustar -- file

mkdir -p dir/sub && echo x > dir/sub/f && chmod 750 dir/sub
t dir ustar -- dir

ln -s file rel-link && ln -s /etc/passwd abs-link && ln -s ../../outside up-link
t symlink ustar -- file rel-link abs-link up-link

echo linked > orig && ln orig hard
t hardlink ustar -- orig hard

# A last component of 120 characters: no ustar prefix split, so a pax path / GNU long name.
long=$(printf 'd%.0s' {1..60})/$(printf 'f%.0s' {1..120})
mkdir -p "${long%/*}" && echo deep > "$long"
t pax-path pax --pax-option='SCHILY.xattr.user.seed:=v' -- "$long"
t pax-global pax --pax-option='mtime=1700000000.5,LIBARCHIVE.xattr.user.a%20b=dmFsdWU=' -- file

ln -s "$long" long-link
t gnu-longname gnu -- "$long" long-link

t base256 gnu --owner=0:3000000000 --group=0:3000000000 -- file

mkdir -p wh/kept && touch wh/.wh.gone wh/kept/.wh..wh..opq
t whiteout ustar -- wh

mkfifo fifo
t fifo ustar -- fifo
