#include "state.h"
#include "cgroup.h"
#include "fsutil.h"
#include "jsonw.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
state_validate_id (const char *id, berth_error_t *err)
{
  size_t i, n = strlen (id);
  if (n == 0 || n > 200 || id[0] == '.' || id[0] == '-')
    return berth_make_error (err, 0, "invalid container ID `%s`: use letters, digits, `_`, `.` and `-`", id);
  for (i = 0; i < n; i++)
    {
      char c = id[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.'
            || c == '-' || c == '+'))
        return berth_make_error (err, 0, "invalid container ID `%s`: use letters, digits, `_`, `.` and `-`", id);
    }
  return 0;
}

void
state_dir (const char *root, const char *id, char *buf, size_t len)
{
  snprintf (buf, len, "%s/%s", root, id);
}

int
state_write (const char *root, const struct container_state *st, berth_error_t *err)
{
  struct jsonw w;
  char path[4400];
  int ret;
  jsonw_init (&w);
  jsonw_raw (&w, "{\"id\":");
  jsonw_str (&w, st->id);
  jsonw_fmt (&w, ",\"pid\":%d,\"pidStart\":%llu,\"monitorPid\":%d,\"monitorStart\":%llu,\"bundle\":", (int) st->pid,
             st->pid_start, (int) st->monitor_pid, st->monitor_start);
  jsonw_str (&w, st->bundle);
  jsonw_raw (&w, ",\"rootfs\":");
  jsonw_str (&w, st->rootfs);
  jsonw_raw (&w, ",\"socket\":");
  jsonw_str (&w, st->socket);
  jsonw_raw (&w, ",\"cgroupsPath\":");
  jsonw_str (&w, st->cgroups_path);
  jsonw_raw (&w, ",\"created\":");
  jsonw_str (&w, st->created);
  jsonw_raw (&w, ",\"startedAt\":");
  jsonw_str (&w, st->started_at);
  jsonw_raw (&w, "}\n");
  snprintf (path, sizeof path, "%s/%s/state.json", root, st->id);
  ret = write_file_atomic (path, w.buf, w.len, err);
  jsonw_free (&w);
  return ret;
}

static void
copy_str (char *dst, size_t len, json_t *obj, const char *key)
{
  const char *s = json_string (json_get (obj, key));
  snprintf (dst, len, "%s", s ? s : "");
}

int
state_read (const char *root, const char *id, struct container_state *st, berth_error_t *err)
{
  char path[4400], msg[128], *text;
  json_t *j;
  int64_t v;
  ssize_t len;

  memset (st, 0, sizeof *st);
  if (state_validate_id (id, err) < 0)
    return -1;
  snprintf (path, sizeof path, "%s/%s/state.json", root, id);
  len = read_file (path, &text);
  if (len < 0)
    {
      if (errno == ENOENT)
        return berth_make_error (err, 0, "container `%s` does not exist", id);
      return berth_make_error (err, errno, "read `%s`", path);
    }
  j = json_parse (text, (size_t) len, msg, sizeof msg);
  if (j == NULL)
    return berth_make_error (err, 0, "state of container `%s` is corrupt: %s", id, msg);
  snprintf (st->id, sizeof st->id, "%s", id);
  copy_str (st->bundle, sizeof st->bundle, j, "bundle");
  copy_str (st->rootfs, sizeof st->rootfs, j, "rootfs");
  copy_str (st->socket, sizeof st->socket, j, "socket");
  copy_str (st->cgroups_path, sizeof st->cgroups_path, j, "cgroupsPath");
  copy_str (st->created, sizeof st->created, j, "created");
  copy_str (st->started_at, sizeof st->started_at, j, "startedAt");
  if (json_int64 (json_get (j, "pid"), &v))
    st->pid = (pid_t) v;
  if (json_int64 (json_get (j, "monitorPid"), &v))
    st->monitor_pid = (pid_t) v;
  json_uint64 (json_get (j, "pidStart"), (uint64_t *) &st->pid_start);
  json_uint64 (json_get (j, "monitorStart"), (uint64_t *) &st->monitor_start);
  free (text);

  snprintf (path, sizeof path, "%s/%s/exit.json", root, id);
  if ((len = read_file (path, &text)) > 0 && (j = json_parse (text, (size_t) len, msg, sizeof msg)) != NULL)
    {
      json_t *oom = json_get (j, "oomKilled");
      st->exited = true;
      if (json_int64 (json_get (j, "exitCode"), &v))
        st->exit_code = (int) v;
      copy_str (st->finished_at, sizeof st->finished_at, j, "finishedAt");
      st->oom_killed = json_is (oom, JSON_BOOL) && oom->boolean;
      free (text);
    }
  snprintf (path, sizeof path, "%s/%s/config.json", root, id);
  if ((len = read_file (path, &text)) > 0 && (j = json_parse (text, (size_t) len, msg, sizeof msg)) != NULL)
    st->annotations = json_get (j, "annotations");
  return 0;
}

