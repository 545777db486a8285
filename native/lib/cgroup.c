#include "cgroup.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

static bool
has_token (const char *list, const char *tok)
{
  size_t n = strlen (tok);
  const char *p = list;
  while ((p = strstr (p, tok)) != NULL)
    {
      if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
        return true;
      p += n;
    }
  return false;
}

/* Keeps only controller names from v1 super options ("rw,cpu,cpuacct" → "cpu,cpuacct"). */
static void
controllers_from_opts (const char *opts, char *out, size_t len)
{
  char buf[512], *save = NULL, *tok;
  out[0] = '\0';
  snprintf (buf, sizeof buf, "%s", opts);
  for (tok = strtok_r (buf, ",", &save); tok; tok = strtok_r (NULL, ",", &save))
    {
      if (strcmp (tok, "rw") == 0 || strcmp (tok, "ro") == 0 || strcmp (tok, "clone_children") == 0 || strncmp (tok, "release_agent", 13) == 0
          || strcmp (tok, "noprefix") == 0 || strcmp (tok, "xattr") == 0 || strcmp (tok, "cpuset_v2_mode") == 0)
        continue;
      if (out[0])
        strncat (out, ",", len - strlen (out) - 1);
      strncat (out, tok, len - strlen (out) - 1);
    }
}

static int
add_hierarchy (struct cgroup *cg, const char *controllers, const char *mountpoint)
{
  struct cgroup_hierarchy *h;
  size_t i;
  for (i = 0; i < cg->n; i++)
    if (strcmp (cg->h[i].controllers, controllers) == 0)
      return 0; /* the same hierarchy mounted twice */
  if (cg->n == CGROUP_MAX_HIERARCHIES)
    return 0;
  h = &cg->h[cg->n++];
  snprintf (h->controllers, sizeof h->controllers, "%s", controllers);
  snprintf (h->name, sizeof h->name, "%s", strrchr (mountpoint, '/') ? strrchr (mountpoint, '/') + 1 : mountpoint);
  if (asprintf (&h->dir, "%s%s", mountpoint, cg->path) < 0)
    abort ();
  return 0;
}

static int
find_v1_hierarchies (struct cgroup *cg, berth_error_t *err)
{
  char *info, *line, *save = NULL;
  if (read_file ("/proc/self/mountinfo", &info) < 0)
    return berth_make_error (err, errno, "read /proc/self/mountinfo");
  for (line = strtok_r (info, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char mountpoint[4096], fstype[64], source[256], opts[512], controllers[128];
      const char *sep = strstr (line, " - ");
      if (sep == NULL || sscanf (sep + 3, "%63s %255s %511s", fstype, source, opts) != 3)
        continue;
      if (strcmp (fstype, "cgroup") != 0 && strcmp (fstype, "cgroup2") != 0)
        continue;
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mountpoint) != 1)
        continue;
      /* Named hierarchies (name=systemd) and hybrid cgroup2 limit nothing, but the
       * container must leave its creator's cgroup there too: systemd tracks (and on
       * stop kills) a service by those. */
      if (strcmp (fstype, "cgroup2") == 0)
        controllers[0] = '\0';
      else
        controllers_from_opts (opts, controllers, sizeof controllers);
      if (controllers[0] == '\0' && strcmp (fstype, "cgroup2") != 0)
        continue;
      add_hierarchy (cg, controllers, mountpoint);
    }
  free (info);
  if (cg->n == 0)
    return berth_make_error (err, 0, "no cgroup v1 controller is mounted under /sys/fs/cgroup");
  return 0;
}

int
cgroup_init (struct cgroup *cg, const char *cgroups_path, const char *id, berth_error_t *err)
{
  struct statfs sfs;
  memset (cg, 0, sizeof *cg);
  if (cgroups_path && strchr (cgroups_path, ':') != NULL)
    return berth_make_error (err, 0, "cgroupsPath `%s`: systemd slice paths are not supported, use a path like /berth/ID",
                             cgroups_path);
  if (cgroups_path == NULL || cgroups_path[0] == '\0')
    {
      if (asprintf (&cg->path, "/%s", id) < 0)
        abort ();
    }
  else if (asprintf (&cg->path, "%s%s", cgroups_path[0] == '/' ? "" : "/", cgroups_path) < 0)
    abort ();
  if (strstr (cg->path, "/../") || strcmp (cg->path + strlen (cg->path) - 3, "/..") == 0)
    return berth_make_error (err, 0, "cgroupsPath `%s` must not contain `..`", cg->path);
  if (statfs ("/sys/fs/cgroup", &sfs) < 0)
    return berth_make_error (err, errno, "statfs /sys/fs/cgroup");
  if (sfs.f_type == CGROUP2_SUPER_MAGIC)
    {
      cg->v2 = true;
      add_hierarchy (cg, "", "/sys/fs/cgroup");
      return 0;
    }
  return find_v1_hierarchies (cg, err);
}

