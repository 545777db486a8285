#include "spec.h"
#include "caps.h"
#include "fsutil.h"
#include "rlimits.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **
string_array (json_t *arr, size_t *n_out, const char *what, berth_error_t *err)
{
  char **out;
  size_t i;
  if (arr == NULL)
    {
      if (n_out)
        *n_out = 0;
      return calloc (1, sizeof (char *));
    }
  if (!json_is (arr, JSON_ARRAY))
    {
      berth_make_error (err, 0, "config.json: %s must be an array of strings", what);
      return NULL;
    }
  out = calloc (arr->n + 1, sizeof (char *));
  for (i = 0; i < arr->n; i++)
    {
      if (!json_is (arr->items[i], JSON_STRING))
        {
          berth_make_error (err, 0, "config.json: %s[%zu] must be a string", what, i);
          free (out);
          return NULL;
        }
      out[i] = arr->items[i]->str;
    }
  if (n_out)
    *n_out = arr->n;
  return out;
}

static int
get_u32 (json_t *obj, const char *key, const char *what, uint32_t *out, bool required, berth_error_t *err)
{
  json_t *v = json_get (obj, key);
  uint64_t u;
  if (v == NULL)
    {
      if (required)
        return berth_make_error (err, 0, "config.json: %s.%s is missing", what, key);
      return 0;
    }
  if (!json_uint64 (v, &u) || u > UINT32_MAX)
    return berth_make_error (err, 0, "config.json: %s.%s must be a non-negative integer", what, key);
  *out = (uint32_t) u;
  return 0;
}

int
spec_capability_mask (json_t *list, uint64_t *mask, berth_error_t *err)
{
  size_t i;
  *mask = 0;
  if (list == NULL)
    return 0;
  if (!json_is (list, JSON_ARRAY))
    return berth_make_error (err, 0, "config.json: capabilities must be arrays of names");
  for (i = 0; i < list->n; i++)
    {
      int cap = cap_from_name (json_string (list->items[i]));
      if (cap == -2)
        return berth_make_error (err, 0, "config.json: unknown capability `%s`",
                                 json_string (list->items[i]) ? json_string (list->items[i]) : "?");
      if (cap >= 0) /* -1: known to libcap but newer than this kernel: skip, like runc */
        *mask |= 1ULL << cap;
    }
  return 0;
}

static int
parse_rlimits (json_t *arr, struct process_spec *p, berth_error_t *err)
{
  size_t i;
  if (arr == NULL)
    return 0;
  if (!json_is (arr, JSON_ARRAY))
    return berth_make_error (err, 0, "config.json: process.rlimits must be an array");
  p->rlimits = calloc (arr->n + 1, sizeof *p->rlimits);
  for (i = 0; i < arr->n; i++)
    {
      json_t *r = arr->items[i];
      const char *type = json_string (json_get (r, "type"));
      int res = rlimit_from_name (type);
      if (res < 0)
        return berth_make_error (err, 0, "config.json: unknown rlimit type `%s`", type ? type : "?");
      if (!json_uint64 (json_get (r, "soft"), &p->rlimits[i].soft)
          || !json_uint64 (json_get (r, "hard"), &p->rlimits[i].hard))
        return berth_make_error (err, 0, "config.json: rlimit %s needs integer soft and hard", type);
      p->rlimits[i].resource = res;
    }
  p->n_rlimits = arr->n;
  return 0;
}

