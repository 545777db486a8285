#include "rlimits.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

static const struct { const char *name; int res; } table[] = {
  { "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_FSIZE", RLIMIT_FSIZE }, { "RLIMIT_DATA", RLIMIT_DATA },
  { "RLIMIT_STACK", RLIMIT_STACK }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_RSS", RLIMIT_RSS },
  { "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
  { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
  { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
  { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};

int
rlimit_from_name (const char *name)
{
  size_t i;
  for (i = 0; name && i < sizeof table / sizeof table[0]; i++)
    if (strcmp (name, table[i].name) == 0)
      return table[i].res;
  return -1;
}

int
rlimits_apply (const struct process_spec *p, berth_error_t *err)
{
  size_t i;
  for (i = 0; i < p->n_rlimits; i++)
    {
      struct rlimit cur, want;
      want.rlim_cur = p->rlimits[i].soft;
      want.rlim_max = p->rlimits[i].hard;
      if (setrlimit (p->rlimits[i].resource, &want) == 0)
        continue;
      if (errno != EPERM || getrlimit (p->rlimits[i].resource, &cur) < 0)
        return berth_make_error (err, errno, "setrlimit %d", p->rlimits[i].resource);
      if (want.rlim_max > cur.rlim_max)
        want.rlim_max = cur.rlim_max;
      if (want.rlim_cur > want.rlim_max)
        want.rlim_cur = want.rlim_max;
      if (setrlimit (p->rlimits[i].resource, &want) < 0)
        return berth_make_error (err, errno, "setrlimit %d", p->rlimits[i].resource);
    }
  return 0;
}
