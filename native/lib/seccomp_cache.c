#include "seccomp_cache.h"
#include "selfclone.h"
#include "sha256.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_DIR ".seccomp-cache"
/* Entries differ by profile (docker's varies with the capabilities) and by runtime
 * binary: when a miss finds this many, it empties the directory first. */
#define CACHE_MAX_ENTRIES 256

static void
hash_string (struct sha256 *s, const char *p)
{
  sha256_update (s, "\"", 1);
  while (*p)
    {
      size_t n = strcspn (p, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"
                             "\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f");
      char esc[8];
      sha256_update (s, p, n);
      p += n;
      if (*p == '\0')
        break;
      snprintf (esc, sizeof esc, "\\u%04x", (unsigned char) *p);
      sha256_update (s, esc, 6);
      p++;
    }
  sha256_update (s, "\"", 1);
}

/* Canonical JSON: no whitespace, object members sorted by name (a stable sort, so
 * duplicate names keep their order and json_get still means the same), numbers as
 * written. Two specs with the same text after this are the same filter. */
static void
hash_json (struct sha256 *s, const json_t *j)
{
  size_t i, k;
  switch (j ? j->type : JSON_NULL)
    {
    case JSON_NULL:
      sha256_update (s, "null", 4);
      break;
    case JSON_BOOL:
      sha256_update (s, j->boolean ? "true" : "false", j->boolean ? 4 : 5);
      break;
    case JSON_NUMBER:
      sha256_update (s, j->str, strlen (j->str));
      break;
    case JSON_STRING:
      hash_string (s, j->str);
      break;
    case JSON_ARRAY:
      sha256_update (s, "[", 1);
      for (i = 0; i < j->n; i++)
        {
          if (i)
            sha256_update (s, ",", 1);
          hash_json (s, j->items[i]);
        }
      sha256_update (s, "]", 1);
      break;
    case JSON_OBJECT:
      {
        json_t **m = malloc ((j->n ? j->n : 1) * sizeof *m);
        if (m == NULL)
          abort ();
        for (i = 0; i < j->n; i++)
          {
            json_t *x = j->items[i];
            for (k = i; k > 0 && strcmp (m[k - 1]->key, x->key) > 0; k--)
              m[k] = m[k - 1];
            m[k] = x;
          }
        sha256_update (s, "{", 1);
        for (i = 0; i < j->n; i++)
          {
            if (i)
              sha256_update (s, ",", 1);
            hash_string (s, m[i]->key);
            sha256_update (s, ":", 1);
            hash_json (s, m[i]);
          }
        sha256_update (s, "}", 1);
        free (m);
        break;
      }
    }
}

