/* One function per verb; each parses its own options and calls into lib/.
 * Return: the process exit code, or -1 with *err set (main prints it, exits 1). */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include "error.h"
#include <stdbool.h>

struct global_opts {
  const char *root;
};

/* Set by the helper in the fork that runs a verb: where a detached create or run
 * reports its monitor ready (see struct create_opts); -1 otherwise. */
extern int cli_ready_fd;

typedef int (*verb_fn) (struct global_opts *g, int argc, char **argv, berth_error_t *err);

int cmd_create (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_run (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_start (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_state (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_kill (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_delete (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_exec (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_list (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_features (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_pause (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_resume (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_update (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_ps (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_helper (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_unpack (struct global_opts *g, int argc, char **argv, berth_error_t *err);
int cmd_init (struct global_opts *g, int argc, char **argv, berth_error_t *err);

/* main (native/main.c) for a fork of the helper: argv as a command line would give it. */
int runtime_main (int argc, char **argv);

/* Shared by verbs that take exactly one ID after their options. */
int cli_one_id (int argc, char **argv, const char *verb, const char **id, berth_error_t *err);

#endif
