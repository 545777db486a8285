/* The layer unpacker of `berth-runtime unpack DIR` (cli/unpack.c): unpacks one image
 * layer, a plain tar, into the empty directory DIR in overlayfs form, and counts the
 * bytes of file content. berthd decompresses and hashes the layer and pipes the tar to
 * the verb; engine/images/unpack.ts is the same unpacker in TypeScript (the reference:
 * test/unit/engine/images/unpack-native.test.ts compares the two), with the same rules:
 *
 *   .wh.NAME becomes a 0/0 character device, .wh..wh..opq sets trusted.overlay.opaque=y
 *   on its directory; owners, modes, mtimes, hardlinks, symlinks, devices, fifos and
 *   xattrs (pax SCHILY.xattr and LIBARCHIVE.xattr) are kept; ustar, pax (per entry and
 *   global), GNU long names and base-256 numbers are read.
 *
 * Nothing is written outside DIR: absolute names and ".." are refused, and every
 * directory is opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) — DIR starts
 * empty, so a symlink on the way is one this layer made, and an entry through it is
 * refused by name, as is a hardlink to a path through (or to) a symlink. Metadata
 * records (pax, long names) are bounded. */
#include "unpack.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BLOCK 512
#define META_MAX (16 << 20)
#define PATH_MAX_LEN 4096
/* The range of a JavaScript Date (unpack.ts sets times through one): ±10^8 days. */
#define TIME_MAX_SECS 8640000000000LL

struct reader {
  int fd;
  unsigned char *buf;
  size_t off, len, cap;
};

struct xattr {
  char *name;
  unsigned char *value;
  size_t len;
};

struct header {
  char *name;
  char type; /* '0' file, '1' link, '2' symlink, '3' chr, '4' blk, '5' dir, '6' fifo, '?' other */
  unsigned mode;
  long long uid, gid, size;
  struct timespec mtime;
  char *linkname;
  unsigned devmajor, devminor;
  struct xattr *xattrs;
  size_t nxattrs;
};

struct pax {
  char *key;
  unsigned char *value;
  size_t len;
};

struct paxset {
  struct pax *v;
  size_t n;
};

struct dirmeta {
  char *rel;
  unsigned mode;
  long long uid, gid;
  struct timespec mtime;
};

struct unpacker {
  int root;
  const char *dest;
  uid_t euid;
  gid_t egid;
  mode_t umask;
  /* The parent directory of the last entry, kept open (entries come grouped by directory). */
  char *cached;
  int cached_fd;
  bool drop_cache;
  struct dirmeta *dirs;
  size_t ndirs, capdirs;
  long long size;
};

static int
read_more (struct reader *r, berth_error_t *err)
{
  ssize_t n;
  if (r->off > 0)
    {
      memmove (r->buf, r->buf + r->off, r->len - r->off);
      r->len -= r->off;
      r->off = 0;
    }
  do
    n = read (r->fd, r->buf + r->len, r->cap - r->len);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return berth_make_error (err, errno, "cannot unpack: reading the layer");
  r->len += n;
  return (int) n;
}

/* Makes at least n bytes available at r->buf + r->off; 0 at end of input before that. */
static int
need (struct reader *r, size_t n, berth_error_t *err)
{
  if (n > r->cap)
    {
      unsigned char *b = realloc (r->buf, n);
      if (!b)
        return berth_make_error (err, ENOMEM, "cannot unpack");
      r->buf = b;
      r->cap = n;
    }
  while (r->len - r->off < n)
    {
      int got = read_more (r, err);
      if (got < 0)
        return -1;
      if (got == 0)
        return 0;
    }
  return 1;
}

static int
truncated (berth_error_t *err)
{
  return berth_make_error (err, 0, "cannot unpack: the tar ends in the middle of an entry (truncated)");
}

/* Copies (fd >= 0) or skips len bytes of entry data, then the padding to the block. */
static int
data (struct reader *r, int fd, long long len, const char *path, berth_error_t *err)
{
  long long pad = (BLOCK - len % BLOCK) % BLOCK;
  while (len > 0)
    {
      size_t n;
      if (r->len == r->off)
        {
          r->off = r->len = 0;
          int got = read_more (r, err);
          if (got < 0)
            return -1;
          if (got == 0)
            return truncated (err);
        }
      n = r->len - r->off;
      if ((long long) n > len)
        n = (size_t) len;
      if (fd >= 0)
        {
          size_t done = 0;
          while (done < n)
            {
              ssize_t w = write (fd, r->buf + r->off + done, n - done);
              if (w < 0 && errno == EINTR)
                continue;
              if (w < 0)
                return berth_make_error (err, errno, "cannot unpack: writing %s", path);
              done += w;
            }
        }
      r->off += n;
      len -= n;
    }
  if (pad > 0)
    {
      int ok = need (r, pad, err);
      if (ok <= 0)
        return ok < 0 ? -1 : truncated (err);
      r->off += pad;
    }
  return 0;
}