void
seccomp_cache_key (const json_t *spec, char hex[65])
{
  const struct scmp_version *v = seccomp_version ();
  struct sha256 s;
  struct stat st;
  unsigned char d[32];
  char hdr[512];
  int n, i;

  /* The build (a rebuild changes it even when VERSION does not). /proc/self/exe is a
   * fresh sealed copy in every create: its inode would never hit, the build ID does. */
  memset (&st, 0, sizeof st);
  if (selfclone_build_id ()[0] == '\0')
    stat ("/proc/self/exe", &st);
  n = snprintf (hdr, sizeof hdr,
                "berth-runtime seccomp-cache 2\nversion %s\nbuild %s\nexe %llu %llu %lld %lld.%09ld\n"
                "libseccomp %u.%u.%u api %u\narch %u\n",
                BERTH_VERSION, selfclone_build_id (), (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
                (long long) st.st_size, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, v ? v->major : 0,
                v ? v->minor : 0, v ? v->micro : 0, seccomp_api_get (), seccomp_arch_native ());
  sha256_init (&s);
  sha256_update (&s, hdr, (size_t) n);
  hash_json (&s, spec);
  sha256_final (&s, d);
  for (i = 0; i < 32; i++)
    snprintf (hex + 2 * i, 3, "%02x", d[i]);
}

/* What libseccomp always generates: it starts by loading seccomp_data.arch and every
 * path ends in a RET; jumps stay inside the program. Anything else is not ours. */
static bool
plausible (const struct sock_filter *p, size_t n)
{
  size_t i;
  if (n == 0 || n > BPF_MAXINSNS || p[0].code != (BPF_LD | BPF_W | BPF_ABS)
      || p[0].k != offsetof (struct seccomp_data, arch) || BPF_CLASS (p[n - 1].code) != BPF_RET)
    return false;
  for (i = 0; i < n; i++)
    if (BPF_CLASS (p[i].code) == BPF_JMP)
      {
        if (BPF_OP (p[i].code) == BPF_JA ? p[i].k >= n - i - 1 : (p[i].jt >= n - i - 1 || p[i].jf >= n - i - 1))
          return false;
      }
  return true;
}

/* The cache directory, when it is ours alone (created 0700 by us, not writable by others). */
static int
open_cache_dir (const char *root)
{
  char path[4096];
  struct stat st;
  int fd;
  if ((size_t) snprintf (path, sizeof path, "%s/" CACHE_DIR, root) >= sizeof path)
    return -1;
  if (mkdir (path, 0700) < 0 && errno != EEXIST)
    return -1;
  fd = open (path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  if (fstat (fd, &st) < 0 || st.st_uid != geteuid () || (st.st_mode & 022))
    {
      close (fd);
      return -1;
    }
  return fd;
}

static struct sock_filter *
cache_read (int dirfd, const char *name, size_t *len)
{
  struct sock_filter *p;
  struct stat st;
  size_t size, got = 0;
  int fd = openat (dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size <= 0
      || st.st_size % (off_t) sizeof (struct sock_filter) != 0
      || st.st_size > (off_t) (BPF_MAXINSNS * sizeof (struct sock_filter)))
    {
      close (fd);
      return NULL;
    }
  size = (size_t) st.st_size;
  p = malloc (size);
  while (p && got < size)
    {
      ssize_t r = read (fd, (char *) p + got, size - got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t) r;
    }
  close (fd);
  if (p == NULL || got != size || !plausible (p, size / sizeof *p))
    {
      free (p);
      return NULL;
    }
  *len = size / sizeof *p;
  return p;
}

static void
cache_trim (int dirfd)
{
  struct dirent *de;
  size_t n = 0;
  int fd = dup (dirfd);
  DIR *d = fd >= 0 ? fdopendir (fd) : NULL;
  if (d == NULL)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  while ((de = readdir (d)) != NULL)
    n += de->d_name[0] != '.';
  if (n >= CACHE_MAX_ENTRIES)
    {
      rewinddir (d);
      while ((de = readdir (d)) != NULL)
        if (de->d_name[0] != '.')
          unlinkat (dirfd, de->d_name, 0);
    }
  closedir (d);
}

/* Temp file + rename: readers see the old entry, none, or the whole new one. */
static void
cache_write (int dirfd, const char *name, const struct sock_filter *p, size_t len)
{
  char tmp[128];
  size_t size = len * sizeof *p, done = 0;
  int fd;
  cache_trim (dirfd);
  snprintf (tmp, sizeof tmp, "%s.%d.tmp", name, (int) getpid ());
  fd = openat (dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return;
  while (done < size)
    {
      ssize_t w = write (fd, (const char *) p + done, size - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        break;
      done += (size_t) w;
    }
  if (close (fd) < 0 || done != size || renameat (dirfd, tmp, dirfd, name) < 0)
    unlinkat (dirfd, tmp, 0);
}

/* seccomp_export_bpf writes to a descriptor (2.5 has no _mem variant): a memfd. */
static int
export_program (void *ctx, struct sock_filter **prog, size_t *len, berth_error_t *err)
{
  struct sock_filter *p;
  off_t size;
  size_t got = 0;
  int ret, fd = memfd_create ("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return berth_make_error (err, errno, "seccomp: memfd_create");
  ret = seccomp_export_bpf ((scmp_filter_ctx) ctx, fd);
  if (ret < 0)
    {
      close (fd);
      return berth_make_error (err, -ret, "seccomp: export the filter");
    }
  size = lseek (fd, 0, SEEK_END);
  if (size <= 0 || size % (off_t) sizeof *p != 0 || size > (off_t) (BPF_MAXINSNS * sizeof *p))
    {
      close (fd);
      return berth_make_error (err, 0, "seccomp: the exported filter has %lld bytes", (long long) size);
    }
  p = malloc ((size_t) size);
  while (p && got < (size_t) size)
    {
      ssize_t r = pread (fd, (char *) p + got, (size_t) size - got, (off_t) got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      got += (size_t) r;
    }
  close (fd);
  if (p == NULL || got != (size_t) size)
    {
      free (p);
      return berth_make_error (err, EIO, "seccomp: read the exported filter");
    }
  *prog = p;
  *len = (size_t) size / sizeof *p;
  return 0;
}

int
seccomp_cache_get (json_t *spec, const char *root, seccomp_compile_fn compile, struct sock_filter **prog,
                   size_t *len, berth_error_t *err)
{
  char name[80] = "";
  void *ctx = NULL;
  int dirfd = -1, ret;

  *prog = NULL;
  *len = 0;
  if (root)
    {
      char hex[65];
      seccomp_cache_key (spec, hex);
      snprintf (name, sizeof name, "%s.bpf", hex);
      dirfd = open_cache_dir (root);
      if (dirfd >= 0 && (*prog = cache_read (dirfd, name, len)) != NULL)
        {
          close (dirfd);
          return 0;
        }
    }
  ret = compile (spec, &ctx, err);
  if (ret == 0)
    {
      ret = export_program (ctx, prog, len, err);
      seccomp_release ((scmp_filter_ctx) ctx);
    }
  if (ret == 0 && dirfd >= 0)
    cache_write (dirfd, name, *prog, *len);
  if (dirfd >= 0)
    close (dirfd);
  return ret;
}
