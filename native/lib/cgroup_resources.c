/* linux.resources of the runtime spec written to cgroup v1 or v2 files. */
#include "cgroup.h"
#include "devices_bpf.h"
#include "fsutil.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
cg_write (const char *dir, const char *file, berth_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));

static int
cg_write (const char *dir, const char *file, berth_error_t *err, const char *fmt, ...)
{
  char path[4200], val[256];
  va_list ap;
  int n;
  if (dir == NULL)
    return berth_make_error (err, 0, "cannot set %s: its cgroup controller is not mounted", file);
  va_start (ap, fmt);
  n = vsnprintf (val, sizeof val, fmt, ap);
  va_end (ap);
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (write_file (path, val, (size_t) n) < 0)
    return berth_make_error (err, errno, "write `%s` to %s", val, path);
  return 0;
}

static bool
get_i64 (json_t *obj, const char *key, int64_t *out)
{
  return json_int64 (json_get (obj, key), out);
}

static bool
file_exists (const char *dir, const char *file)
{
  char path[4200];
  if (dir == NULL)
    return false;
  snprintf (path, sizeof path, "%s/%s", dir, file);
  return access (path, F_OK) == 0;
}

static void
device_rule (json_t *d, char *buf, size_t len)
{
  const char *type = json_string (json_get (d, "type"));
  const char *access = json_string (json_get (d, "access"));
  int64_t major = -1, minor = -1;
  char smaj[24] = "*", smin[24] = "*";
  if (get_i64 (d, "major", &major) && major >= 0)
    snprintf (smaj, sizeof smaj, "%" PRId64, major);
  if (get_i64 (d, "minor", &minor) && minor >= 0)
    snprintf (smin, sizeof smin, "%" PRId64, minor);
  snprintf (buf, len, "%s %s:%s %s", type ? type : "a", smaj, smin, access ? access : "rwm");
}

static int
v1_memory (struct cgroup *cg, json_t *mem, berth_error_t *err)
{
  const char *dir = cgroup_dir (cg, "memory");
  int64_t v;
  json_t *b;
  if (get_i64 (mem, "limit", &v))
    {
      int64_t swap;
      bool has_swap = get_i64 (mem, "swap", &swap) && file_exists (dir, "memory.memsw.limit_in_bytes");
      /* memsw must stay >= limit at every step: order the two writes accordingly. */
      if (cg_write (dir, "memory.limit_in_bytes", NULL, "%" PRId64, v) < 0)
        {
          if (has_swap && cg_write (dir, "memory.memsw.limit_in_bytes", err, "%" PRId64, swap) < 0)
            return -1;
          if (cg_write (dir, "memory.limit_in_bytes", err, "%" PRId64, v) < 0)
            return -1;
        }
      else if (has_swap && cg_write (dir, "memory.memsw.limit_in_bytes", err, "%" PRId64, swap) < 0)
        return -1;
    }
  if (get_i64 (mem, "reservation", &v) && cg_write (dir, "memory.soft_limit_in_bytes", err, "%" PRId64, v) < 0)
    return -1;
  if (get_i64 (mem, "swappiness", &v) && v >= 0 && v <= 100
      && cg_write (dir, "memory.swappiness", err, "%" PRId64, v) < 0)
    return -1;
  b = json_get (mem, "disableOOMKiller");
  if (json_is (b, JSON_BOOL) && b->boolean && cg_write (dir, "memory.oom_control", err, "1") < 0)
    return -1;
  return 0;
}

static int
v1_cpu (struct cgroup *cg, json_t *cpu, berth_error_t *err)
{
  const char *dir = cgroup_dir (cg, "cpu");
  const char *cpuset = cgroup_dir (cg, "cpuset");
  const char *s;
  int64_t v;
  if (get_i64 (cpu, "shares", &v) && v > 0 && cg_write (dir, "cpu.shares", err, "%" PRId64, v) < 0)
    return -1;
  if (get_i64 (cpu, "period", &v) && v > 0 && cg_write (dir, "cpu.cfs_period_us", err, "%" PRId64, v) < 0)
    return -1;
  if (get_i64 (cpu, "quota", &v) && v != 0 && cg_write (dir, "cpu.cfs_quota_us", err, "%" PRId64, v) < 0)
    return -1;
  if (get_i64 (cpu, "realtimePeriod", &v) && v > 0 && cg_write (dir, "cpu.rt_period_us", err, "%" PRId64, v) < 0)
    return -1;
  if (get_i64 (cpu, "realtimeRuntime", &v) && v != 0 && cg_write (dir, "cpu.rt_runtime_us", err, "%" PRId64, v) < 0)
    return -1;
  if ((s = json_string (json_get (cpu, "cpus"))) && *s && cg_write (cpuset, "cpuset.cpus", err, "%s", s) < 0)
    return -1;
  if ((s = json_string (json_get (cpu, "mems"))) && *s && cg_write (cpuset, "cpuset.mems", err, "%s", s) < 0)
    return -1;
  return 0;
}

