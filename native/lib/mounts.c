#include "mounts.h"
#include "fsutil.h"
#include "pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
  const char *name;
  bool clear;
  unsigned long flag;
} flag_table[] = {
  { "defaults", false, 0 }, { "ro", false, MS_RDONLY }, { "rw", true, MS_RDONLY },
  { "nosuid", false, MS_NOSUID }, { "suid", true, MS_NOSUID }, { "nodev", false, MS_NODEV },
  { "dev", true, MS_NODEV }, { "noexec", false, MS_NOEXEC }, { "exec", true, MS_NOEXEC },
  { "sync", false, MS_SYNCHRONOUS }, { "async", true, MS_SYNCHRONOUS }, { "dirsync", false, MS_DIRSYNC },
  { "remount", false, MS_REMOUNT }, { "mand", false, MS_MANDLOCK }, { "nomand", true, MS_MANDLOCK },
  { "noatime", false, MS_NOATIME }, { "atime", true, MS_NOATIME }, { "nodiratime", false, MS_NODIRATIME },
  { "diratime", true, MS_NODIRATIME }, { "bind", false, MS_BIND }, { "rbind", false, MS_BIND | MS_REC },
  { "relatime", false, MS_RELATIME }, { "norelatime", true, MS_RELATIME }, { "strictatime", false, MS_STRICTATIME },
  { "nostrictatime", true, MS_STRICTATIME },
};

