#include "berth_seccomp.h"
#include "seccomp_cache.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The compiled program, ready for seccomp(2): built (or taken from the cache) by the
 * runtime before it forks the container process, which inherits it in memory. */
struct berth_seccomp {
  struct sock_filter *prog;
  size_t len;
  unsigned flags; /* SECCOMP_FILTER_FLAG_* from linux.seccomp.flags */
};

static int
parse_action (const char *name, json_t *errno_ret, uint32_t *out, berth_error_t *err)
{
  uint64_t e = EPERM;
  if (name == NULL)
    return berth_make_error (err, 0, "config.json: seccomp action is missing");
  if (errno_ret && !json_uint64 (errno_ret, &e))
    return berth_make_error (err, 0, "config.json: seccomp errnoRet must be an integer");
  if (strcmp (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (strcmp (name, "SCMP_ACT_KILL") == 0 || strcmp (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (strcmp (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (strcmp (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (strcmp (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO ((uint32_t) e);
  else if (strcmp (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE ((uint32_t) e);
  else if (strcmp (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else
    return berth_make_error (err, 0, "config.json: unsupported seccomp action `%s`", name);
  return 0;
}

static int
parse_op (const char *name, enum scmp_compare *op)
{
  static const struct { const char *n; enum scmp_compare op; } ops[] = {
    { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
    { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
    { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
  };
  size_t i;
  for (i = 0; name && i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp (name, ops[i].n) == 0)
      {
        *op = ops[i].op;
        return 0;
      }
  return -1;
}

static int
add_arches (scmp_filter_ctx ctx, json_t *arches, berth_error_t *err)
{
  size_t i;
  for (i = 0; arches && i < arches->n; i++)
    {
      const char *name = json_string (arches->items[i]);
      char lower[32];
      uint32_t arch;
      size_t k;
      int ret;
      if (name == NULL)
        continue;
      if (strncmp (name, "SCMP_ARCH_", 10) == 0)
        name += 10;
      for (k = 0; name[k] && k < sizeof lower - 1; k++)
        lower[k] = (char) (name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
      lower[k] = '\0';
      arch = seccomp_arch_resolve_name (lower);
      if (arch == 0)
        return berth_make_error (err, 0, "config.json: unknown seccomp architecture `%s`", name);
      ret = seccomp_arch_add (ctx, arch);
      if (ret < 0 && ret != -EEXIST)
        return berth_make_error (err, -ret, "seccomp: add architecture %s", name);
    }
  return 0;
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t action, int nr, json_t *args, const char *name, berth_error_t *err)
{
  struct scmp_arg_cmp cmps[6];
  unsigned n = 0, seen = 0;
  bool split = false;
  size_t i;
  int ret;
  for (i = 0; args && i < args->n && n < 6; i++)
    {
      uint64_t idx = 0, value = 0, two = 0;
      enum scmp_compare op;
      json_t *a = args->items[i];
      if (!json_uint64 (json_get (a, "index"), &idx) || idx > 5 || !json_uint64 (json_get (a, "value"), &value)
          || parse_op (json_string (json_get (a, "op")), &op) < 0)
        return berth_make_error (err, 0, "config.json: bad seccomp argument rule for `%s`", name);
      json_uint64 (json_get (a, "valueTwo"), &two);
      if (seen & (1u << idx))
        split = true;
      seen |= 1u << idx;
      cmps[n].arg = (unsigned) idx;
      cmps[n].op = op;
      cmps[n].datum_a = value;
      cmps[n].datum_b = two;
      n++;
    }
  /* libseccomp cannot AND two conditions on the same argument: runc adds them as
   * separate rules (an OR), and so do we to stay compatible. */
  if (split)
    {
      for (i = 0; i < n; i++)
        if ((ret = seccomp_rule_add_array (ctx, action, nr, 1, &cmps[i])) < 0)
          return berth_make_error (err, -ret, "seccomp: add rule for `%s`", name);
      return 0;
    }
  ret = seccomp_rule_add_array (ctx, action, nr, n, cmps);
  if (ret < 0)
    return berth_make_error (err, -ret, "seccomp: add rule for `%s`", name);
  return 0;
}

/* linux.seccomp into a libseccomp context (a cache miss). */
static int
compile (json_t *spec, void **out, berth_error_t *err)
{
  uint32_t def;
  json_t *syscalls;
  scmp_filter_ctx ctx;
  size_t i, k;

  if (parse_action (json_string (json_get (spec, "defaultAction")), json_get (spec, "defaultErrnoRet"), &def, err) < 0)
    return -1;
  ctx = seccomp_init (def);
  if (ctx == NULL)
    return berth_make_error (err, 0, "seccomp_init failed");
  /* no_new_privs is set by the runtime only when the spec asks for it. */
  seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (add_arches (ctx, json_get (spec, "architectures"), err) < 0)
    goto fail;
  syscalls = json_get (spec, "syscalls");
  for (i = 0; syscalls && i < syscalls->n; i++)
    {
      json_t *rule = syscalls->items[i];
      json_t *names = json_get (rule, "names");
      uint32_t action;
      if (parse_action (json_string (json_get (rule, "action")), json_get (rule, "errnoRet"), &action, err) < 0)
        goto fail;
      if (action == def)
        continue; /* libseccomp refuses rules equal to the default action */
      for (k = 0; names && k < names->n; k++)
        {
          const char *name = json_string (names->items[k]);
          int nr = name ? seccomp_syscall_resolve_name (name) : __NR_SCMP_ERROR;
          if (nr == __NR_SCMP_ERROR)
            continue; /* unknown on this architecture, as runc does */
          if (add_rule (ctx, action, nr, json_get (rule, "args"), name, err) < 0)
            goto fail;
        }
    }
  *out = ctx;
  return 0;
fail:
  seccomp_release (ctx);
  return -1;
}

/* The flags runc passes on; others are ignored, as before. */
static int
parse_flags (json_t *flags, unsigned *out, berth_error_t *err)
{
  size_t i;
  *out = 0;
  for (i = 0; flags && i < flags->n; i++)
    {
      const char *name = json_string (flags->items[i]);
      if (name == NULL)
        return berth_make_error (err, 0, "config.json: seccomp flags must be strings");
      if (strcmp (name, "SECCOMP_FILTER_FLAG_LOG") == 0)
        *out |= SECCOMP_FILTER_FLAG_LOG;
      else if (strcmp (name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
        *out |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    }
  return 0;
}

int
seccomp_prepare (json_t *spec, const char *root, struct berth_seccomp **out, berth_error_t *err)
{
  struct berth_seccomp f;
  *out = NULL;
  if (spec == NULL)
    return 0;
  if (parse_flags (json_get (spec, "flags"), &f.flags, err) < 0
      || seccomp_cache_get (spec, root, compile, &f.prog, &f.len, err) < 0)
    return -1;
  *out = malloc (sizeof **out);
  if (*out == NULL)
    {
      free (f.prog);
      return berth_make_error (err, ENOMEM, "seccomp");
    }
  **out = f;
  return 0;
}

/* What seccomp_load does (libseccomp sets no_new_privs itself only when asked: we
 * turn that off and leave it to process_prepare). */
int
seccomp_install (struct berth_seccomp *f, berth_error_t *err)
{
  struct sock_fprog prog;
  if (f == NULL)
    return 0;
  prog.len = (unsigned short) f->len;
  prog.filter = f->prog;
  if (syscall (SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) < 0)
    {
      if (errno != ENOSYS || f->flags != 0 || prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return berth_make_error (err, errno, "load the seccomp filter");
    }
  return 0;
}

void
seccomp_free (struct berth_seccomp *f)
{
  if (f)
    free (f->prog);
  free (f);
}
