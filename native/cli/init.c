#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A minimal pid 1 (docker --init): runs CMD, forwards signals to it, reaps every
 * zombie, and exits with CMD's status (128+N when killed by signal N). */
int
cmd_init (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  sigset_t all, old;
  pid_t child;
  int i = 1;
  (void) g;
  if (i < argc && strcmp (argv[i], "--") == 0)
    i++;
  if (i >= argc)
    return berth_make_error (err, 0, "usage: berth-runtime init [--] CMD [ARG…]");
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  /* Orphans of a container without its own pid namespace come to us too. */
  prctl (PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  child = fork ();
  if (child < 0)
    return berth_make_error (err, errno, "fork");
  if (child == 0)
    {
      sigprocmask (SIG_SETMASK, &old, NULL);
      setpgid (0, 0);
      if (isatty (0))
        tcsetpgrp (0, getpid ());
      execvp (argv[i], argv + i);
      berth_make_error (err, errno, "exec `%s`", argv[i]);
      return -1;
    }
  for (;;)
    {
      siginfo_t si;
      int sig = sigwaitinfo (&all, &si);
      if (sig < 0)
        continue;
      if (sig != SIGCHLD)
        {
          kill (child, sig);
          continue;
        }
      for (;;)
        {
          int st;
          pid_t p = waitpid (-1, &st, WNOHANG);
          if (p <= 0)
            break;
          if (p == child)
            return WIFEXITED (st) ? WEXITSTATUS (st) : 128 + WTERMSIG (st);
        }
    }
}