static char *
cstring (const unsigned char *b, size_t len)
{
  size_t n = strnlen ((const char *) b, len);
  char *s = malloc (n + 1);
  memcpy (s, b, n);
  s[n] = 0;
  return s;
}

/* Octal (trailing NULs and spaces ignored, leading digits taken) or GNU base-256 (past
 * 2^63 - 1, that: a size no input has, a time out of range). */
static long long
num (const unsigned char *b, size_t len)
{
  long long v = 0;
  size_t i = 0;
  if (b[0] & 0x80)
    {
      v = b[0] & 0x7f;
      for (i = 1; i < len; i++)
        {
          if (v > (LLONG_MAX - b[i]) / 256)
            return LLONG_MAX;
          v = v * 256 + b[i];
        }
      return v;
    }
  while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n'))
    i++;
  for (; i < len && b[i] >= '0' && b[i] <= '7'; i++)
    v = v * 8 + (b[i] - '0');
  return v;
}

static bool
checksum_ok (const unsigned char *b)
{
  long long sum = 8 * 32;
  int i;
  for (i = 0; i < 148; i++)
    sum += b[i];
  for (i = 156; i < BLOCK; i++)
    sum += b[i];
  return sum == num (b + 148, 8);
}

static bool
is_zero (const unsigned char *b)
{
  for (int i = 0; i < BLOCK; i++)
    if (b[i])
      return false;
  return true;
}

static void
pax_free (struct paxset *p)
{
  for (size_t i = 0; i < p->n; i++)
    {
      free (p->v[i].key);
      free (p->v[i].value);
    }
  free (p->v);
  p->v = NULL;
  p->n = 0;
}

static void
pax_set (struct paxset *p, const char *key, size_t klen, const unsigned char *val, size_t vlen)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    if (strlen (p->v[i].key) == klen && memcmp (p->v[i].key, key, klen) == 0)
      break;
  if (i == p->n)
    {
      p->v = realloc (p->v, (p->n + 1) * sizeof *p->v);
      p->v[i].key = strndup (key, klen);
      p->n++;
    }
  else
    free (p->v[i].value);
  p->v[i].value = malloc (vlen + 1);
  memcpy (p->v[i].value, val, vlen);
  p->v[i].value[vlen] = 0;
  p->v[i].len = vlen;
}

/* Records "LEN key=value\n"; a malformed record ends the parse, as in tarparse.ts. */
static void
pax_parse (struct paxset *p, const unsigned char *buf, size_t len)
{
  size_t i = 0;
  while (i < len)
    {
      const unsigned char *sp = memchr (buf + i, ' ', len - i);
      size_t reclen = 0, j;
      if (!sp)
        break;
      for (j = i; j < (size_t) (sp - buf); j++)
        {
          if (buf[j] < '0' || buf[j] > '9')
            break;
          reclen = reclen * 10 + (buf[j] - '0');
          if (reclen > len)
            break;
        }
      if (j == i || reclen == 0 || i + reclen > len)
        break;
      if ((size_t) (sp - buf) + 1 > i + reclen - 1)
        {
          i += reclen;
          continue;
        }
      const unsigned char *rec = sp + 1;
      size_t rlen = buf + i + reclen - 1 - rec;
      const unsigned char *eq = memchr (rec, '=', rlen);
      if (eq && eq > rec)
        pax_set (p, (const char *) rec, eq - rec, eq + 1, rlen - (eq - rec) - 1);
      i += reclen;
    }
}

static const struct pax *
pax_get (const struct paxset *local, const struct paxset *global, const char *key)
{
  for (size_t i = 0; i < local->n; i++)
    if (strcmp (local->v[i].key, key) == 0)
      return &local->v[i];
  for (size_t i = 0; i < global->n; i++)
    if (strcmp (global->v[i].key, key) == 0)
      return &global->v[i];
  return NULL;
}

