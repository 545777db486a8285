#include "signals.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  int sig;
} table[] = {
  { "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL }, { "TRAP", SIGTRAP },
  { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
  { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
  { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
  { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
  { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
  { "PWR", SIGPWR }, { "SYS", SIGSYS },
};

int
signal_from_name (const char *name)
{
  char *end;
  long n;
  size_t i;
  if (name == NULL || *name == '\0')
    return -1;
  n = strtol (name, &end, 10);
  if (*end == '\0')
    return (n > 0 && n < 65) ? (int) n : -1;
  if (strncasecmp (name, "SIG", 3) == 0)
    name += 3;
  for (i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcasecmp (name, table[i].name) == 0)
      return table[i].sig;
  if (strncasecmp (name, "RTMIN+", 6) == 0 && (n = strtol (name + 6, &end, 10)) >= 0 && *end == '\0')
    return SIGRTMIN + (int) n <= SIGRTMAX ? SIGRTMIN + (int) n : -1;
  return -1;
}