/* A new v1 cpuset cgroup starts with empty cpus/mems, and no task can join it then. */
static void
cpuset_fill (const char *dir)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  char path[4200], parent[4200], *val;
  size_t i;
  for (i = 0; i < 2; i++)
    {
      snprintf (path, sizeof path, "%s/%s", dir, files[i]);
      if (read_file (path, &val) < 0)
        continue;
      if (val[0] != '\n' && val[0] != '\0')
        {
          free (val);
          continue;
        }
      free (val);
      snprintf (parent, sizeof parent, "%s/../%s", dir, files[i]);
      if (read_file (parent, &val) > 0)
        {
          (void) !write_file (path, val, strlen (val));
          free (val);
        }
    }
}

/* Pure v2: a controller works in a child only if every ancestor delegates it. */
static void
enable_v2_controllers (const char *dir)
{
  char path[4200], *avail, *save = NULL, *tok;
  snprintf (path, sizeof path, "%s/cgroup.controllers", dir);
  if (read_file (path, &avail) < 0)
    return;
  snprintf (path, sizeof path, "%s/cgroup.subtree_control", dir);
  for (tok = strtok_r (avail, " \n", &save); tok; tok = strtok_r (NULL, " \n", &save))
    {
      char op[64];
      int n = snprintf (op, sizeof op, "+%s", tok);
      /* Each controller alone: one that cannot be enabled must not block the others. */
      (void) !write_file (path, op, (size_t) n);
    }
  free (avail);
}

static int
make_dirs (struct cgroup_hierarchy *h, bool v2, size_t root_len, berth_error_t *err)
{
  char *p;
  bool cpuset = has_token (h->controllers, "cpuset");
  for (p = h->dir + root_len + 1;; p++)
    {
      bool end = (*p == '\0');
      if (*p != '/' && !end)
        continue;
      *p = '\0';
      if (v2)
        {
          char *slash = strrchr (h->dir, '/');
          *slash = '\0';
          enable_v2_controllers (h->dir);
          *slash = '/';
        }
      if (mkdir (h->dir, 0755) == 0)
        {
          if (end)
            h->created = true;
          if (cpuset)
            cpuset_fill (h->dir);
        }
      else if (errno != EEXIST)
        {
          int e = errno;
          if (!end)
            *p = '/';
          return berth_make_error (err, e, "create cgroup `%s`", h->dir);
        }
      if (end)
        return 0;
      *p = '/';
    }
}

int
cgroup_create (struct cgroup *cg, berth_error_t *err)
{
  size_t i;
  for (i = 0; i < cg->n; i++)
    {
      struct cgroup_hierarchy *h = &cg->h[i];
      size_t root_len = strlen (h->dir) - strlen (cg->path);
      if (make_dirs (h, cg->v2, root_len, err) < 0)
        {
          cgroup_destroy (cg, false, NULL);
          return -1;
        }
    }
  return 0;
}

int
cgroup_add_pid (struct cgroup *cg, pid_t pid, berth_error_t *err)
{
  char path[4200], val[32];
  size_t i;
  int n = snprintf (val, sizeof val, "%d", (int) pid);
  for (i = 0; i < cg->n; i++)
    {
      snprintf (path, sizeof path, "%s/cgroup.procs", cg->h[i].dir);
      if (write_file (path, val, (size_t) n) < 0)
        return berth_make_error (err, errno, "join cgroup `%s`", cg->h[i].dir);
    }
  return 0;
}

/* A cgroup2 mount lists no controllers (see cgroup_init). */
static bool
is_v2 (const struct cgroup_hierarchy *h)
{
  return h->controllers[0] == '\0';
}

int
cgroup_v2_index (const struct cgroup *cg)
{
  size_t i;
  for (i = 0; i < cg->n; i++)
    if (is_v2 (&cg->h[i]))
      return (int) i;
  return -1;
}