static int
hexval (int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static char *
uri_decode (const char *s)
{
  size_t n = strlen (s), o = 0;
  char *out = malloc (n + 1);
  for (size_t i = 0; i < n; i++)
    {
      if (s[i] == '%' && i + 2 < n + 1 && hexval (s[i + 1]) >= 0 && hexval (s[i + 2]) >= 0)
        {
          out[o++] = (char) (hexval (s[i + 1]) * 16 + hexval (s[i + 2]));
          i += 2;
        }
      else
        out[o++] = s[i];
    }
  out[o] = 0;
  return out;
}

static unsigned char *
base64_decode (const unsigned char *s, size_t n, size_t *outlen)
{
  unsigned char *out = malloc (n * 3 / 4 + 3);
  unsigned acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++)
    {
      int c = s[i], v;
      if (c >= 'A' && c <= 'Z')
        v = c - 'A';
      else if (c >= 'a' && c <= 'z')
        v = c - 'a' + 26;
      else if (c >= '0' && c <= '9')
        v = c - '0' + 52;
      else if (c == '+' || c == '-')
        v = 62;
      else if (c == '/' || c == '_')
        v = 63;
      else if (c == '=')
        break;
      else
        continue;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8)
        {
          bits -= 8;
          out[o++] = (unsigned char) (acc >> bits);
        }
    }
  *outlen = o;
  return out;
}

static void
add_xattr (struct header *h, char *name, unsigned char *value, size_t len)
{
  for (size_t i = 0; i < h->nxattrs; i++)
    if (strcmp (h->xattrs[i].name, name) == 0)
      {
        free (h->xattrs[i].name);
        free (h->xattrs[i].value);
        h->xattrs[i] = (struct xattr) { name, value, len };
        return;
      }
  h->xattrs = realloc (h->xattrs, (h->nxattrs + 1) * sizeof *h->xattrs);
  h->xattrs[h->nxattrs++] = (struct xattr) { name, value, len };
}

static void
header_free (struct header *h)
{
  free (h->name);
  free (h->linkname);
  for (size_t i = 0; i < h->nxattrs; i++)
    {
      free (h->xattrs[i].name);
      free (h->xattrs[i].value);
    }
  free (h->xattrs);
  memset (h, 0, sizeof *h);
}

/* False for a time out of a Date's range, or not a number. */
static bool
pax_time (const char *s, struct timespec *t)
{
  /* As berthd's utimes(new Date(Number(s) * 1000)) does: milliseconds (truncated), as
   * seconds in a double, to microseconds (libuv's resolution). */
  double ms = strtod (s, NULL) * 1000;
  if (!(ms >= -1000.0 * TIME_MAX_SECS && ms <= 1000.0 * TIME_MAX_SECS))
    return false;
  double secs = (double) (long long) ms / 1000;
  *t = (struct timespec) { (time_t) secs, 0 };
  t->tv_nsec = (long) ((secs - (double) t->tv_sec) * 1e9);
  t->tv_nsec -= t->tv_nsec % 1000;
  if (t->tv_nsec < 0)
    {
      t->tv_sec -= 1;
      t->tv_nsec += 1000000000;
    }
  return true;
}

/* Fills h (to release with header_free, also on failure); refuses a negative size and a
 * time out of range. */
