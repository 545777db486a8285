#include "caps.h"
#include "fsutil.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const cap_names[] = {
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
  "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
  "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
  "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
  "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
  "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
};

int
cap_last_cap (void)
{
  static int last = -1;
  char *s;
  if (last >= 0)
    return last;
  last = (int) (sizeof cap_names / sizeof cap_names[0]) - 1;
  if (read_file ("/proc/sys/kernel/cap_last_cap", &s) > 0)
    {
      last = atoi (s);
      free (s);
    }
  return last;
}

int
cap_from_name (const char *name)
{
  size_t i;
  if (name == NULL)
    return -2;
  if (strncasecmp (name, "CAP_", 4) == 0)
    name += 4;
  for (i = 0; i < sizeof cap_names / sizeof cap_names[0]; i++)
    if (strcasecmp (name, cap_names[i]) == 0)
      return (int) i > cap_last_cap () ? -1 : (int) i;
  return -2;
}

static int
capset_sets (uint64_t eff, uint64_t perm, uint64_t inh)
{
  struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
  struct __user_cap_data_struct data[2];
  data[0].effective = (uint32_t) eff;
  data[1].effective = (uint32_t) (eff >> 32);
  data[0].permitted = (uint32_t) perm;
  data[1].permitted = (uint32_t) (perm >> 32);
  data[0].inheritable = (uint32_t) inh;
  data[1].inheritable = (uint32_t) (inh >> 32);
  return (int) syscall (SYS_capset, &hdr, data);
}

int
caps_apply_process (const struct process_spec *p, berth_error_t *err)
{
  int last = cap_last_cap ();
  int c;

  if (p->has_caps)
    {
      if (prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return berth_make_error (err, errno, "prctl PR_SET_KEEPCAPS");
      for (c = 0; c <= last; c++)
        if (!(p->caps.bounding & (1ULL << c)) && prctl (PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
          return berth_make_error (err, errno, "drop capability %d from the bounding set", c);
    }
  if (setgroups (p->n_additional_gids, p->additional_gids) < 0 && !(errno == EPERM && p->n_additional_gids == 0))
    return berth_make_error (err, errno, "setgroups");
  if (setresgid (p->gid, p->gid, p->gid) < 0)
    return berth_make_error (err, errno, "setgid %u", (unsigned) p->gid);
  if (setresuid (p->uid, p->uid, p->uid) < 0)
    return berth_make_error (err, errno, "setuid %u", (unsigned) p->uid);
  if (!p->has_caps)
    return 0;
  if (capset_sets (p->caps.effective, p->caps.permitted, p->caps.inheritable) < 0)
    return berth_make_error (err, errno, "capset");
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
    return berth_make_error (err, errno, "clear ambient capabilities");
  for (c = 0; c <= last; c++)
    if ((p->caps.ambient & (1ULL << c)) && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      /* runc also ignores ambient caps that are not in permitted and inheritable */
      berth_log_warning ("cannot raise ambient capability %d: %s", c, strerror (errno));
  return 0;
}
