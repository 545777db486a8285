/* docker's json-file log format, written by the monitor: one JSON object per line of
 * output, {"log":"…","stream":"stdout|stderr","time":"RFC3339Nano"}, with rotation. */
#ifndef BERTH_LOGFILE_H
#define BERTH_LOGFILE_H

#include "error.h"
#include <stddef.h>

struct logfile;

struct logfile *logfile_open (const char *path, long long max_size, int max_file, berth_error_t *err);
/* stream: 1 stdout, 2 stderr. Complete lines are written at once, a partial line
 * waits for its end (up to 16 KiB, like docker). */
void logfile_write (struct logfile *lf, int stream, const char *data, size_t len);
void logfile_flush (struct logfile *lf);

#endif
