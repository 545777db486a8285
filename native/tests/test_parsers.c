/* Unit tests of the pure parsers: JSON, config.json sections, signals, capabilities,
 * mount options. Prints TAP; exit status 1 when a test fails. */
#include "caps.h"
#include "json.h"
#include "jsonw.h"
#include "mounts.h"
#include "signals.h"
#include "spec.h"
#include "tap.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>

static json_t *
parse (const char *s)
{
  char err[128];
  return json_parse (s, strlen (s), err, sizeof err);
}

static void
test_json (void)
{
  char err[128];
  int64_t i;
  uint64_t u;
  json_t *j = parse ("{\"a\": [1, -2, 18446744073709551615], \"s\": \"x\\n\\u00e9\\ud83d\\ude00\", \"t\": true, \"n\": null}");
  TAP_OK (j != NULL, "json: parses a document");
  TAP_OK (json_int64 (json_get (j, "a")->items[1], &i) && i == -2, "json: negative integer");
  TAP_OK (json_uint64 (json_get (j, "a")->items[2], &u) && u == UINT64_MAX, "json: uint64 max");
  TAP_OK (!json_uint64 (json_get (j, "a")->items[1], &u), "json: negative is not a uint64");
  TAP_OK (strcmp (json_string (json_get (j, "s")), "x\n\xc3\xa9\xf0\x9f\x98\x80") == 0, "json: escapes and surrogates");
  TAP_OK (json_get (j, "t")->boolean && json_is (json_get (j, "n"), JSON_NULL), "json: literals");
  TAP_OK (json_path (parse ("{\"a\":{\"b\":{\"c\":1}}}"), "a.b.c") != NULL, "json: path lookup");
  TAP_OK (json_parse ("{\"a\": 1,}", 9, err, sizeof err) == NULL && strstr (err, "offset") != NULL,
          "json: trailing comma refused with an offset");
  TAP_OK (parse ("[1 2]") == NULL, "json: missing comma refused");
  TAP_OK (parse ("\"abc") == NULL, "json: unterminated string refused");
  TAP_OK (parse ("{} x") == NULL, "json: trailing garbage refused");
  TAP_OK (parse ("\"a\x01\"") == NULL, "json: raw control character refused");
}

static void
test_jsonw (void)
{
  struct jsonw w;
  jsonw_init (&w);
  jsonw_str (&w, "a\"b\\c\n\x01");
  TAP_OK (strcmp (w.buf, "\"a\\\"b\\\\c\\n\\u0001\"") == 0, "jsonw: escapes");
  jsonw_free (&w);
}

static void
test_spec (void)
{
  struct spec spec;
  berth_error_t err = NULL;
  const char *good = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
                     "\"process\":{\"args\":[\"sh\"],\"user\":{\"uid\":5,\"gid\":6,\"additionalGids\":[7]},"
                     "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"]},"
                     "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}]},"
                     "\"mounts\":[{\"destination\":\"/d\",\"type\":\"bind\",\"source\":\"rel/src\",\"options\":[\"rbind\"]}],"
                     "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}";
  TAP_OK (spec_parse (good, strlen (good), "/b", &spec, &err) == 0, "spec: parses a config");
  TAP_OK (strcmp (spec.root_path, "/b/rootfs") == 0, "spec: root.path made absolute against the bundle");
  TAP_OK (strcmp (spec.mounts[0].source, "/b/rel/src") == 0, "spec: relative bind source made absolute");
  TAP_OK (spec.process.uid == 5 && spec.process.gid == 6 && spec.process.n_additional_gids == 1, "spec: user");
  TAP_OK (spec.process.caps.bounding == ((1ULL << 5) | 1ULL), "spec: capability mask");
  TAP_OK (spec.process.n_rlimits == 1 && spec.process.rlimits[0].hard == 20, "spec: rlimits");
  TAP_OK (spec_has_namespace (&spec, CLONE_NEWPID) && spec_namespace (&spec, CLONE_NEWNET)->path != NULL,
          "spec: namespaces, new and joined");
  TAP_OK (strcmp (spec.process.cwd, "/") == 0, "spec: cwd defaults to /");

  const char *bad_cap = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[\"a\"],"
                        "\"capabilities\":{\"bounding\":[\"CAP_FLY\"]}}}";
  TAP_OK (spec_parse (bad_cap, strlen (bad_cap), "/b", &spec, &err) < 0 && strstr (err->msg, "CAP_FLY"),
          "spec: unknown capability named");
  berth_error_release (&err);
  const char *no_args = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[]}}";
  TAP_OK (spec_parse (no_args, strlen (no_args), "/b", &spec, &err) < 0 && strstr (err->msg, "process.args"),
          "spec: empty args refused");
  berth_error_release (&err);
  const char *rel_cwd = "{\"ociVersion\":\"1\",\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[\"a\"],\"cwd\":\"x\"}}";
  TAP_OK (spec_parse (rel_cwd, strlen (rel_cwd), "/b", &spec, &err) < 0 && strstr (err->msg, "absolute"),
          "spec: relative cwd refused");
  berth_error_release (&err);
  TAP_OK (spec_parse ("[]", 2, "/b", &spec, &err) < 0 && strstr (err->msg, "JSON object"), "spec: not an object");
  berth_error_release (&err);
}

static void
test_names (void)
{
  TAP_OK (signal_from_name ("KILL") == SIGKILL && signal_from_name ("SIGTERM") == SIGTERM
              && signal_from_name ("sigusr1") == SIGUSR1 && signal_from_name ("15") == 15,
          "signals: names and numbers");
  TAP_OK (signal_from_name ("NOPE") == -1 && signal_from_name ("99") == -1 && signal_from_name ("") == -1,
          "signals: unknown refused");
  TAP_OK (signal_from_name ("RTMIN+2") == SIGRTMIN + 2, "signals: realtime");
  TAP_OK (cap_from_name ("CAP_SYS_ADMIN") == 21 && cap_from_name ("net_raw") == 13, "caps: names");
  TAP_OK (cap_from_name ("CAP_FLY") == -2, "caps: unknown");
}

static void
test_mount_options (void)
{
  struct mount_flags mf;
  berth_error_t err = NULL;
  char *opts[] = { "rbind", "ro", "nosuid", "rprivate", "mode=755", "size=1m", "rw", "ro" };
  TAP_OK (mount_parse_options (opts, 8, &mf, &err) == 0, "mount options: parse");
  TAP_OK ((mf.flags & (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID)) == (MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID),
          "mount options: flags, last of ro/rw wins");
  TAP_OK (mf.propagation == (MS_PRIVATE | MS_REC), "mount options: propagation");
  TAP_OK (strcmp (mf.data, "mode=755,size=1m") == 0, "mount options: data");
  char *idmap[] = { "idmap" };
  TAP_OK (mount_parse_options (idmap, 1, &mf, &err) < 0, "mount options: idmap refused");
  berth_error_release (&err);
}

int
main (void)
{
  test_json ();
  test_jsonw ();
  test_spec ();
  test_names ();
  test_mount_options ();
  return tap_done ();
}
