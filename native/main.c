/* berth-runtime: the runc command line over lib/. Global options come before the verb. */
#include "cli/cli.h"
#include "error.h"
#include "fsutil.h"
#include "selfclone.h"
#include "state.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* enters: the verb starts processes in a container, so it runs from a sealed copy. The
 * helper does too: it forks the runtime's verbs (`runtime` requests) without an exec, so
 * every monitor and container process it starts is a fork of that copy. */
static const struct {
  const char *name;
  verb_fn fn;
  bool enters;
} verbs[] = {
  { "create", cmd_create, true }, { "start", cmd_start, false }, { "run", cmd_run, true },
  { "state", cmd_state, false }, { "kill", cmd_kill, false }, { "delete", cmd_delete, false },
  { "exec", cmd_exec, true }, { "list", cmd_list, false }, { "features", cmd_features, false },
  { "pause", cmd_pause, false }, { "resume", cmd_resume, false }, { "update", cmd_update, false },
  { "ps", cmd_ps, false }, { "init", cmd_init, false }, { "helper", cmd_helper, true },
  { "unpack", cmd_unpack, false },
};

static void
usage (FILE *f)
{
  size_t i;
  fprintf (f, "usage: berth-runtime [--root DIR] [--log FILE] [--log-format text|json] COMMAND [ARG…]\ncommands:");
  for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    fprintf (f, " %s", verbs[i].name);
  fprintf (f, "\n");
}

int
runtime_main (int argc, char **argv)
{
  static const struct option opts[] = {
    { "root", required_argument, NULL, 'r' }, { "log", required_argument, NULL, 'l' },
    { "log-format", required_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'D' },
    { "systemd-cgroup", no_argument, NULL, 's' }, { "version", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
  };
  struct global_opts g = { .root = BERTH_DEFAULT_ROOT };
  const char *log = NULL, *base = strrchr (argv[0], '/');
  berth_error_t err = NULL;
  bool json = false;
  size_t i;
  int c, ret;

  base = base ? base + 1 : argv[0];
  optind = 0; /* a helper's fork comes here with getopt's state from the helper's own call */
  if (strcmp (base, "docker-init") == 0)
    {
      ret = cmd_init (&g, argc, argv, &err);
      if (ret < 0)
        berth_error_report (&err);
      return ret < 0 ? 1 : ret;
    }
  while ((c = getopt_long (argc, argv, "+vh", opts, NULL)) != -1)
    switch (c)
      {
      case 'r': g.root = optarg; break;
      case 'l': log = optarg; break;
      case 'f':
        if (strcmp (optarg, "json") != 0 && strcmp (optarg, "text") != 0)
          {
            fprintf (stderr, "berth-runtime: --log-format must be text or json, not `%s`\n", optarg);
            return 1;
          }
        json = strcmp (optarg, "json") == 0;
        break;
      case 'D': break;
      case 's':
        fprintf (stderr, "berth-runtime: --systemd-cgroup is not supported: use cgroupfs paths like /berth/ID\n");
        return 1;
      case 'v': printf ("berth-runtime version %s\nspec: 1.2.0\n", BERTH_VERSION); return 0;
      case 'h': usage (stdout); return 0;
      default: usage (stderr); return 1;
      }
  /* Monitors leave the caller's working directory, so that they never pin a mount:
   * the paths they keep using must not be relative to it. */
  g.root = path_absolute (g.root);
  berth_log_init (path_absolute (log), json);
  if (optind >= argc)
    {
      berth_make_error (&err, 0, "no command given: use one of create, start, run, state, kill, delete, exec, list");
      berth_error_report (&err);
      return 1;
    }
  for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp (argv[optind], verbs[i].name) == 0)
      {
        if (verbs[i].enters && selfclone_ensure (argv, &err) < 0)
          {
            berth_error_report (&err);
            return 1;
          }
        ret = verbs[i].fn (&g, argc - optind, argv + optind, &err);
        if (ret < 0)
          {
            berth_error_report (&err);
            return 1;
          }
        return ret;
      }
  berth_make_error (&err, 0, "unknown command `%s`: see berth-runtime --help", argv[optind]);
  berth_error_report (&err);
  return 1;
}

int
main (int argc, char **argv)
{
  return runtime_main (argc, argv);
}
