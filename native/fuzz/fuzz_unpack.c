/* libFuzzer target: bytes as the tar stream of `berth-runtime unpack` (unpack_layer),
 * read from a packet-mode pipe in reads of a size the input's length picks, unpacked
 * into a fresh directory beside an empty sentinel directory and a victim file. Whatever
 * the input, afterwards: nothing was made, changed or linked outside the layer (the
 * sentinel is empty, the victim untouched, every non-directory inode of the layer has all
 * its links inside it), no descriptor is left open, and a failure carries a message.
 * Built by bench/fuzz.sh; native/Makefile builds a replay of
 * native/tests/fuzz-regressions/unpack/ for the unit tests. */
#include "unpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define VICTIM "victim: a file beside the layer, never to change\n"

static char base[64], layer[96], sentinel[96], victim[96];
static struct stat victim_st, sentinel_st;

static void __attribute__ ((noreturn))
fail (const char *what, const char *detail)
{
  /* The tree is left for a look. */
  fprintf (stderr, "fuzz_unpack: %s%s%s (in %s)\n", what, detail ? ": " : "", detail ? detail : "", base);
  abort ();
}

/* Removes the tree at name under dirfd; directories are made writable first (a layer
 * may leave one mode 0 when not run as root). */
static void
remove_tree (int dirfd, const char *name)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      (void) fchmodat (dirfd, name, 0700, 0);
      int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      DIR *d = fd < 0 ? NULL : fdopendir (fd);
      struct dirent *e;
      if (d == NULL)
        fail ("cannot open a directory of the layer to remove it", name);
      while ((e = readdir (d)))
        if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
          remove_tree (fd, e->d_name);
      closedir (d);
    }
  if (unlinkat (dirfd, name, S_ISDIR (st.st_mode) ? AT_REMOVEDIR : 0) < 0)
    fail ("cannot remove from the layer", name);
}

static void
cleanup (void)
{
  if (base[0])
    remove_tree (AT_FDCWD, base);
}