static int
v1_blkio (struct cgroup *cg, json_t *io, berth_error_t *err)
{
  static const char *const throttles[][2] = {
    { "throttleReadBpsDevice", "blkio.throttle.read_bps_device" },
    { "throttleWriteBpsDevice", "blkio.throttle.write_bps_device" },
    { "throttleReadIOPSDevice", "blkio.throttle.read_iops_device" },
    { "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device" },
  };
  const char *dir = cgroup_dir (cg, "blkio");
  int64_t v, major, minor, rate;
  size_t i, k;
  if (get_i64 (io, "weight", &v) && v > 0)
    {
      const char *file = file_exists (dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight";
      /* Like docker: a kernel (or I/O scheduler) without weights gets a warning. */
      if (!file_exists (dir, file))
        berth_log_warning ("blkio weight ignored: no blkio.weight nor blkio.bfq.weight on this host");
      else if (cg_write (dir, file, err, "%" PRId64, v) < 0)
        return -1;
    }
  for (k = 0; k < 4; k++)
    {
      json_t *list = json_get (io, throttles[k][0]);
      for (i = 0; list && i < list->n; i++)
        if (get_i64 (list->items[i], "major", &major) && get_i64 (list->items[i], "minor", &minor)
            && get_i64 (list->items[i], "rate", &rate)
            && cg_write (dir, throttles[k][1], err, "%" PRId64 ":%" PRId64 " %" PRId64, major, minor, rate) < 0)
          return -1;
    }
  return 0;
}

/* runc and crun always allow these on top of the spec's rules: a container cannot
 * work without its /dev/null or its terminal. */
static const char *const default_allowed[] = {
  "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm",
  "c 136:* rwm",
};

static int
v1_devices (struct cgroup *cg, json_t *devices, berth_error_t *err)
{
  const char *dir = cgroup_dir (cg, "devices");
  size_t i;
  for (i = 0; devices && i < devices->n; i++)
    {
      json_t *d = devices->items[i];
      json_t *allow = json_get (d, "allow");
      char rule[128];
      device_rule (d, rule, sizeof rule);
      if (cg_write (dir, json_is (allow, JSON_BOOL) && allow->boolean ? "devices.allow" : "devices.deny", err, "%s",
                    rule) < 0)
        return -1;
    }
  for (i = 0; devices && devices->n && i < sizeof default_allowed / sizeof default_allowed[0]; i++)
    if (cg_write (dir, "devices.allow", err, "%s", default_allowed[i]) < 0)
      return -1;
  return 0;
}

static int
hugetlb (struct cgroup *cg, json_t *limits, berth_error_t *err)
{
  const char *dir = cgroup_dir (cg, "hugetlb");
  size_t i;
  for (i = 0; limits && i < limits->n; i++)
    {
      const char *size = json_string (json_get (limits->items[i], "pageSize"));
      char file[96];
      int64_t limit;
      if (size == NULL || !get_i64 (limits->items[i], "limit", &limit))
        continue;
      snprintf (file, sizeof file, cg->v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", size);
      if (dir == NULL)
        return berth_make_error (err, 0, "hugepage limits need the hugetlb controller as a v1 hierarchy "
                                         "(mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb)");
      if (cg_write (dir, file, err, "%" PRId64, limit) < 0)
        return -1;
    }
  return 0;
}

static int
apply_v1 (struct cgroup *cg, json_t *r, berth_error_t *err)
{
  json_t *v;
  int64_t limit;
  if ((v = json_get (r, "devices")) && v1_devices (cg, v, err) < 0)
    return -1;
  if ((v = json_get (r, "memory")) && v1_memory (cg, v, err) < 0)
    return -1;
  if ((v = json_get (r, "cpu")) && v1_cpu (cg, v, err) < 0)
    return -1;
  if ((v = json_get (r, "pids")) && get_i64 (v, "limit", &limit))
    {
      if (limit > 0 ? cg_write (cgroup_dir (cg, "pids"), "pids.max", err, "%" PRId64, limit) < 0
                    : cg_write (cgroup_dir (cg, "pids"), "pids.max", err, "max") < 0)
        return -1;
    }
  if ((v = json_get (r, "blockIO")) && v1_blkio (cg, v, err) < 0)
    return -1;
  return hugetlb (cg, json_get (r, "hugepageLimits"), err);
}

static void
v2_max (char *buf, size_t len, int64_t v)
{
  if (v < 0)
    snprintf (buf, len, "max");
  else
    snprintf (buf, len, "%" PRId64, v);
}

static int
apply_v2 (struct cgroup *cg, json_t *r, berth_error_t *err)
{
  const char *dir = cg->h[0].dir;
  json_t *mem = json_get (r, "memory"), *cpu = json_get (r, "cpu"), *v, *unified;
  char buf[64];
  int64_t limit = 0, swap, n, period = 100000;
  const char *s;
  size_t i;

  if (mem && get_i64 (mem, "limit", &limit))
    {
      v2_max (buf, sizeof buf, limit);
      if (cg_write (dir, "memory.max", err, "%s", buf) < 0)
        return -1;
    }
  /* OCI swap is memory+swap (v1 memsw); v2 wants the swap part alone. */
  if (mem && get_i64 (mem, "swap", &swap) && file_exists (dir, "memory.swap.max"))
    {
      v2_max (buf, sizeof buf, swap < 0 ? -1 : (limit > 0 && swap >= limit ? swap - limit : swap));
      if (cg_write (dir, "memory.swap.max", err, "%s", buf) < 0)
        return -1;
    }
  if (mem && get_i64 (mem, "reservation", &n) && cg_write (dir, "memory.low", err, "%" PRId64, n) < 0)
    return -1;
  if (cpu && get_i64 (cpu, "shares", &n) && n > 0
      && cg_write (dir, "cpu.weight", err, "%" PRId64, 1 + ((n - 2) * 9999) / 262142) < 0)
    return -1;
  get_i64 (cpu, "period", &period);
  if (cpu && get_i64 (cpu, "quota", &n) && n != 0)
    {
      v2_max (buf, sizeof buf, n);
      if (cg_write (dir, "cpu.max", err, "%s %" PRId64, buf, period) < 0)
        return -1;
    }
  if (cpu && (s = json_string (json_get (cpu, "cpus"))) && *s && cg_write (dir, "cpuset.cpus", err, "%s", s) < 0)
    return -1;
  if (cpu && (s = json_string (json_get (cpu, "mems"))) && *s && cg_write (dir, "cpuset.mems", err, "%s", s) < 0)
    return -1;
  if ((v = json_get (r, "pids")) && get_i64 (v, "limit", &n))
    {
      v2_max (buf, sizeof buf, n > 0 ? n : -1);
      if (cg_write (dir, "pids.max", err, "%s", buf) < 0)
        return -1;
    }
  if ((v = json_get (r, "blockIO")) && get_i64 (v, "weight", &n) && n > 0)
    {
      if (file_exists (dir, "io.bfq.weight"))
        {
          if (cg_write (dir, "io.bfq.weight", err, "%" PRId64, n) < 0)
            return -1;
        }
      else if (cg_write (dir, "io.weight", err, "default %" PRId64, 1 + (n - 10) * 9999 / 990) < 0)
        return -1;
    }
  if (devices_bpf_attach (dir, json_get (r, "devices"), default_allowed,
                          sizeof default_allowed / sizeof default_allowed[0], err) < 0)
    return -1;
  if (hugetlb (cg, json_get (r, "hugepageLimits"), err) < 0)
    return -1;
  unified = json_get (r, "unified");
  for (i = 0; unified && i < unified->n; i++)
    {
      const char *key = unified->items[i]->key;
      if (strchr (key, '/') || (s = json_string (unified->items[i])) == NULL)
        return berth_make_error (err, 0, "config.json: bad linux.resources.unified entry `%s`", key);
      if (cg_write (dir, key, err, "%s", s) < 0)
        return -1;
    }
  return 0;
}

int
cgroup_apply_resources (struct cgroup *cg, json_t *resources, berth_error_t *err)
{
  if (resources == NULL)
    return 0;
  if (!json_is (resources, JSON_OBJECT))
    return berth_make_error (err, 0, "linux.resources must be a JSON object");
  return cg->v2 ? apply_v2 (cg, resources, err) : apply_v1 (cg, resources, err);
}
