#ifndef BERTH_SIGNALS_H
#define BERTH_SIGNALS_H

/* "KILL", "SIGKILL", "sigkill" or "9" → 9; -1 when unknown. */
int signal_from_name (const char *name);

#endif
