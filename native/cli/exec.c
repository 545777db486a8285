#include "cli.h"
#include "exec.h"
#include "fsutil.h"

#include <getopt.h>
#include <stdlib.h>

int
cmd_exec (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  enum { O_MONITOR = 256, O_EXIT_FILE, O_STDIN, O_STDIN_ONCE, O_NNP };
  static const struct option opts[] = {
    { "process", required_argument, NULL, 'p' }, { "tty", no_argument, NULL, 't' },
    { "detach", no_argument, NULL, 'd' }, { "pid-file", required_argument, NULL, 'P' },
    { "console-socket", required_argument, NULL, 'c' }, { "env", required_argument, NULL, 'e' },
    { "cwd", required_argument, NULL, 'w' }, { "user", required_argument, NULL, 'u' },
    { "cap", required_argument, NULL, 'C' }, { "no-new-privs", no_argument, NULL, O_NNP },
    { "monitor-socket", required_argument, NULL, O_MONITOR }, { "exit-file", required_argument, NULL, O_EXIT_FILE },
    { "stdin", no_argument, NULL, O_STDIN }, { "stdin-once", no_argument, NULL, O_STDIN_ONCE },
    { NULL, 0, NULL, 0 },
  };
  struct exec_opts o = { .root = g->root };
  int c, code = 0;

  o.env = calloc ((size_t) argc + 1, sizeof (char *));
  o.caps = calloc ((size_t) argc + 1, sizeof (char *));
  optind = 0;
  while ((c = getopt_long (argc, argv, "+p:tde:w:u:", opts, NULL)) != -1)
    switch (c)
      {
      case 'p': o.process_file = optarg; break;
      case 't': o.tty = true; break;
      case 'd': o.detach = true; break;
      case 'P': o.pid_file = optarg; break;
      case 'c': o.console_socket = optarg; break;
      case 'e': o.env[o.n_env++] = optarg; break;
      case 'w': o.cwd = optarg; break;
      case 'u': o.user = optarg; break;
      case 'C': o.caps[o.n_caps++] = optarg; break;
      case O_NNP: o.no_new_privs = true; break;
      case O_MONITOR: o.monitor_socket = optarg; break;
      case O_EXIT_FILE: o.exit_file = optarg; break;
      case O_STDIN: o.stdin_pipe = true; break;
      case O_STDIN_ONCE: o.stdin_once = true; break;
      default:
        return berth_make_error (err, 0, "usage: berth-runtime exec [--process FILE | ID CMD…] [--tty] [--detach] "
                                         "[--pid-file F] [--env K=V] [--cwd D] [--user U:G] [--cap C]");
      }
  if (optind >= argc)
    return berth_make_error (err, 0, "exec needs a container ID");
  o.id = argv[optind];
  o.exit_file = path_absolute (o.exit_file);
  o.monitor_socket = path_absolute (o.monitor_socket);
  o.args = argv + optind + 1;
  if (o.process_file && o.args[0])
    return berth_make_error (err, 0, "exec: give either --process FILE or a command, not both");
  cloexec_from (3);
  if (container_exec (&o, &code, err) < 0)
    return -1;
  return code;
}
