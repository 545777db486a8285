# CPU time of an engine and everything it starts (containerd, shims, monitors, helper
# processes), from a cgroup of its own: `cpu_cgroup NAME PID` moves PID there (its
# children follow), `cpu_ms NAME` prints the CPU milliseconds used so far, `cpu_cgroup_rm NAME`
# removes it. cgroup v2 (cpu.stat) or v1 (cpuacct.usage). Containers leave it for their own
# cgroups, so their own work is not counted. Prints nothing useful when neither is there.
cpu_cgroup_dir() {
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then echo "/sys/fs/cgroup/berth-bench-$1"
  elif [ -d /sys/fs/cgroup/cpuacct ]; then echo "/sys/fs/cgroup/cpuacct/berth-bench-$1"
  fi
}
cpu_cgroup() {
  local d; d=$(cpu_cgroup_dir "$1"); [ -n "$d" ] || return 0
  mkdir -p "$d" && echo "$2" >"$d/cgroup.procs"
}
cpu_ms() {
  local d; d=$(cpu_cgroup_dir "$1")
  if [ -f "$d/cpu.stat" ]; then awk '$1 == "usage_usec" { printf "%d\n", $2 / 1000 }' "$d/cpu.stat"
  elif [ -f "$d/cpuacct.usage" ]; then awk '{ printf "%d\n", $1 / 1000000 }' "$d/cpuacct.usage"
  else echo 0; fi
}
cpu_cgroup_rm() {
  local d p; d=$(cpu_cgroup_dir "$1"); [ -n "$d" ] && [ -d "$d" ] || return 0
  # What is left (monitors of removed containers are gone by now) goes back to the root.
  for p in $(cat "$d/cgroup.procs" 2>/dev/null); do echo "$p" >"$(dirname "$d")/cgroup.procs" 2>/dev/null; done
  rmdir "$d" 2>/dev/null || true
}