static int
make_header (struct header *h, const unsigned char *b, const struct paxset *local, const struct paxset *global,
             const char *long_name, const char *long_link, berth_error_t *err)
{
  const struct pax *p, *mtime = pax_get (local, global, "mtime");
  bool time_ok;
  char *name = cstring (b, 100);
  if (memcmp (b + 257, "ustar", 5) == 0 && b[345])
    {
      char *prefix = cstring (b + 345, 155);
      char *full = malloc (strlen (prefix) + strlen (name) + 2);
      sprintf (full, "%s/%s", prefix, name);
      free (prefix);
      free (name);
      name = full;
    }
  memset (h, 0, sizeof *h);
  if ((p = pax_get (local, global, "path")))
    {
      h->name = strdup ((const char *) p->value);
      free (name);
    }
  else if (long_name)
    {
      h->name = strdup (long_name);
      free (name);
    }
  else
    h->name = name;
  switch (b[156])
    {
    case '0': case '\0': case '7': h->type = '0'; break;
    case '1': case '2': case '3': case '4': case '5': case '6': h->type = (char) b[156]; break;
    default: h->type = '?';
    }
  h->mode = (unsigned) (num (b + 100, 8) & 07777);
  h->uid = (p = pax_get (local, global, "uid")) ? strtoll ((const char *) p->value, NULL, 10) : num (b + 108, 8);
  h->gid = (p = pax_get (local, global, "gid")) ? strtoll ((const char *) p->value, NULL, 10) : num (b + 116, 8);
  h->size = (p = pax_get (local, global, "size")) ? strtoll ((const char *) p->value, NULL, 10) : num (b + 124, 12);
  if (mtime)
    time_ok = pax_time ((const char *) mtime->value, &h->mtime);
  else
    {
      h->mtime = (struct timespec) { num (b + 136, 12), 0 };
      time_ok = h->mtime.tv_sec <= TIME_MAX_SECS;
    }
  if ((p = pax_get (local, global, "linkpath")))
    h->linkname = strdup ((const char *) p->value);
  else if (long_link)
    h->linkname = strdup (long_link);
  else
    h->linkname = cstring (b + 157, 100);
  h->devmajor = (unsigned) num (b + 329, 8);
  h->devminor = (unsigned) num (b + 337, 8);
  /* Global records first, then the entry's own: the entry's win. */
  const struct paxset *sets[2] = { global, local };
  for (int s = 0; s < 2; s++)
    for (size_t i = 0; i < sets[s]->n; i++)
      {
        const struct pax *x = &sets[s]->v[i];
        if (strncmp (x->key, "SCHILY.xattr.", 13) == 0)
          {
            unsigned char *v = malloc (x->len + 1);
            memcpy (v, x->value, x->len);
            add_xattr (h, strdup (x->key + 13), v, x->len);
          }
        else if (strncmp (x->key, "LIBARCHIVE.xattr.", 17) == 0)
          {
            size_t len;
            unsigned char *v = base64_decode (x->value, x->len, &len);
            add_xattr (h, uri_decode (x->key + 17), v, len);
          }
      }
  if (h->size < 0)
    return berth_make_error (err, 0, "cannot unpack: entry \"%.200s\" has a negative size (%lld)", h->name, h->size);
  if (!time_ok)
    return berth_make_error (err, 0, "cannot unpack: entry \"%.200s\" has an mtime out of range (%.40s)", h->name,
                             mtime ? (const char *) mtime->value : "base-256 header field");
  return 0;
}

/* Splits a name into its components, refusing absolute names and "..". */
/* Splits a relative path (at most PATH_MAX_LEN) into PARENT ("" at the top) and the
 * returned last component. */
static const char *
split_parent (const char *rel, char *parent)
{
  const char *slash = strrchr (rel, '/');
  if (!slash)
    {
      parent[0] = 0;
      return rel;
    }
  memcpy (parent, rel, slash - rel);
  parent[slash - rel] = 0;
  return slash + 1;
}

static int
entry_parts (const char *name, char *rel, size_t relcap, berth_error_t *err)
{
  size_t o = 0;
  const char *p = name;
  if (name[0] == '/')
    return berth_make_error (err, 0, "entry \"%s\" is an absolute path: refused", name);
  while (*p)
    {
      const char *slash = strchr (p, '/');
      size_t n = slash ? (size_t) (slash - p) : strlen (p);
      if (n == 2 && p[0] == '.' && p[1] == '.')
        return berth_make_error (err, 0, "entry \"%s\" would land outside the layer directory: refused", name);
      if (n > 0 && !(n == 1 && p[0] == '.'))
        {
          if (o + n + 2 > relcap)
            return berth_make_error (err, ENAMETOOLONG, "cannot unpack: entry \"%.200s…\"", name);
          if (o)
            rel[o++] = '/';
          memcpy (rel + o, p, n);
          o += n;
        }
      p += n;
      if (*p == '/')
        p++;
    }
  rel[o] = 0;
  return 0;
}

static int
open_beneath (int root, const char *rel, int flags)
{
  struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC),
                          .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
  int fd;
  if (*rel == 0)
    return fcntl (root, F_DUPFD_CLOEXEC, 0);
  do
    fd = (int) syscall (SYS_openat2, root, rel, &how, sizeof how);
  while (fd < 0 && errno == EAGAIN);
  return fd;
}

