#include "cli.h"
#include "fsutil.h"
#include "lifecycle.h"

#include <stdlib.h>

#include <getopt.h>
#include <string.h>

int cli_ready_fd = -1;

/* create and run share their options; run adds --detach and starts right away. */
static int
create_or_run (struct global_opts *g, int argc, char **argv, bool run, berth_error_t *err)
{
  static const struct option opts[] = {
    { "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' },
    { "console-socket", required_argument, NULL, 'c' }, { "detach", no_argument, NULL, 'd' },
    { "no-pivot", no_argument, NULL, 'P' }, { "no-new-keyring", no_argument, NULL, 'K' },
    { "preserve-fds", required_argument, NULL, 'F' }, { "keep", no_argument, NULL, 'k' },
    { NULL, 0, NULL, 0 },
  };
  struct create_opts o = { .root = g->root, .bundle = ".", .start = run, .detach = !run };
  unsigned preserve = 0;
  int c, code = 0;
  optind = 0;
  while ((c = getopt_long (argc, argv, "+b:p:c:d", opts, NULL)) != -1)
    switch (c)
      {
      case 'b': o.bundle = optarg; break;
      case 'p': o.pid_file = optarg; break;
      case 'c': o.console_socket = optarg; break;
      case 'd':
        if (run)
          o.detach = true;
        break;
      case 'F': preserve = (unsigned) atoi (optarg); break;
      case 'P': case 'K': case 'k': break; /* accepted for runc compatibility */
      default:
        return berth_make_error (err, 0, "usage: berth-runtime %s [--bundle DIR] [--pid-file F] [--console-socket S]%s ID",
                                 run ? "run" : "create", run ? " [--detach]" : "");
      }
  if (optind != argc - 1)
    return berth_make_error (err, 0, "%s needs exactly one container ID", run ? "run" : "create");
  o.id = argv[optind];
  o.ready_fd = o.detach ? cli_ready_fd : -1;
  cloexec_from (3 + preserve);
  if (container_create (&o, &code, err) < 0)
    return -1;
  return code;
}

int
cmd_create (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  return create_or_run (g, argc, argv, false, err);
}

int
cmd_run (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  return create_or_run (g, argc, argv, true, err);
}

int
cli_one_id (int argc, char **argv, const char *verb, const char **id, berth_error_t *err)
{
  if (optind != argc - 1)
    return berth_make_error (err, 0, "%s needs exactly one container ID", verb);
  *id = argv[optind];
  return 0;
}