int
spec_parse_process (json_t *proc, struct process_spec *p, berth_error_t *err)
{
  json_t *user, *caps, *v, *gids;
  uint32_t u32;
  int64_t i64;
  size_t i;

  memset (p, 0, sizeof *p);
  p->umask = -1;
  if (!json_is (proc, JSON_OBJECT))
    return berth_make_error (err, 0, "config.json: process must be an object");
  v = json_get (proc, "terminal");
  p->terminal = json_is (v, JSON_BOOL) && v->boolean;
  v = json_get (proc, "consoleSize");
  if (v)
    {
      uint32_t h = 0, w = 0;
      if (get_u32 (v, "height", "process.consoleSize", &h, false, err) < 0
          || get_u32 (v, "width", "process.consoleSize", &w, false, err) < 0)
        return -1;
      p->rows = (unsigned short) h;
      p->cols = (unsigned short) w;
    }
  p->args = string_array (json_get (proc, "args"), &i, "process.args", err);
  if (p->args == NULL)
    return -1;
  if (i == 0)
    return berth_make_error (err, 0, "config.json: process.args must be a non-empty array");
  p->env = string_array (json_get (proc, "env"), NULL, "process.env", err);
  if (p->env == NULL)
    return -1;
  p->cwd = (char *) json_string (json_get (proc, "cwd"));
  if (p->cwd == NULL)
    p->cwd = "/";
  if (p->cwd[0] != '/')
    return berth_make_error (err, 0, "config.json: process.cwd `%s` must be an absolute path", p->cwd);

  user = json_get (proc, "user");
  if (user)
    {
      u32 = 0;
      if (get_u32 (user, "uid", "process.user", &u32, false, err) < 0)
        return -1;
      p->uid = u32;
      u32 = 0;
      if (get_u32 (user, "gid", "process.user", &u32, false, err) < 0)
        return -1;
      p->gid = u32;
      if (get_u32 (user, "umask", "process.user", &u32, false, err) < 0)
        return -1;
      if (json_get (user, "umask"))
        p->umask = (int) u32;
      gids = json_get (user, "additionalGids");
      if (json_is (gids, JSON_ARRAY))
        {
          p->additional_gids = calloc (gids->n + 1, sizeof (gid_t));
          for (i = 0; i < gids->n; i++)
            {
              uint64_t g;
              if (!json_uint64 (gids->items[i], &g))
                return berth_make_error (err, 0, "config.json: process.user.additionalGids must be integers");
              p->additional_gids[i] = (gid_t) g;
            }
          p->n_additional_gids = gids->n;
        }
    }

  caps = json_get (proc, "capabilities");
  if (caps)
    {
      p->has_caps = true;
      if (spec_capability_mask (json_get (caps, "bounding"), &p->caps.bounding, err) < 0
          || spec_capability_mask (json_get (caps, "effective"), &p->caps.effective, err) < 0
          || spec_capability_mask (json_get (caps, "inheritable"), &p->caps.inheritable, err) < 0
          || spec_capability_mask (json_get (caps, "permitted"), &p->caps.permitted, err) < 0
          || spec_capability_mask (json_get (caps, "ambient"), &p->caps.ambient, err) < 0)
        return -1;
    }
  if (parse_rlimits (json_get (proc, "rlimits"), p, err) < 0)
    return -1;
  v = json_get (proc, "noNewPrivileges");
  p->no_new_privileges = json_is (v, JSON_BOOL) && v->boolean;
  v = json_get (proc, "oomScoreAdj");
  if (v)
    {
      if (!json_int64 (v, &i64) || i64 < -1000 || i64 > 1000)
        return berth_make_error (err, 0, "config.json: process.oomScoreAdj must be an integer in [-1000, 1000]");
      p->has_oom_score_adj = true;
      p->oom_score_adj = (int) i64;
    }
  return 0;
}