int
state_write_exit_file (const char *path, int code, const char *finished_at, bool oom, berth_error_t *err)
{
  struct jsonw w;
  int ret;
  jsonw_init (&w);
  jsonw_fmt (&w, "{\"exitCode\":%d,\"finishedAt\":", code);
  jsonw_str (&w, finished_at);
  jsonw_fmt (&w, ",\"oomKilled\":%s}\n", oom ? "true" : "false");
  ret = write_file_atomic (path, w.buf, w.len, err);
  jsonw_free (&w);
  return ret;
}

unsigned long long
proc_start_time (pid_t pid)
{
  char path[64], *text, *p;
  unsigned long long start = 0;
  int field;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (read_file (path, &text) < 0)
    return 0;
  /* Field 22; the command name (field 2) may hold spaces, so count after its ')'. */
  p = strrchr (text, ')');
  for (field = 2; p && *p && field < 22; p++)
    if (*p == ' ')
      field++;
  if (p)
    start = strtoull (p, NULL, 10);
  free (text);
  return start;
}

bool
state_pid_alive (pid_t pid, unsigned long long start)
{
  char path[64], *text;
  bool zombie = false;
  if (pid <= 0 || kill (pid, 0) < 0)
    return false;
  if (start && proc_start_time (pid) != start)
    return false;
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (read_file (path, &text) >= 0)
    {
      char *p = strrchr (text, ')');
      zombie = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
      free (text);
    }
  return !zombie;
}

const char *
state_status (const struct container_state *st, const char *root)
{
  struct cgroup cg;
  if (st->exited)
    return "stopped";
  if (!state_pid_alive (st->pid, st->pid_start))
    {
      /* Dead, but its monitor is still recording the exit: stopped once exit.json is
       * there, so that a stopped state always carries its exit code. */
      if (st->monitor_pid > 0 && st->monitor_pid != getpid () && state_pid_alive (st->monitor_pid, st->monitor_start))
        return st->started_at[0] ? "running" : "created";
      return "stopped";
    }
  if (st->started_at[0] == '\0')
    return "created";
  if (cgroup_init (&cg, st->cgroups_path, st->id, NULL) == 0 && cgroup_is_frozen (&cg))
    return "paused";
  (void) root;
  return "running";
}

void
state_oci_json (const struct container_state *st, const char *status, struct jsonw *w)
{
  size_t i;
  jsonw_raw (w, "{\"ociVersion\":\"1.2.0\",\"id\":");
  jsonw_str (w, st->id);
  jsonw_raw (w, ",\"status\":");
  jsonw_str (w, status);
  jsonw_fmt (w, ",\"pid\":%d,\"bundle\":", strcmp (status, "stopped") == 0 ? 0 : (int) st->pid);
  jsonw_str (w, st->bundle);
  jsonw_raw (w, ",\"rootfs\":");
  jsonw_str (w, st->rootfs);
  jsonw_raw (w, ",\"created\":");
  jsonw_str (w, st->created);
  if (st->started_at[0])
    {
      jsonw_raw (w, ",\"startedAt\":");
      jsonw_str (w, st->started_at);
    }
  if (st->exited)
    {
      jsonw_fmt (w, ",\"exitCode\":%d,\"oomKilled\":%s,\"finishedAt\":", st->exit_code,
                 st->oom_killed ? "true" : "false");
      jsonw_str (w, st->finished_at);
    }
  jsonw_raw (w, ",\"annotations\":{");
  for (i = 0; st->annotations && i < st->annotations->n; i++)
    {
      if (i)
        jsonw_raw (w, ",");
      jsonw_str (w, st->annotations->items[i]->key);
      jsonw_raw (w, ":");
      jsonw_str (w, json_string (st->annotations->items[i]) ? json_string (st->annotations->items[i]) : "");
    }
  jsonw_raw (w, "}}");
}
