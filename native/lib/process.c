#include "process.h"
#include "caps.h"
#include "monitor.h"
#include "rlimits.h"
#include "berth_seccomp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *
env_path (char **env)
{
  size_t i;
  for (i = 0; env && env[i]; i++)
    if (strncmp (env[i], "PATH=", 5) == 0)
      return env[i] + 5;
  return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

static int
lookup (const char *name, char **env, char *out, size_t len, berth_error_t *err)
{
  const char *path = env_path (env), *p;
  if (strchr (name, '/'))
    {
      if (access (name, X_OK) < 0)
        return berth_make_error (err, errno, "exec `%s`", name);
      snprintf (out, len, "%s", name);
      return 0;
    }
  for (p = path; p && *p;)
    {
      const char *colon = strchr (p, ':');
      size_t n = colon ? (size_t) (colon - p) : strlen (p);
      struct stat st;
      snprintf (out, len, "%.*s/%s", (int) n, n ? p : ".", name);
      if (stat (out, &st) == 0 && S_ISREG (st.st_mode) && access (out, X_OK) == 0)
        return 0;
      p = colon ? colon + 1 : NULL;
    }
  return berth_make_error (err, 0, "exec `%s`: executable file not found in $PATH", name);
}

int
process_prepare (const struct process_spec *p, struct berth_seccomp *seccomp, struct process_prepared *out,
                 berth_error_t *err)
{
  memset (out, 0, sizeof *out);
  if (p->umask >= 0)
    umask ((mode_t) p->umask);
  if (rlimits_apply (p, err) < 0)
    return -1;
  out->seccomp = seccomp;
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return berth_make_error (err, errno, "set no_new_privs");
  if (!p->no_new_privileges && out->seccomp)
    {
      if (seccomp_install (out->seccomp, err) < 0)
        return -1;
      out->seccomp = NULL;
    }
  if (caps_apply_process (p, err) < 0)
    return -1;
  if (chdir (p->cwd) < 0)
    return berth_make_error (err, errno, "chdir to cwd `%s` in the container", p->cwd);
  return lookup (p->args[0], p->env, out->exe, sizeof out->exe, err);
}

int
process_exec (const struct process_spec *p, struct process_prepared *pp, berth_error_t *err)
{
  if (seccomp_install (pp->seccomp, err) < 0)
    return -1;
  monitor_unblock_signals ();
  execve (pp->exe, p->args, p->env);
  return berth_make_error (err, errno, "exec `%s`", p->args[0]);
}