pid_t
cgroup_clone_into_v2 (const struct cgroup *cg, uint64_t flags)
{
  struct clone_args args;
  int v2 = cgroup_v2_index (cg), fd, e;
  pid_t pid;
  if (v2 < 0)
    return -1;
  fd = open (cg->h[v2].dir, O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (fd < 0)
    return -1;
  memset (&args, 0, sizeof args);
  args.flags = flags | CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = (uint64_t) fd;
  pid = (pid_t) syscall (SYS_clone3, &args, sizeof args);
  if (pid == 0)
    return 0;
  e = errno;
  close (fd);
  errno = e;
  return pid;
}

/* A process moving itself into a v1 hierarchy writes 0 to `tasks`, not `cgroup.procs`:
 * the kernel then moves one thread, `current`, without the global threadgroup lock,
 * whose first write lock waits for an RCU grace period (4-15 ms here). The caller is
 * single-threaded, so the thread is the whole process. A cgroup2 hierarchy has no such
 * file for a domain cgroup: there clone3(CLONE_INTO_CGROUP) is the cheap way in, and
 * cgroup.procs the fallback. */
int
cgroup_join_self (const struct cgroup *cg, bool in_v2, berth_error_t *err)
{
  char path[4200];
  size_t i;
  for (i = 0; i < cg->n; i++)
    {
      bool v2 = is_v2 (&cg->h[i]);
      if (v2 && in_v2)
        continue;
      snprintf (path, sizeof path, "%s/%s", cg->h[i].dir, v2 ? "cgroup.procs" : "tasks");
      if (write_file (path, "0", 1) < 0)
        return berth_make_error (err, errno, "join cgroup `%s`", cg->h[i].dir);
    }
  return 0;
}

int
cgroup_destroy (struct cgroup *cg, bool force, berth_error_t *err)
{
  size_t i;
  int attempt;
  for (i = 0; i < cg->n; i++)
    {
      struct cgroup_hierarchy *h = &cg->h[i];
      if (!h->created && !force)
        continue;
      /* Tasks of a dead container may still be exiting: rmdir says EBUSY until then. */
      for (attempt = 0; attempt < 500; attempt++)
        {
          struct timespec ts = { 0, 2000000 };
          if (rmdir (h->dir) == 0 || errno == ENOENT)
            break;
          if (errno != EBUSY)
            break;
          nanosleep (&ts, NULL);
        }
      if (access (h->dir, F_OK) == 0)
        return berth_make_error (err, errno, "remove cgroup `%s`", h->dir);
      h->created = false;
    }
  return 0;
}

const char *
cgroup_dir (const struct cgroup *cg, const char *controller)
{
  size_t i;
  if (cg->v2)
    return cg->n ? cg->h[0].dir : NULL;
  for (i = 0; i < cg->n; i++)
    if (has_token (cg->h[i].controllers, controller))
      return cg->h[i].dir;
  return NULL;
}

static long long
read_key (const char *dir, const char *file, const char *key)
{
  char path[4200], *text, *p;
  long long v = -1;
  size_t n = strlen (key);
  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (read_file (path, &text) < 0)
    return -1;
  for (p = text; p && *p; p = strchr (p, '\n') ? strchr (p, '\n') + 1 : NULL)
    if (strncmp (p, key, n) == 0 && p[n] == ' ')
      {
        v = atoll (p + n + 1);
        break;
      }
  free (text);
  return v;
}

bool
cgroup_oom_killed (const struct cgroup *cg)
{
  const char *dir = cgroup_dir (cg, "memory");
  if (dir == NULL)
    return false;
  if (cg->v2)
    return read_key (dir, "memory.events", "oom_kill") > 0;
  return read_key (dir, "memory.oom_control", "oom_kill") > 0;
}

int
cgroup_freeze (struct cgroup *cg, bool frozen, berth_error_t *err)
{
  char path[4200];
  const char *dir = cgroup_dir (cg, "freezer");
  int attempt;
  if (dir == NULL)
    return berth_make_error (err, 0, "the freezer cgroup controller is not available");
  if (cg->v2)
    {
      snprintf (path, sizeof path, "%s/cgroup.freeze", dir);
      if (write_file (path, frozen ? "1" : "0", 1) < 0)
        return berth_make_error (err, errno, "write `%s`", path);
      return 0;
    }
  snprintf (path, sizeof path, "%s/freezer.state", dir);
  if (write_file (path, frozen ? "FROZEN" : "THAWED", 6) < 0)
    return berth_make_error (err, errno, "write `%s`", path);
  /* v1 freezing is asynchronous: FREEZING until every task stopped. */
  for (attempt = 0; frozen && attempt < 1000 && !cgroup_is_frozen (cg); attempt++)
    {
      struct timespec ts = { 0, 1000000 };
      nanosleep (&ts, NULL);
    }
  return 0;
}

bool
cgroup_is_frozen (const struct cgroup *cg)
{
  char path[4200], *val;
  const char *dir = cgroup_dir (cg, "freezer");
  bool frozen = false;
  if (dir == NULL)
    return false;
  if (cg->v2)
    return read_key (dir, "cgroup.events", "frozen") == 1;
  snprintf (path, sizeof path, "%s/freezer.state", dir);
  if (read_file (path, &val) < 0)
    return false;
  frozen = strncmp (val, "FROZEN", 6) == 0;
  free (val);
  return frozen;
}

int
cgroup_pids (const struct cgroup *cg, pid_t **out)
{
  char path[4200], *text, *p;
  const char *dir = cgroup_dir (cg, "pids");
  size_t n = 0, cap = 16;
  if (dir == NULL)
    dir = cg->n ? cg->h[0].dir : NULL;
  if (dir == NULL)
    return -1;
  snprintf (path, sizeof path, "%s/cgroup.procs", dir);
  if (read_file (path, &text) < 0)
    return -1;
  *out = calloc (cap, sizeof (pid_t));
  for (p = text; *p; p++)
    {
      if (p == text || p[-1] == '\n')
        {
          if (*p < '0' || *p > '9')
            continue;
          if (n == cap)
            {
              cap *= 2;
              *out = realloc (*out, cap * sizeof (pid_t));
            }
          (*out)[n++] = (pid_t) atoi (p);
        }
    }
  free (text);
  return (int) n;
}

void
cgroup_signal_all (const struct cgroup *cg, int sig)
{
  pid_t *pids = NULL;
  int n = cgroup_pids (cg, &pids), i;
  for (i = 0; i < n; i++)
    (void) kill (pids[i], sig); /* ESRCH: it exited since the read, nothing to do */
  free (pids);
}
