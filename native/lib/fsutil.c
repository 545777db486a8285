#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0)
        {
          if (errno == EINTR)
            continue;
          return -1;
        }
      p += w;
      len -= (size_t) w;
    }
  return 0;
}

ssize_t
read_file_at (int dirfd, const char *path, char **out)
{
  size_t cap = 4096, len = 0;
  char *buf;
  int fd = openat (dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  buf = malloc (cap + 1);
  if (buf == NULL)
    abort ();
  for (;;)
    {
      ssize_t r = read (fd, buf + len, cap - len);
      if (r < 0)
        {
          int e = errno;
          if (e == EINTR)
            continue;
          free (buf);
          close (fd);
          errno = e;
          return -1;
        }
      if (r == 0)
        break;
      len += (size_t) r;
      if (len == cap)
        {
          cap *= 2;
          buf = realloc (buf, cap + 1);
          if (buf == NULL)
            abort ();
        }
    }
  close (fd);
  buf[len] = '\0';
  *out = buf;
  return (ssize_t) len;
}

ssize_t
read_file (const char *path, char **out)
{
  return read_file_at (AT_FDCWD, path, out);
}

int
write_file_at (int dirfd, const char *path, const char *data, size_t len)
{
  int fd = openat (dirfd, path, O_WRONLY | O_CLOEXEC);
  int ret, e;
  if (fd < 0)
    return -1;
  ret = write_all (fd, data, len);
  e = errno;
  close (fd);
  errno = e;
  return ret;
}

int
write_file (const char *path, const char *data, size_t len)
{
  return write_file_at (AT_FDCWD, path, data, len);
}

int
write_file_atomic (const char *path, const char *data, size_t len, berth_error_t *err)
{
  char tmp[4096];
  int fd;
  snprintf (tmp, sizeof tmp, "%s.tmp.%d", path, (int) getpid ());
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return berth_make_error (err, errno, "create `%s`", tmp);
  if (write_all (fd, data, len) < 0 || fsync (fd) < 0)
    {
      int e = errno;
      close (fd);
      unlink (tmp);
      return berth_make_error (err, e, "write `%s`", tmp);
    }
  close (fd);
  if (rename (tmp, path) < 0)
    {
      int e = errno;
      unlink (tmp);
      return berth_make_error (err, e, "rename `%s`", tmp);
    }
  return 0;
}

int
write_pid_file (const char *path, pid_t pid, berth_error_t *err)
{
  char buf[32];
  int n = snprintf (buf, sizeof buf, "%d", (int) pid);
  return path ? write_file_atomic (path, buf, (size_t) n, err) : 0;
}

int
mkdir_p (const char *path, mode_t mode)
{
  char buf[4096];
  char *p;
  size_t n = strlen (path);
  if (n >= sizeof buf)
    {
      errno = ENAMETOOLONG;
      return -1;
    }
  memcpy (buf, path, n + 1);
  for (p = buf + 1; *p; p++)
    {
      if (*p != '/')
        continue;
      *p = '\0';
      if (mkdir (buf, mode) < 0 && errno != EEXIST)
        return -1;
      *p = '/';
    }
  if (mkdir (buf, mode) < 0 && errno != EEXIST)
    return -1;
  return 0;
}

static int
remove_tree_at (int parent, const char *name)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  if (fd < 0)
    return unlinkat (parent, name, 0) < 0 && errno != ENOENT ? -1 : 0;
  d = fdopendir (fd);
  if (d == NULL)
    {
      close (fd);
      return -1;
    }
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (de->d_type == DT_DIR)
        remove_tree_at (dirfd (d), de->d_name);
      else
        unlinkat (dirfd (d), de->d_name, 0);
    }
  closedir (d);
  return unlinkat (parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
}

int
remove_tree (const char *path)
{
  return remove_tree_at (AT_FDCWD, path);
}

const char *
path_absolute (const char *path)
{
  char cwd[4096], *abs = NULL;
  if (path == NULL || path[0] == '/' || getcwd (cwd, sizeof cwd) == NULL)
    return path;
  if (asprintf (&abs, "%s/%s", cwd, path) < 0)
    return path;
  return abs;
}

void
cloexec_from (unsigned first)
{
  /* Kernels before 5.11 lack close_range: the descriptors then stay as they are. */
  (void) syscall (SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
}

void
stdio_to_null (void)
{
  int null = open ("/dev/null", O_RDWR);
  if (null < 0)
    return;
  dup2 (null, 0);
  dup2 (null, 1);
  dup2 (null, 2);
  if (null > 2)
    close (null);
}