static void
setup (void)
{
  struct rlimit nofile;
  int fd;
  /* The walks below hold a descriptor per level: a layer may nest 2000 deep. */
  if (getrlimit (RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max)
    {
      nofile.rlim_cur = nofile.rlim_max;
      (void) setrlimit (RLIMIT_NOFILE, &nofile);
    }
  /* tmpfs when there is one: thousands of files are made and removed a second. */
  snprintf (base, sizeof base, "%s/berth-fuzz-unpack.XXXXXX", access ("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  if (mkdtemp (base) == NULL)
    fail ("mkdtemp", strerror (errno));
  atexit (cleanup);
  snprintf (layer, sizeof layer, "%s/layer", base);
  snprintf (sentinel, sizeof sentinel, "%s/sentinel", base);
  snprintf (victim, sizeof victim, "%s/victim", base);
  if (mkdir (sentinel, 0755) < 0 || (fd = open (victim, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
    fail ("cannot make the sentinel and the victim", strerror (errno));
  if (write (fd, VICTIM, strlen (VICTIM)) != (ssize_t) strlen (VICTIM) || close (fd) < 0)
    fail ("cannot write the victim", strerror (errno));
  if (lstat (victim, &victim_st) < 0 || lstat (sentinel, &sentinel_st) < 0)
    fail ("cannot stat the sentinel and the victim", strerror (errno));
}

static int
open_fds (void)
{
  DIR *d = opendir ("/proc/self/fd");
  int n = 0;
  if (d == NULL)
    fail ("cannot list /proc/self/fd", strerror (errno));
  while (readdir (d))
    n++;
  closedir (d);
  return n;
}

/* Queues the input in a packet-mode pipe, a packet per chunk (each a read of its own on
 * the other side), and returns the read end. */
static int
feed (const uint8_t *data, size_t size, size_t chunk)
{
  int p[2];
  size_t off = 0;
  if (pipe2 (p, O_DIRECT | O_CLOEXEC) < 0 || fcntl (p[1], F_SETPIPE_SZ, 1 << 20) < 0 || fcntl (p[1], F_SETFL, O_NONBLOCK) < 0)
    fail ("cannot make a packet pipe of 1 MiB", strerror (errno));
  while (off < size)
    {
      size_t n = size - off < chunk ? size - off : chunk;
      ssize_t w = write (p[1], data + off, n);
      if (w < 0)
        fail ("cannot queue the input in the pipe", strerror (errno));
      off += (size_t) w;
    }
  close (p[1]);
  return p[0];
}

struct inode {
  dev_t dev;
  ino_t ino;
  nlink_t nlink;
  size_t seen;
};

static void
walk (int dirfd, const char *name, struct inode **v, size_t *n, size_t *cap)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    fail ("cannot stat in the layer", name);
  if (!S_ISDIR (st.st_mode))
    {
      size_t i;
      for (i = 0; i < *n; i++)
        if ((*v)[i].dev == st.st_dev && (*v)[i].ino == st.st_ino)
          break;
      if (i == *n)
        {
          if (*n == *cap)
            {
              *cap = *cap ? *cap * 2 : 64;
              *v = realloc (*v, *cap * sizeof **v);
            }
          (*v)[(*n)++] = (struct inode) { st.st_dev, st.st_ino, st.st_nlink, 0 };
        }
      (*v)[i].seen++;
      return;
    }
  (void) fchmodat (dirfd, name, 0700, 0);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd < 0 ? NULL : fdopendir (fd);
  struct dirent *e;
  if (d == NULL)
    fail ("cannot open a directory of the layer", name);
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      walk (fd, e->d_name, v, n, cap);
  closedir (d);
}

static void
check_outside (void)
{
  struct stat st;
  char buf[sizeof VICTIM + 1];
  DIR *d;
  struct dirent *e;
  int fd, entries = 0;
  ssize_t got;

  if ((d = opendir (base)) == NULL)
    fail ("cannot list the directory of the layer", strerror (errno));
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      {
        if (strcmp (e->d_name, "layer") != 0 && strcmp (e->d_name, "sentinel") != 0 && strcmp (e->d_name, "victim") != 0)
          fail ("made beside the layer", e->d_name);
        entries++;
      }
  closedir (d);
  if (entries != 3)
    fail ("the layer, the sentinel or the victim is gone", NULL);

  if ((d = opendir (sentinel)) == NULL)
    fail ("cannot list the sentinel", strerror (errno));
  while ((e = readdir (d)))
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0)
      fail ("made in the sentinel", e->d_name);
  closedir (d);
  if (lstat (sentinel, &st) < 0 || !S_ISDIR (st.st_mode) || st.st_mode != sentinel_st.st_mode || st.st_uid != sentinel_st.st_uid
      || st.st_mtim.tv_sec != sentinel_st.st_mtim.tv_sec || st.st_mtim.tv_nsec != sentinel_st.st_mtim.tv_nsec)
    fail ("the sentinel changed", NULL);

  if (lstat (victim, &st) < 0 || st.st_ino != victim_st.st_ino || st.st_nlink != 1 || st.st_mode != victim_st.st_mode
      || st.st_uid != victim_st.st_uid || st.st_gid != victim_st.st_gid || st.st_size != victim_st.st_size
      || st.st_mtim.tv_sec != victim_st.st_mtim.tv_sec || st.st_mtim.tv_nsec != victim_st.st_mtim.tv_nsec)
    fail ("the victim changed (linked, written, chmod or chown)", NULL);
  if ((fd = open (victim, O_RDONLY | O_CLOEXEC)) < 0 || (got = read (fd, buf, sizeof buf)) != (ssize_t) strlen (VICTIM)
      || memcmp (buf, VICTIM, strlen (VICTIM)) != 0)
    fail ("the victim's content changed", NULL);
  close (fd);
}

/* Every inode the layer holds (directories aside) has all its links in the layer: a
 * link more is a hardlink to something outside. */
static void
check_links (void)
{
  struct inode *v = NULL;
  size_t n = 0, cap = 0;
  walk (AT_FDCWD, layer, &v, &n, &cap);
  for (size_t i = 0; i < n; i++)
    if (v[i].seen != v[i].nlink)
      {
        char detail[96];
        snprintf (detail, sizeof detail, "inode %lu: %lu link(s), %zu in the layer", (unsigned long) v[i].ino,
                  (unsigned long) v[i].nlink, v[i].seen);
        fail ("a file of the layer is linked outside it", detail);
      }
  free (v);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Reads of 1 byte to the whole input (packets are at most 4096), across the edges of
   * blocks (tar sizes are multiples of 512, and 512 % 7 == 1); at most 256 packets fit
   * the pipe. */
  static const size_t chunks[] = { 1, 100, 511, 512, 513, 4096, SIZE_MAX };
  size_t chunk = chunks[size % 7];
  berth_error_t err = NULL;
  long long unpacked = -1;
  int fds, in, ret;

  if (!base[0])
    setup ();
  if (size / chunk > 200)
    chunk = size / 200 + 1;
  fds = open_fds ();
  in = feed (data, size, chunk);
  ret = unpack_layer (in, layer, &unpacked, &err);
  close (in);

  if (ret < 0 && (err == NULL || err->msg == NULL || err->msg[0] == 0))
    fail ("a failure without a message", NULL);
  if (ret == 0 && err != NULL)
    fail ("a success with an error", err->msg);
  berth_error_release (&err);
  check_outside ();
  check_links ();
  remove_tree (AT_FDCWD, layer);
  if (open_fds () != fds)
    fail ("a descriptor left open", NULL);
  return 0;
}
