#include "hooks.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

bool
hooks_present (json_t *hooks, const char *kind)
{
  json_t *list = json_get (hooks, kind);
  return json_is (list, JSON_ARRAY) && list->n > 0;
}

static char **
strings (json_t *arr, const char *first)
{
  size_t i, n = arr ? arr->n : 0;
  char **out = calloc (n + 2, sizeof (char *));
  size_t o = 0;
  if (n == 0 && first)
    out[o++] = (char *) first;
  for (i = 0; i < n; i++)
    if (json_string (arr->items[i]))
      out[o++] = arr->items[i]->str;
  return out;
}

static int
run_one (json_t *hook, const char *kind, const char *state_json, berth_error_t *err)
{
  const char *path = json_string (json_get (hook, "path"));
  char **argv, **envp;
  int64_t timeout = -1;
  int in[2], status, pidfd;
  pid_t pid;

  if (path == NULL)
    return berth_make_error (err, 0, "config.json: a %s hook has no path", kind);
  argv = strings (json_get (hook, "args"), path);
  envp = strings (json_get (hook, "env"), NULL);
  json_int64 (json_get (hook, "timeout"), &timeout);
  if (pipe2 (in, O_CLOEXEC) < 0)
    return berth_make_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    return berth_make_error (err, errno, "fork");
  if (pid == 0)
    {
      sigset_t none;
      sigemptyset (&none);
      sigprocmask (SIG_SETMASK, &none, NULL);
      signal (SIGPIPE, SIG_DFL);
      dup2 (in[0], 0);
      execve (path, argv, envp);
      _exit (127);
    }
  close (in[0]);
  signal (SIGPIPE, SIG_IGN);
  /* A hook may ignore its stdin: a failed write is not the hook's failure. */
  (void) write_all (in[1], state_json, strlen (state_json));
  close (in[1]);
  free (argv);
  free (envp);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd >= 0 && timeout > 0)
    {
      struct pollfd p = { .fd = pidfd, .events = POLLIN };
      if (poll (&p, 1, (int) (timeout * 1000)) == 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          close (pidfd);
          return berth_make_error (err, 0, "%s hook `%s` timed out after %llds", kind, path, (long long) timeout);
        }
    }
  if (pidfd >= 0)
    close (pidfd);
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return berth_make_error (err, errno, "wait for %s hook `%s`", kind, path);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    return berth_make_error (err, 0, "%s hook `%s` failed with exit status %d", kind, path, WEXITSTATUS (status));
  return berth_make_error (err, 0, "%s hook `%s` killed by signal %d", kind, path, WTERMSIG (status));
}

int
hooks_run (json_t *hooks, const char *kind, const char *state_json, berth_error_t *err)
{
  json_t *list = json_get (hooks, kind);
  size_t i;
  for (i = 0; json_is (list, JSON_ARRAY) && i < list->n; i++)
    if (run_one (list->items[i], kind, state_json, err) < 0)
      return -1;
  return 0;
}