static int
ns_flag (const char *type)
{
  static const struct { const char *name; int flag; } table[] = {
    { "pid", CLONE_NEWPID }, { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
    { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "user", CLONE_NEWUSER },
    { "cgroup", CLONE_NEWCGROUP }, { "time", 0x00000080 /* CLONE_NEWTIME */ },
  };
  size_t i;
  for (i = 0; type && i < sizeof table / sizeof table[0]; i++)
    if (strcmp (type, table[i].name) == 0)
      return table[i].flag;
  return -1;
}

static int
parse_id_maps (json_t *arr, struct id_map **out, size_t *n, const char *what, berth_error_t *err)
{
  size_t i;
  if (arr == NULL)
    return 0;
  if (!json_is (arr, JSON_ARRAY))
    return berth_make_error (err, 0, "config.json: linux.%s must be an array", what);
  *out = calloc (arr->n + 1, sizeof **out);
  for (i = 0; i < arr->n; i++)
    if (get_u32 (arr->items[i], "containerID", what, &(*out)[i].container_id, true, err) < 0
        || get_u32 (arr->items[i], "hostID", what, &(*out)[i].host_id, true, err) < 0
        || get_u32 (arr->items[i], "size", what, &(*out)[i].size, true, err) < 0)
      return -1;
  *n = arr->n;
  return 0;
}

static bool
is_bind (const struct mount_spec *m)
{
  size_t i;
  if (m->type && strcmp (m->type, "bind") == 0)
    return true;
  for (i = 0; i < m->n_options; i++)
    if (strcmp (m->options[i], "bind") == 0 || strcmp (m->options[i], "rbind") == 0)
      return true;
  return false;
}

static int
parse_mounts (json_t *arr, const char *bundle, struct spec *spec, berth_error_t *err)
{
  size_t i;
  if (arr == NULL)
    return 0;
  if (!json_is (arr, JSON_ARRAY))
    return berth_make_error (err, 0, "config.json: mounts must be an array");
  spec->mounts = calloc (arr->n + 1, sizeof *spec->mounts);
  for (i = 0; i < arr->n; i++)
    {
      struct mount_spec *m = &spec->mounts[i];
      json_t *j = arr->items[i];
      m->destination = (char *) json_string (json_get (j, "destination"));
      if (m->destination == NULL || m->destination[0] != '/')
        return berth_make_error (err, 0, "config.json: mounts[%zu].destination must be an absolute path", i);
      m->type = (char *) json_string (json_get (j, "type"));
      m->source = (char *) json_string (json_get (j, "source"));
      m->options = string_array (json_get (j, "options"), &m->n_options, "mounts[].options", err);
      if (m->options == NULL)
        return -1;
      /* A relative bind source is relative to the bundle (made absolute here, in the
       * runtime's context: the container process may not be allowed into the bundle). */
      if (m->source && m->source[0] != '/' && bundle && is_bind (m))
        {
          char *abs = NULL;
          if (asprintf (&abs, "%s/%s", bundle, m->source) < 0)
            abort ();
          m->source = abs;
        }
    }
  spec->n_mounts = arr->n;
  return 0;
}

static int
parse_linux (json_t *linux_, struct spec *spec, berth_error_t *err)
{
  json_t *nss = json_get (linux_, "namespaces");
  size_t i;
  if (nss && !json_is (nss, JSON_ARRAY))
    return berth_make_error (err, 0, "config.json: linux.namespaces must be an array");
  if (nss)
    {
      spec->namespaces = calloc (nss->n + 1, sizeof *spec->namespaces);
      for (i = 0; i < nss->n; i++)
        {
          const char *type = json_string (json_get (nss->items[i], "type"));
          int flag = ns_flag (type);
          if (flag < 0)
            return berth_make_error (err, 0, "config.json: unknown namespace type `%s`", type ? type : "?");
          spec->namespaces[i].flag = flag;
          spec->namespaces[i].path = (char *) json_string (json_get (nss->items[i], "path"));
          if (spec->namespaces[i].path && spec->namespaces[i].path[0] == '\0')
            spec->namespaces[i].path = NULL;
        }
      spec->n_namespaces = nss->n;
    }
  if (parse_id_maps (json_get (linux_, "uidMappings"), &spec->uid_maps, &spec->n_uid_maps, "uidMappings", err) < 0
      || parse_id_maps (json_get (linux_, "gidMappings"), &spec->gid_maps, &spec->n_gid_maps, "gidMappings", err) < 0)
    return -1;
  spec->cgroups_path = (char *) json_string (json_get (linux_, "cgroupsPath"));
  spec->rootfs_propagation = (char *) json_string (json_get (linux_, "rootfsPropagation"));
  spec->resources = json_get (linux_, "resources");
  spec->seccomp = json_get (linux_, "seccomp");
  spec->sysctl = json_get (linux_, "sysctl");
  spec->devices = json_get (linux_, "devices");
  spec->masked_paths = string_array (json_get (linux_, "maskedPaths"), &spec->n_masked_paths, "linux.maskedPaths", err);
  if (spec->masked_paths == NULL)
    return -1;
  spec->readonly_paths
      = string_array (json_get (linux_, "readonlyPaths"), &spec->n_readonly_paths, "linux.readonlyPaths", err);
  if (spec->readonly_paths == NULL)
    return -1;
  return 0;
}

int
spec_parse (const char *text, size_t len, const char *bundle, struct spec *spec, berth_error_t *err)
{
  char msg[256];
  json_t *root, *linux_, *v;
  const char *path;

  memset (spec, 0, sizeof *spec);
  spec->doc = json_parse (text, len, msg, sizeof msg);
  if (spec->doc == NULL)
    return berth_make_error (err, 0, "config.json is not valid JSON: %s", msg);
  if (!json_is (spec->doc, JSON_OBJECT))
    return berth_make_error (err, 0, "config.json must hold a JSON object");
  if (!json_is (json_get (spec->doc, "ociVersion"), JSON_STRING))
    return berth_make_error (err, 0, "config.json: ociVersion is missing");
  root = json_get (spec->doc, "root");
  path = json_string (json_get (root, "path"));
  if (path == NULL || path[0] == '\0')
    return berth_make_error (err, 0, "config.json: root.path is missing");
  if (path[0] == '/' || bundle == NULL)
    spec->root_path = strdup (path);
  else if (asprintf (&spec->root_path, "%s/%s", bundle, path) < 0)
    abort ();
  v = json_get (root, "readonly");
  spec->root_readonly = json_is (v, JSON_BOOL) && v->boolean;
  spec->hostname = (char *) json_string (json_get (spec->doc, "hostname"));
  spec->domainname = (char *) json_string (json_get (spec->doc, "domainname"));
  if (parse_mounts (json_get (spec->doc, "mounts"), bundle, spec, err) < 0)
    return -1;
  v = json_get (spec->doc, "process");
  if (v == NULL)
    return berth_make_error (err, 0, "config.json: process is missing");
  if (spec_parse_process (v, &spec->process, err) < 0)
    return -1;
  linux_ = json_get (spec->doc, "linux");
  if (linux_ && parse_linux (linux_, spec, err) < 0)
    return -1;
  if (linux_ == NULL)
    {
      spec->masked_paths = calloc (1, sizeof (char *));
      spec->readonly_paths = calloc (1, sizeof (char *));
    }
  spec->hooks = json_get (spec->doc, "hooks");
  spec->annotations = json_get (spec->doc, "annotations");
  return 0;
}

const char *
spec_annotation (const struct spec *spec, const char *key)
{
  return json_string (json_get (spec->annotations, key));
}

const struct ns_spec *
spec_namespace (const struct spec *spec, int flag)
{
  size_t i;
  for (i = 0; i < spec->n_namespaces; i++)
    if (spec->namespaces[i].flag == flag)
      return &spec->namespaces[i];
  return NULL;
}

bool
spec_has_namespace (const struct spec *spec, int flag)
{
  return spec_namespace (spec, flag) != NULL;
}
