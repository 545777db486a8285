#include "cli.h"
#include "cgroup.h"
#include "fsutil.h"
#include "state.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

int
cmd_update (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  static const struct option opts[] = { { "resources", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 } };
  const char *file = NULL, *id;
  struct container_state st;
  struct cgroup cg;
  char *text, msg[128];
  ssize_t len;
  json_t *j;
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+r:", opts, NULL)) != -1)
    if (c == 'r')
      file = optarg;
    else
      return berth_make_error (err, 0, "usage: berth-runtime update --resources FILE|- ID");
  if (file == NULL)
    return berth_make_error (err, 0, "update needs --resources FILE (linux.resources JSON; `-` reads stdin)");
  if (cli_one_id (argc, argv, "update", &id, err) < 0 || state_read (g->root, id, &st, err) < 0)
    return -1;
  if (strcmp (state_status (&st, g->root), "stopped") == 0)
    return berth_make_error (err, 0, "cannot update container `%s`: it is stopped", id);
  len = strcmp (file, "-") == 0 ? read_file ("/dev/stdin", &text) : read_file (file, &text);
  if (len < 0)
    return berth_make_error (err, errno, "read `%s`", file);
  j = json_parse (text, (size_t) len, msg, sizeof msg);
  if (j == NULL)
    return berth_make_error (err, 0, "resources `%s` are not valid JSON: %s", file, msg);
  if (cgroup_init (&cg, st.cgroups_path, id, err) < 0)
    return -1;
  if (cg.v2 && json_get (j, "devices"))
    return berth_make_error (err, 0, "update: device rules cannot be changed on cgroup v2 yet; recreate the container");
  return cgroup_apply_resources (&cg, j, err) < 0 ? -1 : 0;
}
