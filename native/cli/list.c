#include "cli.h"
#include "jsonw.h"
#include "state.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

int
cmd_list (struct global_opts *g, int argc, char **argv, berth_error_t *err)
{
  static const struct option opts[] = { { "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
                                        { NULL, 0, NULL, 0 } };
  bool json = false, quiet = false, first = true;
  struct jsonw w;
  struct dirent *de;
  DIR *d;
  int c;

  optind = 0;
  while ((c = getopt_long (argc, argv, "+f:q", opts, NULL)) != -1)
    if (c == 'f' && (strcmp (optarg, "json") == 0 || strcmp (optarg, "table") == 0))
      json = strcmp (optarg, "json") == 0;
    else if (c == 'q')
      quiet = true;
    else
      return berth_make_error (err, 0, "usage: berth-runtime list [--format table|json] [--quiet]");
  jsonw_init (&w);
  if (json)
    jsonw_raw (&w, "[");
  else if (!quiet)
    jsonw_raw (&w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\n");
  d = opendir (g->root);
  while (d && (de = readdir (d)) != NULL)
    {
      struct container_state st;
      const char *status;
      if (de->d_name[0] == '.' || state_read (g->root, de->d_name, &st, NULL) < 0)
        continue;
      status = state_status (&st, g->root);
      if (json)
        {
          if (!first)
            jsonw_raw (&w, ",");
          state_oci_json (&st, status, &w);
        }
      else if (quiet)
        jsonw_fmt (&w, "%s\n", st.id);
      else
        jsonw_fmt (&w, "%s\t%d\t%s\t%s\t%s\n", st.id, strcmp (status, "stopped") ? (int) st.pid : 0, status,
                   st.bundle, st.created);
      first = false;
    }
  if (d)
    closedir (d);
  if (json)
    jsonw_raw (&w, "]\n");
  fputs (w.buf, stdout);
  jsonw_free (&w);
  return 0;
}
