/* Decodes a layer for `berth-runtime unpack` on a thread beside the unpacker: gzip
 * (by its magic bytes; zlib) or a plain tar as it is, the plain tar hashed (SHA-256,
 * OpenSSL's, with the CPU's SHA instructions) for the diff id and written to a pipe the
 * unpacker reads. Decoding, hashing and file creation then run at once, and berthd
 * forwards the compressed bytes only. Gzip as node's gunzip reads it (the reference,
 * engine/images/decompress.ts): members one after the other, zero bytes after the last
 * one ignored, anything else there an error, a stream cut short an error. */
#include "layerin.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#define CHUNK (1 << 20)

/* Keeps the first failure (errno, message) for layer_input_finish. */
static int __attribute__ ((format (printf, 3, 4)))
fail (struct layer_input *li, int status, const char *fmt, ...)
{
  va_list ap;
  if (li->msg)
    return -1;
  li->status = status;
  va_start (ap, fmt);
  if (vasprintf (&li->msg, fmt, ap) < 0)
    li->msg = NULL;
  va_end (ap);
  return -1;
}

static int
not_gzip (struct layer_input *li, z_stream *z, int zr)
{
  return fail (li, 0, "cannot unpack: the layer is not a valid gzip stream (%s)", z->msg ? z->msg : zError (zr));
}

/* Reads up to CHUNK bytes; 0 at the end. */
static ssize_t
get (struct layer_input *li, unsigned char *buf)
{
  ssize_t n;
  do
    n = read (li->in, buf, CHUNK);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    fail (li, errno, "cannot unpack: reading the layer");
  return n;
}

/* Hashes and hands on plain tar bytes. */
static int
put (struct layer_input *li, SHA256_CTX *sha, const unsigned char *buf, size_t len)
{
  SHA256_Update (sha, buf, len);
  while (len > 0)
    {
      ssize_t w = write (li->out, buf, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 && errno == EPIPE)
        {
          li->reader_gone = true;
          return -1;
        }
      if (w < 0)
        return fail (li, errno, "cannot unpack: handing on the tar");
      buf += w;
      len -= (size_t) w;
    }
  return 0;
}

/* One inflate into `out`, hashed and handed on: the bytes it made (0: zlib wants input), or -1. */
static ssize_t
inflate_some (struct layer_input *li, z_stream *z, SHA256_CTX *sha, unsigned char *out, bool *member_done)
{
  int zr;
  size_t made;
  z->next_out = out;
  z->avail_out = CHUNK;
  zr = inflate (z, Z_NO_FLUSH);
  if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
    return not_gzip (li, z, zr);
  made = CHUNK - z->avail_out;
  if (made > 0 && put (li, sha, out, made) < 0)
    return -1;
  if (zr == Z_STREAM_END)
    *member_done = true;
  return (ssize_t) made;
}

static int
gunzip (struct layer_input *li, SHA256_CTX *sha, unsigned char *in, size_t have, unsigned char *out)
{
  z_stream z = { 0 };
  int ret = 0;
  bool member_done = false, padding = false;
  if (inflateInit2 (&z, 15 + 16) != Z_OK)
    return fail (li, ENOMEM, "cannot unpack: cannot start gzip decoding");
  for (;;)
    {
      z.next_in = in;
      z.avail_in = (uInt) have;
      while (z.avail_in > 0 && !padding)
        {
          if (member_done)
            {
              /* After a member: zero bytes pad the stream's end, anything else is the next member. */
              if (*z.next_in == 0)
                {
                  padding = true;
                  break;
                }
              inflateReset (&z);
              member_done = false;
            }
          if (inflate_some (li, &z, sha, out, &member_done) < 0)
            {
              ret = -1;
              goto out;
            }
        }
      /* Output zlib kept back for want of room. */
      while (!member_done && !padding)
        {
          ssize_t made = inflate_some (li, &z, sha, out, &member_done);
          if (made < 0)
            {
              ret = -1;
              goto out;
            }
          if (made == 0)
            break;
        }
      {
        ssize_t n = get (li, in);
        if (n < 0)
          {
            ret = -1;
            goto out;
          }
        if (n == 0)
          break;
        have = (size_t) n;
      }
    }
  if (!member_done && !padding)
    ret = fail (li, 0, "cannot unpack: the layer is not a valid gzip stream (unexpected end of file)");
out:
  inflateEnd (&z);
  return ret;
}

static int
decode (struct layer_input *li, unsigned char *in, unsigned char *out)
{
  SHA256_CTX sha;
  unsigned char md[SHA256_DIGEST_LENGTH];
  size_t have = 0;
  int ret;
  SHA256_Init (&sha);
  /* Two bytes tell gzip from a tar. */
  while (have < 2)
    {
      ssize_t n;
      do
        n = read (li->in, in + have, CHUNK - have);
      while (n < 0 && errno == EINTR);
      if (n < 0)
        return fail (li, errno, "cannot unpack: reading the layer");
      if (n == 0)
        break;
      have += (size_t) n;
    }
  if (have >= 2 && in[0] == 0x1f && in[1] == 0x8b)
    ret = gunzip (li, &sha, in, have, out);
  else
    {
      ret = 0;
      while (have > 0)
        {
          ssize_t n;
          if (put (li, &sha, in, have) < 0)
            return -1;
          n = get (li, in);
          if (n < 0)
            return -1;
          have = (size_t) n;
        }
    }
  if (ret < 0)
    return -1;
  SHA256_Final (md, &sha);
  memcpy (li->diff_id, "sha256:", 7);
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++)
    snprintf (li->diff_id + 7 + 2 * i, 3, "%02x", md[i]);
  return 0;
}

static void *
run (void *arg)
{
  struct layer_input *li = arg;
  unsigned char *in = malloc (CHUNK), *out = malloc (CHUNK);
  if (!in || !out)
    fail (li, ENOMEM, "cannot unpack");
  else
    decode (li, in, out);
  free (in);
  free (out);
  /* Published before the unpacker can see the end of the tar (or of what there was). */
  __atomic_store_n (&li->done, true, __ATOMIC_RELEASE);
  close (li->out);
  return NULL;
}

int
layer_input_start (struct layer_input *li, int in, int *tar, berth_error_t *err)
{
  int fds[2];
  *li = (struct layer_input) { .in = in, .out = -1 };
  /* A reader that stops early is an EPIPE on the thread's write, not a signal. */
  signal (SIGPIPE, SIG_IGN);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "cannot unpack: pipe");
  (void) fcntl (fds[1], F_SETPIPE_SZ, 1 << 20);
  li->out = fds[1];
  errno = pthread_create (&li->thread, NULL, run, li);
  if (errno != 0)
    {
      close (fds[0]);
      close (fds[1]);
      return berth_make_error (err, errno, "cannot unpack: cannot start the decoding thread");
    }
  li->started = true;
  *tar = fds[0];
  return 0;
}

int
layer_input_finish (struct layer_input *li, bool wait, berth_error_t *err)
{
  int ret = 0;
  if (!li->started)
    return 0;
  if (!wait && !__atomic_load_n (&li->done, __ATOMIC_ACQUIRE))
    return 0;
  pthread_join (li->thread, NULL);
  li->started = false;
  if (li->msg)
    ret = berth_make_error (err, li->status, "%s", li->msg);
  else if (li->status)
    ret = berth_make_error (err, li->status, "cannot unpack: decoding the layer");
  free (li->msg);
  li->msg = NULL;
  return ret;
}
