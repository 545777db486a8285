#ifndef BERTH_CRASHPOINT_H
#define BERTH_CRASHPOINT_H

/* Test-only fault injection: with BERTH_RUNTIME_CRASH_AT=DIR in the environment, a
 * process that reaches STEP kills itself with SIGKILL if it can remove the file
 * DIR/STEP, so a test arms one crash at a step by creating that file, and it happens
 * once across all the runtime's processes. Unset, it is a getenv and nothing else.
 * The steps are listed in crashpoint.c. */
void crash_point (const char *step);

#endif