/* After ELOOP: names the symlink of the layer that rel goes through. */
static int
symlink_refusal (int root, const char *rel, const char *entry, berth_error_t *err)
{
  char prefix[PATH_MAX_LEN];
  size_t n = strlen (rel);
  for (size_t i = 0; i <= n; i++)
    if (rel[i] == '/' || rel[i] == 0)
      {
        struct stat st;
        memcpy (prefix, rel, i);
        prefix[i] = 0;
        if (fstatat (root, prefix, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
          break;
      }
  return berth_make_error (err, 0, "entry \"%s\" goes through the symlink \"%s\" and could land outside the layer: refused", entry,
                           prefix);
}

/* The directory rel (made, with its parents, when missing), opened. */
static int
dir_fd (struct unpacker *u, const char *rel, const char *entry, berth_error_t *err)
{
  int fd;
  if (u->cached && strcmp (u->cached, rel) == 0)
    return u->cached_fd;
  fd = open_beneath (u->root, rel, O_RDONLY | O_DIRECTORY);
  if (fd < 0 && errno == ENOENT)
    {
      char part[PATH_MAX_LEN];
      size_t n = strlen (rel);
      for (size_t i = 0; i <= n; i++)
        if (rel[i] == '/' || rel[i] == 0)
          {
            memcpy (part, rel, i);
            part[i] = 0;
            if (mkdirat (u->root, part, 0777) < 0 && errno != EEXIST)
              return berth_make_error (err, errno, "cannot unpack: mkdir %s/%s", u->dest, part);
          }
      fd = open_beneath (u->root, rel, O_RDONLY | O_DIRECTORY);
    }
  if (fd < 0 && errno == ELOOP)
    return symlink_refusal (u->root, rel, entry, err);
  if (fd < 0)
    return berth_make_error (err, errno, "cannot unpack: %s/%s", u->dest, rel);
  if (u->cached)
    {
      close (u->cached_fd);
      free (u->cached);
    }
  u->cached = strdup (rel);
  u->cached_fd = fd;
  return fd;
}

static int
remove_tree (int dirfd, const char *name)
{
  struct stat st;
  if (fstatat (dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR (st.st_mode))
    return unlinkat (dirfd, name, 0);
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return -1;
  DIR *d = fdopendir (fd);
  if (!d)
    {
      close (fd);
      return -1;
    }
  struct dirent *e;
  int ret = 0;
  while ((e = readdir (d)))
    {
      if (strcmp (e->d_name, ".") == 0 || strcmp (e->d_name, "..") == 0)
        continue;
      if (remove_tree (fd, e->d_name) < 0)
        ret = -1;
    }
  closedir (d);
  if (ret == 0)
    ret = unlinkat (dirfd, name, AT_REMOVEDIR);
  return ret;
}

/* Removes what an earlier entry left at name, unless keep_dir and it is a directory. */
static int
clear (struct unpacker *u, int pfd, const char *name, const char *rel, bool keep_dir, berth_error_t *err)
{
  struct stat st;
  if (fstatat (pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return berth_make_error (err, errno, "cannot unpack: %s/%s", u->dest, rel);
    }
  if (keep_dir && S_ISDIR (st.st_mode))
    return 0;
  if (S_ISDIR (st.st_mode))
    u->drop_cache = true;
  if (remove_tree (pfd, name) < 0)
    return berth_make_error (err, errno, "cannot unpack: removing %s/%s", u->dest, rel);
  return 0;
}

static bool
owner_differs (struct unpacker *u, const struct header *h)
{
  return h->uid != (long long) u->euid || h->gid != (long long) u->egid;
}

/* Security xattrs other than capabilities may be refused by the host LSM: skipped, as docker does. */
static int
xattr_failed (const char *name, const char *path, berth_error_t *err)
{
  if (strncmp (name, "security.", 9) == 0 && strcmp (name, "security.capability") != 0)
    return 0;
  return berth_make_error (err, errno, "setxattr %s (%s)", path, name);
}

static int
set_xattrs_fd (struct unpacker *u, int fd, const struct header *h, const char *rel, berth_error_t *err)
{
  for (size_t i = 0; i < h->nxattrs; i++)
    if (fsetxattr (fd, h->xattrs[i].name, h->xattrs[i].value, h->xattrs[i].len, 0) < 0)
      {
        char path[PATH_MAX_LEN + 256];
        snprintf (path, sizeof path, "%s/%s", u->dest, rel);
        if (xattr_failed (h->xattrs[i].name, path, err) < 0)
          return -1;
      }
  return 0;
}

static int
remember_dir (struct unpacker *u, const char *rel, const struct header *h, unsigned mode)
{
  for (size_t i = 0; i < u->ndirs; i++)
    if (strcmp (u->dirs[i].rel, rel) == 0)
      {
        u->dirs[i] = (struct dirmeta) { u->dirs[i].rel, mode, h->uid, h->gid, h->mtime };
        return 0;
      }
  if (u->ndirs == u->capdirs)
    {
      u->capdirs = u->capdirs ? u->capdirs * 2 : 256;
      u->dirs = realloc (u->dirs, u->capdirs * sizeof *u->dirs);
    }
  u->dirs[u->ndirs++] = (struct dirmeta) { strdup (rel), mode, h->uid, h->gid, h->mtime };
  return 0;
}

static int
entry (struct unpacker *u, struct reader *r, const struct header *h, berth_error_t *err)
{
  char rel[PATH_MAX_LEN], parent[PATH_MAX_LEN];
  const char *base;
  long long datalen = (h->type == '0' || h->type == '?') ? h->size : 0;
  int pfd, fd;
  struct timespec times[2] = { h->mtime, h->mtime };

  if (entry_parts (h->name, rel, sizeof rel, err) < 0)
    return -1;
  if (rel[0] == 0)
    {
      remember_dir (u, "", h, h->mode ? h->mode : 0755);
      return data (r, -1, datalen, u->dest, err);
    }
  base = split_parent (rel, parent);
  pfd = dir_fd (u, parent, h->name, err);
  if (pfd < 0)
    return -1;

  if (strcmp (base, ".wh..wh..opq") == 0)
    {
      if (fsetxattr (pfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
        return berth_make_error (err, errno, "setxattr %s/%s (trusted.overlay.opaque)", u->dest, parent);
      return data (r, -1, datalen, rel, err);
    }
  if (strncmp (base, ".wh.", 4) == 0)
    {
      if (strncmp (base + 4, ".wh.", 4) != 0)
        {
          const char *name = base + 4;
          if (clear (u, pfd, name, rel, false, err) < 0)
            return -1;
          if (mknodat (pfd, name, S_IFCHR, makedev (0, 0)) < 0)
            return berth_make_error (err, errno, "mknod %s/%s%s%s", u->dest, parent, *parent ? "/" : "", name);
        }
      return data (r, -1, datalen, rel, err);
    }

  switch (h->type)
    {
    case '5':
      if (clear (u, pfd, base, rel, true, err) < 0)
        return -1;
      if (mkdirat (pfd, base, 0777) < 0 && errno != EEXIST)
        return berth_make_error (err, errno, "cannot unpack: mkdir %s/%s", u->dest, rel);
      remember_dir (u, rel, h, h->mode);
      if (h->nxattrs)
        {
          fd = openat (pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0)
            return berth_make_error (err, errno, "cannot unpack: %s/%s", u->dest, rel);
          int ret = set_xattrs_fd (u, fd, h, rel, err);
          close (fd);
          if (ret < 0)
            return -1;
        }
      return 0;
    case '0':
      {
        if (clear (u, pfd, base, rel, false, err) < 0)
          return -1;
        fd = openat (pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, h->mode);
        if (fd < 0)
          return berth_make_error (err, errno, "cannot unpack: creating %s/%s", u->dest, rel);
        if (data (r, fd, datalen, rel, err) < 0)
          {
            close (fd);
            return -1;
          }
        if (owner_differs (u, h) && fchown (fd, (uid_t) h->uid, (gid_t) h->gid) < 0)
          {
            close (fd);
            return berth_make_error (err, errno, "cannot unpack: chown %s/%s", u->dest, rel);
          }
        if (((h->mode & ~u->umask) != h->mode || owner_differs (u, h)) && fchmod (fd, h->mode) < 0)
          {
            close (fd);
            return berth_make_error (err, errno, "cannot unpack: chmod %s/%s", u->dest, rel);
          }
        if (set_xattrs_fd (u, fd, h, rel, err) < 0 || futimens (fd, times) < 0)
          {
            if (!*err)
              berth_make_error (err, errno, "cannot unpack: utimes %s/%s", u->dest, rel);
            close (fd);
            return -1;
          }
        close (fd);
        u->size += h->size;
        return 0;
      }
    case '2':
      if (clear (u, pfd, base, rel, false, err) < 0)
        return -1;
      if (symlinkat (h->linkname, pfd, base) < 0)
        return berth_make_error (err, errno, "cannot unpack: symlink %s/%s", u->dest, rel);
      if (owner_differs (u, h) && fchownat (pfd, base, (uid_t) h->uid, (gid_t) h->gid, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_make_error (err, errno, "cannot unpack: chown %s/%s", u->dest, rel);
      if (utimensat (pfd, base, times, AT_SYMLINK_NOFOLLOW) < 0)
        return berth_make_error (err, errno, "cannot unpack: utimes %s/%s", u->dest, rel);
      return data (r, -1, datalen, rel, err);
    case '1':
      {
        char target[PATH_MAX_LEN], tparent[PATH_MAX_LEN], what[2 * PATH_MAX_LEN + 8];
        const char *tbase;
        struct stat st;
        int tfd;
        if (entry_parts (h->linkname, target, sizeof target, err) < 0)
          return -1;
        snprintf (what, sizeof what, "%s -> %s", h->name, h->linkname);
        tbase = split_parent (target, tparent);
        tfd = open_beneath (u->root, tparent, O_PATH | O_DIRECTORY);
        if (tfd < 0 && errno == ELOOP)
          return symlink_refusal (u->root, tparent, what, err);
        if (tfd >= 0 && *tbase && fstatat (tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK (st.st_mode))
          {
            close (tfd);
            return berth_make_error (err, 0, "entry \"%s\" goes through the symlink \"%s\" and could land outside the layer: refused",
                                     what, target);
          }
        if (tfd < 0 || !*tbase || fstatat (tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
          {
            if (tfd >= 0)
              close (tfd);
            return berth_make_error (err, 0, "hardlink \"%s\" points to \"%s\", which is not earlier in this layer", h->name,
                                     h->linkname);
          }
        if (clear (u, pfd, base, rel, false, err) < 0 || linkat (tfd, tbase, pfd, base, 0) < 0)
          {
            if (!*err)
              berth_make_error (err, errno, "cannot unpack: link %s/%s", u->dest, rel);
            close (tfd);
            return -1;
          }
        close (tfd);
        return data (r, -1, datalen, rel, err);
      }
    case '3':
    case '4':
    case '6':
      {
        mode_t type = h->type == '6' ? S_IFIFO : h->type == '4' ? S_IFBLK : S_IFCHR;
        if (clear (u, pfd, base, rel, false, err) < 0)
          return -1;
        if (mknodat (pfd, base, type | h->mode, makedev (h->devmajor, h->devminor)) < 0)
          return berth_make_error (err, errno, "mknod %s/%s", u->dest, rel);
        if (h->nxattrs)
          {
            char path[PATH_MAX_LEN + 64];
            snprintf (path, sizeof path, "/proc/self/fd/%d/%s", pfd, base);
            for (size_t i = 0; i < h->nxattrs; i++)
              if (lsetxattr (path, h->xattrs[i].name, h->xattrs[i].value, h->xattrs[i].len, 0) < 0
                  && xattr_failed (h->xattrs[i].name, rel, err) < 0)
                return -1;
          }
        if (fchownat (pfd, base, (uid_t) h->uid, (gid_t) h->gid, AT_SYMLINK_NOFOLLOW) < 0)
          return berth_make_error (err, errno, "cannot unpack: chown %s/%s", u->dest, rel);
        if (utimensat (pfd, base, times, AT_SYMLINK_NOFOLLOW) < 0)
          return berth_make_error (err, errno, "cannot unpack: utimes %s/%s", u->dest, rel);
        return data (r, -1, datalen, rel, err);
      }
    default:
      /* Volume labels, sparse-file maps and the like mean nothing in a layer. */
      return data (r, -1, datalen, rel, err);
    }
}

static int
cmp_dir_depth (const void *a, const void *b)
{
  size_t la = strlen (((const struct dirmeta *) a)->rel), lb = strlen (((const struct dirmeta *) b)->rel);
  return la < lb ? 1 : la > lb ? -1 : 0;
}

/* Directory metadata last, deepest first: writing inside a directory changes its mtime. */
static int
finish_dirs (struct unpacker *u, berth_error_t *err)
{
  if (u->ndirs > 1) /* dirs is NULL in a layer of no directory: not for qsort */
    qsort (u->dirs, u->ndirs, sizeof *u->dirs, cmp_dir_depth);
  for (size_t i = 0; i < u->ndirs; i++)
    {
      struct dirmeta *d = &u->dirs[i];
      struct timespec times[2] = { d->mtime, d->mtime };
      int fd = open_beneath (u->root, d->rel, O_RDONLY | O_DIRECTORY);
      if (fd < 0)
        {
          /* Replaced later in the layer by something that is not a directory. */
          if (errno == ENOTDIR || errno == ELOOP || errno == ENOENT)
            continue;
          return berth_make_error (err, errno, "cannot unpack: %s/%s", u->dest, d->rel);
        }
      if ((d->uid != (long long) u->euid || d->gid != (long long) u->egid) && fchown (fd, (uid_t) d->uid, (gid_t) d->gid) < 0)
        {
          close (fd);
          return berth_make_error (err, errno, "cannot unpack: chown %s/%s", u->dest, d->rel);
        }
      if (fchmod (fd, d->mode) < 0 || futimens (fd, times) < 0)
        {
          close (fd);
          return berth_make_error (err, errno, "cannot unpack: %s/%s", u->dest, d->rel);
        }
      close (fd);
    }
  return 0;
}

static int
unpack (struct unpacker *u, struct reader *r, berth_error_t *err)
{
  struct paxset global = { 0 }, local = { 0 };
  char *long_name = NULL, *long_link = NULL;
  int zero_blocks = 0, ret = 0;

  for (;;)
    {
      int ok = need (r, BLOCK, err);
      const unsigned char *b;
      if (ok < 0)
        {
          ret = -1;
          break;
        }
      if (ok == 0)
        {
          if (r->len - r->off > 0)
            ret = truncated (err);
          break;
        }
      b = r->buf + r->off;
      if (is_zero (b))
        {
          r->off += BLOCK;
          if (++zero_blocks == 2)
            break;
          continue;
        }
      zero_blocks = 0;
      if (!checksum_ok (b))
        {
          ret = berth_make_error (err, 0, "cannot unpack: not a valid tar archive (bad header checksum)");
          break;
        }
      char flag = (char) b[156];
      long long size = num (b + 124, 12);
      if (flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K')
        {
          unsigned char *meta;
          long long pad = (BLOCK - size % BLOCK) % BLOCK;
          if (size > META_MAX)
            {
              ret = berth_make_error (err, 0, "cannot unpack: a tar metadata record of %lld bytes (more than %d)", size, META_MAX);
              break;
            }
          r->off += BLOCK;
          if ((ok = need (r, (size_t) (size + pad), err)) <= 0)
            {
              ret = ok < 0 ? -1 : truncated (err);
              break;
            }
          meta = r->buf + r->off;
          if (flag == 'x')
            {
              pax_free (&local);
              pax_parse (&local, meta, (size_t) size);
            }
          else if (flag == 'g')
            pax_parse (&global, meta, (size_t) size);
          else if (flag == 'L')
            {
              free (long_name);
              long_name = cstring (meta, (size_t) size);
            }
          else
            {
              free (long_link);
              long_link = cstring (meta, (size_t) size);
            }
          r->off += size + pad;
          continue;
        }
      struct header h;
      ret = make_header (&h, b, &local, &global, long_name, long_link, err);
      r->off += BLOCK;
      pax_free (&local);
      free (long_name);
      free (long_link);
      long_name = long_link = NULL;
      if (ret == 0)
        ret = entry (u, r, &h, err);
      header_free (&h);
      if (u->drop_cache && u->cached)
        {
          close (u->cached_fd);
          free (u->cached);
          u->cached = NULL;
        }
      u->drop_cache = false;
      if (ret < 0)
        break;
    }
  pax_free (&global);
  pax_free (&local);
  free (long_name);
  free (long_link);
  return ret;
}

static void
unpacker_release (struct unpacker *u)
{
  for (size_t i = 0; i < u->ndirs; i++)
    free (u->dirs[i].rel);
  free (u->dirs);
  if (u->cached)
    {
      close (u->cached_fd);
      free (u->cached);
    }
  close (u->root);
}

int
unpack_layer (int in, const char *dest, long long *size, berth_error_t *err)
{
  struct unpacker u = { .dest = dest, .cached_fd = -1 };
  struct reader r = { .fd = in, .cap = 4 << 20 };
  int ret;
  u.euid = geteuid ();
  u.egid = getegid ();
  u.umask = umask (0);
  umask (u.umask);
  if (mkdir (u.dest, 0777) < 0 && errno != EEXIST)
    return berth_make_error (err, errno, "cannot unpack: mkdir %s", u.dest);
  u.root = open (u.dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u.root < 0)
    return berth_make_error (err, errno, "cannot unpack: %s", u.dest);
  r.buf = malloc (r.cap);
  if (!r.buf)
    ret = berth_make_error (err, ENOMEM, "cannot unpack");
  else
    ret = unpack (&u, &r, err);
  if (ret == 0)
    ret = finish_dirs (&u, err);
  if (ret == 0)
    {
      /* What follows the end-of-archive blocks is read (the caller hashes all of it). */
      while (read (in, r.buf, r.cap) > 0)
        ;
      *size = u.size;
    }
  free (r.buf);
  unpacker_release (&u);
  return ret < 0 ? -1 : 0;
}
