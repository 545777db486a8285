/* /dev of a container whose /dev is a fresh tmpfs: the default nodes, the spec's
 * linux.devices, and the usual symlinks. */
#include "mounts.h"
#include "pathres.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct {
  const char *path;
  unsigned major, minor;
} default_devices[] = {
  { "/dev/null", 1, 3 }, { "/dev/zero", 1, 5 }, { "/dev/full", 1, 7 },
  { "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

static int
make_node (int rootfd, const char *path, mode_t mode, dev_t dev, uid_t uid, gid_t gid, bool userns,
           berth_error_t *err)
{
  char dir[4096], target[64];
  const char *name = strrchr (path, '/');
  int dfd, r;
  if (name == NULL || name[1] == '\0')
    return berth_make_error (err, 0, "config.json: bad device path `%s`", path);
  snprintf (dir, sizeof dir, "%.*s", (int) (name - path), path);
  name++;
  dfd = create_in_root (rootfd, dir[0] ? dir : "/", false, err);
  if (dfd < 0)
    return -1;
  {
    /* O_PATH fds cannot be used with mknodat: reopen the directory for real. */
    char p[64];
    int real;
    fd_path (dfd, p, sizeof p);
    real = open (p, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    close (dfd);
    if (real < 0)
      return berth_make_error (err, errno, "open `%s`", dir);
    dfd = real;
  }
  if (!userns)
    {
      unlinkat (dfd, name, 0);
      r = mknodat (dfd, name, mode, dev);
      if (r == 0)
        {
          /* mknod applies the umask; the spec's mode is what counts. */
          if (fchmodat (dfd, name, mode & 07777, 0) < 0 || fchownat (dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            r = -1;
        }
      if (r < 0)
        {
          int e = errno;
          close (dfd);
          return berth_make_error (err, e, "mknod `%s`", path);
        }
      close (dfd);
      return 0;
    }
  /* mknod is not allowed in a user namespace: bind the host's node instead. */
  r = openat (dfd, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  close (dfd);
  if (r < 0)
    return berth_make_error (err, errno, "create `%s`", path);
  close (r);
  dfd = open_in_root (rootfd, path, O_PATH);
  if (dfd < 0)
    return berth_make_error (err, errno, "resolve `%s`", path);
  fd_path (dfd, target, sizeof target);
  r = mount (path, target, NULL, MS_BIND, NULL);
  close (dfd);
  if (r < 0)
    return berth_make_error (err, errno, "bind the host's `%s`", path);
  return 0;
}

int
devices_create (int rootfd, const struct spec *spec, bool userns, berth_error_t *err)
{
  json_t *devs = spec->devices;
  size_t i;
  mode_t old = umask (0);
  for (i = 0; i < sizeof default_devices / sizeof default_devices[0]; i++)
    if (make_node (rootfd, default_devices[i].path, S_IFCHR | 0666,
                   makedev (default_devices[i].major, default_devices[i].minor), 0, 0, userns, err)
        < 0)
      goto fail;
  for (i = 0; devs && i < devs->n; i++)
    {
      json_t *d = devs->items[i];
      const char *path = json_string (json_get (d, "path"));
      const char *type = json_string (json_get (d, "type"));
      int64_t major = 0, minor = 0, mode = 0666, uid = 0, gid = 0;
      mode_t kind;
      if (path == NULL || type == NULL)
        {
          berth_make_error (err, 0, "config.json: linux.devices[%zu] needs path and type", i);
          goto fail;
        }
      kind = (type[0] == 'b') ? S_IFBLK : (type[0] == 'p') ? S_IFIFO : S_IFCHR;
      json_int64 (json_get (d, "major"), &major);
      json_int64 (json_get (d, "minor"), &minor);
      json_int64 (json_get (d, "fileMode"), &mode);
      json_int64 (json_get (d, "uid"), &uid);
      json_int64 (json_get (d, "gid"), &gid);
      if (make_node (rootfd, path, kind | (mode_t) (mode & 07777), makedev (major, minor), (uid_t) uid, (gid_t) gid,
                     userns, err)
          < 0)
        goto fail;
    }
  umask (old);
  return 0;
fail:
  umask (old);
  return -1;
}

int
devices_links (int rootfd, berth_error_t *err)
{
  static const char *const links[][2] = {
    { "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
    { "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
  };
  char p[64];
  size_t i;
  int pfd = open_in_root (rootfd, "/dev", O_PATH | O_DIRECTORY), dfd;
  if (pfd < 0)
    return berth_make_error (err, errno, "open /dev in the rootfs");
  fd_path (pfd, p, sizeof p);
  dfd = open (p, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  close (pfd);
  if (dfd < 0)
    return berth_make_error (err, errno, "open /dev in the rootfs");
  for (i = 0; i < sizeof links / sizeof links[0]; i++)
    {
      if (strcmp (links[i][1], "ptmx") == 0)
        unlinkat (dfd, "ptmx", 0);
      if (symlinkat (links[i][0], dfd, links[i][1]) < 0 && errno != EEXIST)
        {
          int e = errno;
          close (dfd);
          return berth_make_error (err, e, "symlink /dev/%s", links[i][1]);
        }
    }
  close (dfd);
  return 0;
}