static const struct {
  const char *name;
  unsigned long flag;
} propagation_table[] = {
  { "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC }, { "shared", MS_SHARED },
  { "rshared", MS_SHARED | MS_REC }, { "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
  { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

int
mount_parse_options (char **options, size_t n, struct mount_flags *out, berth_error_t *err)
{
  size_t i, k;
  memset (out, 0, sizeof *out);
  for (i = 0; i < n; i++)
    {
      const char *o = options[i];
      bool done = false;
      for (k = 0; !done && k < sizeof flag_table / sizeof flag_table[0]; k++)
        if (strcmp (o, flag_table[k].name) == 0)
          {
            if (flag_table[k].clear)
              out->flags &= ~flag_table[k].flag;
            else
              out->flags |= flag_table[k].flag;
            done = true;
          }
      for (k = 0; !done && k < sizeof propagation_table / sizeof propagation_table[0]; k++)
        if (strcmp (o, propagation_table[k].name) == 0)
          {
            out->propagation = propagation_table[k].flag;
            done = true;
          }
      if (done || strcmp (o, "tmpcopyup") == 0)
        continue;
      if (strcmp (o, "idmap") == 0 || strcmp (o, "ridmap") == 0)
        return berth_make_error (err, 0, "mount option `%s` is not supported", o);
      if (strlen (out->data) + strlen (o) + 2 > sizeof out->data)
        return berth_make_error (err, 0, "mount options too long");
      if (out->data[0])
        strcat (out->data, ",");
      strcat (out->data, o);
    }
  return 0;
}

/* A read-only remount of a bind must keep nosuid/nodev/noexec that the kernel locked. */
static unsigned long
locked_flags (const char *path)
{
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs (path, &sv) < 0)
    return 0;
  if (sv.f_flag & ST_NOSUID)
    f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV)
    f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC)
    f |= MS_NOEXEC;
  return f;
}

static int
bind_remount (const char *target, unsigned long flags, berth_error_t *err)
{
  unsigned long f = MS_BIND | MS_REMOUNT | (flags & ~(MS_BIND | MS_REC | MS_REMOUNT)) | locked_flags (target);
  if (mount (NULL, target, NULL, f, NULL) < 0)
    return berth_make_error (err, errno, "remount bind `%s`", target);
  return 0;
}

/* An fd opened before a mount still names the covered directory: changes to the new
 * mount (remount, propagation) must go through a fresh lookup. */
static int
fresh_target (int rootfd, const char *dest, char *target, size_t len, berth_error_t *err)
{
  int fd = open_in_root (rootfd, dest, O_PATH);
  if (fd < 0)
    return berth_make_error (err, errno, "resolve `%s` in the rootfs", dest);
  fd_path (fd, target, len);
  return fd;
}

static int
remount_in_root (int rootfd, const char *dest, unsigned long flags, berth_error_t *err)
{
  char target[64];
  int fd = fresh_target (rootfd, dest, target, sizeof target, err), r;
  if (fd < 0)
    return -1;
  r = bind_remount (target, flags, err);
  close (fd);
  return r;
}

/* Mounts the cgroup view: cgroup2 itself in a cgroup namespace, else binds of the
 * container's own cgroup directories (so it never sees the host's tree). */
static int
mount_cgroups (int rootfd, const struct mount_spec *m, const struct cgroup *cg, const struct mount_flags *mf,
               bool cgroupns, berth_error_t *err)
{
  char target[64], sub[4200];
  unsigned long ro = mf->flags & MS_RDONLY;
  size_t i;
  int fd = create_in_root (rootfd, m->destination, false, err);
  if (fd < 0)
    return -1;
  fd_path (fd, target, sizeof target);
  if (cg->v2)
    {
      int r = cgroupns ? mount ("cgroup2", target, "cgroup2", mf->flags, NULL)
                       : mount (cg->h[0].dir, target, NULL, MS_BIND | MS_REC, NULL);
      close (fd);
      if (r < 0)
        return berth_make_error (err, errno, "mount cgroup2 on `%s`", m->destination);
      return cgroupns ? 0 : remount_in_root (rootfd, m->destination, mf->flags, err);
    }
  if (mount ("tmpfs", target, "tmpfs", (mf->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
    {
      close (fd);
      return berth_make_error (err, errno, "mount tmpfs on `%s`", m->destination);
    }
  close (fd);
  for (i = 0; i < cg->n; i++)
    {
      const char *name = cg->h[i].name;
      int sfd;
      snprintf (sub, sizeof sub, "%s/%s", m->destination, name);
      sfd = create_in_root (rootfd, sub, false, err);
      if (sfd < 0)
        return -1;
      fd_path (sfd, target, sizeof target);
      if (mount (cg->h[i].dir, target, NULL, MS_BIND | MS_REC, NULL) < 0)
        {
          close (sfd);
          return berth_make_error (err, errno, "bind cgroup `%s`", cg->h[i].dir);
        }
      close (sfd);
      if (remount_in_root (rootfd, sub, mf->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC, err) < 0)
        return -1;
    }
  if (ro)
    return remount_in_root (rootfd, m->destination, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, err);
  return 0;
}

static int
do_mount (int rootfd, const struct spec *spec, const struct mount_spec *m, const struct cgroup *cg, bool userns,
          berth_error_t *err)
{
  struct mount_flags mf;
  const char *type = m->type ? m->type : "";
  bool bind;
  char target[64];
  int fd, r;

  if (mount_parse_options (m->options, m->n_options, &mf, err) < 0)
    return berth_error_wrap (err, "mount `%s`", m->destination);
  bind = (mf.flags & MS_BIND) || strcmp (type, "bind") == 0;
  if (strcmp (type, "cgroup") == 0 || strcmp (type, "cgroup2") == 0)
    return mount_cgroups (rootfd, m, cg, &mf, spec_has_namespace (spec, CLONE_NEWCGROUP), err);
  if (bind)
    {
      struct stat st;
      if (m->source == NULL || stat (m->source, &st) < 0)
        return berth_make_error (err, errno ? errno : ENOENT, "bind mount source `%s` for `%s`",
                                 m->source ? m->source : "(none)", m->destination);
      fd = create_in_root (rootfd, m->destination, !S_ISDIR (st.st_mode), err);
    }
  else
    fd = create_in_root (rootfd, m->destination, false, err);
  if (fd < 0)
    return -1;
  fd_path (fd, target, sizeof target);
  if (bind)
    {
      r = mount (m->source, target, NULL, MS_BIND | (mf.flags & MS_REC), NULL);
      if (r == 0 && (mf.flags & ~(MS_BIND | MS_REC)))
        r = remount_in_root (rootfd, m->destination, mf.flags, err);
      else if (r < 0)
        r = berth_make_error (err, errno, "bind `%s` on `%s`", m->source, m->destination);
    }
  else
    {
      r = mount (m->source ? m->source : type, target, type, mf.flags, mf.data[0] ? mf.data : NULL);
      /* sysfs needs a network namespace owned by the user namespace: reuse the host's. */
      if (r < 0 && errno == EPERM && userns && strcmp (type, "sysfs") == 0)
        r = mount ("/sys", target, NULL, MS_BIND | MS_REC, NULL);
      /* mqueue needs its own IPC namespace: bind the host's otherwise, as runc does. */
      if (r < 0 && strcmp (type, "mqueue") == 0 && !spec_has_namespace (spec, CLONE_NEWIPC))
        r = mount ("/dev/mqueue", target, NULL, MS_BIND | MS_REC, NULL);
      if (r < 0)
        r = berth_make_error (err, errno, "mount %s on `%s`", type, m->destination);
    }
  close (fd);
  if (r == 0 && mf.propagation)
    {
      fd = fresh_target (rootfd, m->destination, target, sizeof target, err);
      if (fd < 0)
        return -1;
      if (mount (NULL, target, NULL, mf.propagation, NULL) < 0)
        r = berth_make_error (err, errno, "set propagation of `%s`", m->destination);
      close (fd);
    }
  return r;
}

static bool
dev_is_tmpfs (const struct spec *spec)
{
  size_t i;
  for (i = 0; i < spec->n_mounts; i++)
    if (strcmp (spec->mounts[i].destination, "/dev") == 0)
      return spec->mounts[i].type && strcmp (spec->mounts[i].type, "tmpfs") == 0;
  return false;
}

static unsigned long
root_propagation (const struct spec *spec)
{
  size_t k;
  for (k = 0; spec->rootfs_propagation && k < sizeof propagation_table / sizeof propagation_table[0]; k++)
    if (strcmp (spec->rootfs_propagation, propagation_table[k].name) == 0)
      return propagation_table[k].flag;
  return MS_SLAVE | MS_REC;
}

/* The mount point under which `path` lives (longest prefix in mountinfo); 0 on success. */
static int
parent_mount_point (const char *path, char *out, size_t len)
{
  char real[PATH_MAX], line[8192], mp[PATH_MAX];
  size_t best = 0;
  FILE *f;
  if (!realpath (path, real) || !(f = fopen ("/proc/self/mountinfo", "re")))
    return -1;
  while (fgets (line, sizeof line, f))
    {
      size_t n;
      /* fields: id parent major:minor root mount-point ... (no spaces inside: \040 escapes) */
      if (sscanf (line, "%*s %*s %*s %*s %4095s", mp) != 1)
        continue;
      n = strlen (mp);
      if (strncmp (real, mp, n) == 0 && (n == 1 || real[n] == '/' || real[n] == 0) && n >= best && n < len)
        {
          best = n;
          memcpy (out, mp, n + 1);
        }
    }
  fclose (f);
  return best ? 0 : -1;
}

int
rootfs_prepare (const struct spec *spec, const struct cgroup *cg, bool userns, berth_error_t *err)
{
  unsigned long prop = root_propagation (spec);
  int rootfd, ret = 0;
  size_t i;

  if (prop & MS_SHARED)
    {
      /* Shared root propagation (docker plugins' propagated mounts), as runc does it: "/"
       * stays shared with the host, but the mount holding the rootfs is made private, so
       * the rootfs bind and everything mounted in it stay in the container; only a mount
       * the spec binds rshared from a shared host mount reaches the host. */
      char parent[PATH_MAX];
      if (mount (NULL, "/", NULL, MS_SHARED | MS_REC, NULL) < 0)
        return berth_make_error (err, errno, "make / %s", "shared");
      if (parent_mount_point (spec->root_path, parent, sizeof parent) < 0)
        return berth_make_error (err, errno ? errno : ENOENT, "find the mount holding the rootfs `%s`", spec->root_path);
      if (mount (NULL, parent, NULL, MS_PRIVATE, NULL) < 0)
        return berth_make_error (err, errno, "make the rootfs's parent mount `%s` private", parent);
    }
  /* Otherwise never let our mounts propagate back to the host. */
  else if (mount (NULL, "/", NULL, prop, NULL) < 0)
    return berth_make_error (err, errno, "make / %s", "private to the container");
  if (mount (spec->root_path, spec->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return berth_make_error (err, errno, "bind the rootfs `%s`", spec->root_path);
  rootfd = open (spec->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0)
    return berth_make_error (err, errno, "open the rootfs `%s`", spec->root_path);
  for (i = 0; ret == 0 && i < spec->n_mounts; i++)
    ret = do_mount (rootfd, spec, &spec->mounts[i], cg, userns, err);
  if (ret == 0 && dev_is_tmpfs (spec))
    ret = devices_create (rootfd, spec, userns, err);
  if (ret == 0 && dev_is_tmpfs (spec))
    ret = devices_links (rootfd, err);
  close (rootfd);
  return ret;
}

int
rootfs_pivot (const struct spec *spec, berth_error_t *err)
{
  int oldroot, newroot;
  oldroot = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  newroot = open (spec->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (oldroot < 0 || newroot < 0)
    return berth_make_error (err, errno, "open the old and new roots");
  if (fchdir (newroot) < 0)
    return berth_make_error (err, errno, "chdir to the rootfs");
  if (syscall (SYS_pivot_root, ".", ".") < 0)
    return berth_make_error (err, errno, "pivot_root to `%s`", spec->root_path);
  /* The old root now sits on top of "/": detach it without telling the host. */
  if (fchdir (oldroot) < 0)
    return berth_make_error (err, errno, "chdir to the old root");
  if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
    return berth_make_error (err, errno, "make the old root a slave");
  if (umount2 (".", MNT_DETACH) < 0)
    return berth_make_error (err, errno, "detach the old root");
  if (chdir ("/") < 0)
    return berth_make_error (err, errno, "chdir /");
  close (oldroot);
  close (newroot);
  if (spec->rootfs_propagation && mount (NULL, "/", NULL, root_propagation (spec), NULL) < 0)
    return berth_make_error (err, errno, "set rootfs propagation `%s`", spec->rootfs_propagation);
  return 0;
}

/* After pivot_root: path resolved inside "/" (a fresh lookup each time, so a mount
 * made on the way is seen); returns an O_PATH fd with its /proc/self/fd name in
 * target, or -1 with errno. */
static int
open_in_new_root (const char *path, char *target, size_t len)
{
  int root = open ("/", O_PATH | O_CLOEXEC);
  int fd = open_in_root (root, path, O_PATH), saved = errno;
  if (root >= 0)
    close (root);
  errno = saved;
  if (fd >= 0)
    fd_path (fd, target, len);
  return fd;
}

static int
mask_path (const char *path, berth_error_t *err)
{
  struct stat st;
  char target[64];
  int fd = open_in_new_root (path, target, sizeof target);
  int r;
  if (fd < 0)
    return (errno == ENOENT) ? 0 : berth_make_error (err, errno, "resolve masked path `%s`", path);
  if (fstat (fd, &st) < 0)
    r = -1;
  else if (S_ISDIR (st.st_mode))
    r = mount ("tmpfs", target, "tmpfs", MS_RDONLY, "size=0");
  else
    r = mount ("/dev/null", target, NULL, MS_BIND, NULL);
  close (fd);
  if (r < 0)
    return berth_make_error (err, errno, "mask `%s`", path);
  return 0;
}

static int
readonly_path (const char *path, berth_error_t *err)
{
  char target[64];
  int fd = open_in_new_root (path, target, sizeof target);
  int r;
  if (fd < 0)
    return (errno == ENOENT) ? 0 : berth_make_error (err, errno, "resolve read-only path `%s`", path);
  r = mount (target, target, NULL, MS_BIND | MS_REC, NULL);
  close (fd);
  if (r < 0)
    return berth_make_error (err, errno, "bind read-only path `%s`", path);
  /* Remount through the path: the fd still points at the covered directory. */
  fd = open_in_new_root (path, target, sizeof target);
  if (fd < 0)
    return berth_make_error (err, errno, "resolve read-only path `%s`", path);
  r = bind_remount (target, MS_RDONLY | MS_REC, err);
  close (fd);
  return r;
}

static int
apply_sysctls (json_t *sysctl, berth_error_t *err)
{
  size_t i;
  for (i = 0; sysctl && i < sysctl->n; i++)
    {
      const char *key = sysctl->items[i]->key, *val = json_string (sysctl->items[i]);
      char path[512], *p;
      if (val == NULL || strstr (key, ".."))
        return berth_make_error (err, 0, "config.json: bad sysctl `%s`", key);
      snprintf (path, sizeof path, "/proc/sys/%s", key);
      for (p = path + 10; *p; p++)
        if (*p == '.')
          *p = '/';
      if (write_file (path, val, strlen (val)) < 0)
        return berth_make_error (err, errno, "set sysctl %s=%s", key, val);
    }
  return 0;
}

int
rootfs_finalize (const struct spec *spec, berth_error_t *err)
{
  size_t i;
  /* sysctls first: /proc/sys is usually one of the read-only paths. */
  if (apply_sysctls (spec->sysctl, err) < 0)
    return -1;
  for (i = 0; i < spec->n_masked_paths; i++)
    if (mask_path (spec->masked_paths[i], err) < 0)
      return -1;
  for (i = 0; i < spec->n_readonly_paths; i++)
    if (readonly_path (spec->readonly_paths[i], err) < 0)
      return -1;
  if (spec->root_readonly && bind_remount ("/", MS_RDONLY, err) < 0)
    return -1;
  return 0;
}
