/* Unit tests of the seccomp filter cache's pure parts: SHA-256 (FIPS 180-4 vectors)
 * and the cache key over canonical JSON. Prints TAP; exit status 1 on a failure. */
#include "json.h"
#include "seccomp_cache.h"
#include "sha256.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>

static int
digest_is (const void *data, size_t len, size_t chunk, const char *want)
{
  struct sha256 s;
  unsigned char d[32];
  char hex[65];
  size_t off;
  int i;
  sha256_init (&s);
  for (off = 0; off < len; off += chunk)
    sha256_update (&s, (const char *) data + off, len - off < chunk ? len - off : chunk);
  sha256_final (&s, d);
  for (i = 0; i < 32; i++)
    snprintf (hex + 2 * i, 3, "%02x", d[i]);
  return strcmp (hex, want) == 0;
}

static json_t *
parse (const char *s)
{
  char err[128];
  return json_parse (s, strlen (s), err, sizeof err);
}

int
main (void)
{
  static char million[1000000];
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  char k1[65], k2[65], k3[65], k4[65];

  TAP_OK (digest_is ("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), "sha256: empty");
  TAP_OK (digest_is ("abc", 3, 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"), "sha256: abc");
  TAP_OK (digest_is (two, strlen (two), 7, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
          "sha256: 448 bits, fed in pieces");
  memset (million, 'a', sizeof million);
  TAP_OK (digest_is (million, sizeof million, 4093, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
          "sha256: a million a");

  seccomp_cache_key (parse ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"), k1);
  seccomp_cache_key (parse ("{ \"syscalls\": [ {\"action\": \"SCMP_ACT_ERRNO\", \"names\": [\"mkdir\"]} ],\n \"defaultAction\": \"SCMP_ACT_ALLOW\" }"), k2);
  seccomp_cache_key (parse ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\"}]}"), k3);
  seccomp_cache_key (parse ("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}"), k4);
  TAP_OK (strlen (k1) == 64, "key: 64 hex digits");
  TAP_OK (strcmp (k1, k2) == 0, "key: member order and whitespace do not matter");
  TAP_OK (strcmp (k1, k3) != 0, "key: another syscall name is another key");
  TAP_OK (strcmp (k1, k4) != 0 && strcmp (k3, k4) != 0, "key: an added member is another key");
  return tap_done ();
}
