#include "pathres.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int
open_in_root (int rootfd, const char *path, int flags)
{
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .mode = 0,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return (int) syscall (SYS_openat2, rootfd, path, &how, sizeof how);
}

void
fd_path (int fd, char *buf, size_t len)
{
  snprintf (buf, len, "/proc/self/fd/%d", fd);
}

static int create_at_depth (int rootfd, const char *path, bool as_file, int depth, berth_error_t *err);

/* name in parent is a dangling symlink: create what it points to, inside the root. */
static int
create_link_target (int rootfd, int parent, const char *dir, const char *name, bool as_file, int depth,
                    berth_error_t *err)
{
  char target[4096], full[8200];
  ssize_t n = readlinkat (parent, name, target, sizeof target - 1);
  if (n < 0)
    return -1;
  target[n] = '\0';
  if (target[0] == '/')
    snprintf (full, sizeof full, "%s", target);
  else
    snprintf (full, sizeof full, "%s/%s", dir, target);
  if (depth > 8)
    return berth_make_error (err, ELOOP, "create `%s` in the rootfs", full);
  return create_at_depth (rootfd, full, as_file, depth + 1, err);
}

int
create_in_root (int rootfd, const char *path, bool as_file, berth_error_t *err)
{
  return create_at_depth (rootfd, path, as_file, 0, err);
}

static int
create_at_depth (int rootfd, const char *path, bool as_file, int depth, berth_error_t *err)
{
  char buf[4096];
  char *p, *slash;
  int fd;
  size_t n = strlen (path);

  fd = open_in_root (rootfd, path, O_PATH);
  if (fd >= 0)
    return fd;
  if (errno != ENOENT)
    return berth_make_error (err, errno, "resolve `%s` in the rootfs", path);
  if (n >= sizeof buf)
    return berth_make_error (err, ENAMETOOLONG, "resolve `%s`", path);
  memcpy (buf, path, n + 1);
  while (n > 1 && buf[n - 1] == '/')
    buf[--n] = '\0';
  /* Walk the components: each parent is resolved inside the root, and the new name is
   * made relative to that parent fd, so no symlink is ever followed to the host. */
  for (p = buf; *p == '/'; p++)
    ;
  for (;;)
    {
      bool last;
      int parent, r;
      slash = strchr (p, '/');
      last = (slash == NULL);
      if (!last)
        *slash = '\0';
      fd = open_in_root (rootfd, buf, O_PATH);
      if (fd < 0 && errno == ENOENT)
        {
          char *name = strrchr (buf, '/');
          const char *dir = "/";
          if (name == NULL)
            name = buf;
          else
            {
              *name = '\0';
              dir = buf[0] ? buf : "/";
              name++;
            }
          parent = open_in_root (rootfd, dir, O_PATH | O_DIRECTORY);
          if (parent < 0)
            return berth_make_error (err, errno, "resolve `%s` in the rootfs", dir);
          if (last && as_file)
            {
              r = openat (parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
              if (r >= 0)
                close (r);
              else if (errno == ELOOP)
                r = 0; /* a dangling symlink: resolved in the root below */
            }
          else
            r = mkdirat (parent, name, 0755);
          if (r < 0 && errno != EEXIST)
            {
              int e = errno;
              close (parent);
              return berth_make_error (err, e, "create `%s` in the rootfs", path);
            }
          if (name != buf)
            name[-1] = '/';
          fd = open_in_root (rootfd, buf, O_PATH);
          if (fd < 0 && errno == ENOENT)
            {
              int t;
              if (name != buf)
                name[-1] = '\0';
              t = create_link_target (rootfd, parent, name != buf ? (buf[0] ? buf : "/") : "/", name,
                                      last && as_file, depth, err);
              if (name != buf)
                name[-1] = '/';
              if (t >= 0)
                close (t);
              else if (err && *err)
                {
                  close (parent);
                  return -1;
                }
              fd = open_in_root (rootfd, buf, O_PATH);
            }
          close (parent);
        }
      if (fd < 0)
        return berth_make_error (err, errno, "resolve `%s` in the rootfs", buf);
      if (last)
        return fd;
      close (fd);
      *slash = '/';
      p = slash + 1;
    }
}
