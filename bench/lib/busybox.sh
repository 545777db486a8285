# Sourced by the benchmarks: the busybox image every engine runs, built from Debian's
# busybox-static (applet links, root in passwd/group), so no registry is needed.

# busybox_rootfs DIR: makes DIR a busybox root filesystem.
busybox_rootfs() {
  mkdir -p "$1/bin" "$1/etc" "$1/tmp"
  cp "$(command -v busybox)" "$1/bin/busybox"
  for a in $("$1/bin/busybox" --list); do [ "$a" = busybox ] || ln -s busybox "$1/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$1/etc/passwd"
  printf 'root:x:0:\n' > "$1/etc/group"
}
