#include "devices_bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The program sees struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
 * in R1, access_type = (access << 16) | type. Registers: R2 type, R3 access, R4 major,
 * R5 minor. Rules are emitted last first, and the first that matches decides, so the
 * last matching rule of the list wins, as with the v1 files. No match: deny. */

struct prog {
  struct bpf_insn *insns;
  size_t n, cap;
};

static void
emit (struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->cap)
    {
      p->cap = p->cap ? p->cap * 2 : 64;
      p->insns = realloc (p->insns, p->cap * sizeof *p->insns);
      if (p->insns == NULL)
        abort ();
    }
  memset (&p->insns[p->n], 0, sizeof p->insns[p->n]);
  p->insns[p->n].code = code;
  p->insns[p->n].dst_reg = dst & 0xf;
  p->insns[p->n].src_reg = src & 0xf;
  p->insns[p->n].off = off;
  p->insns[p->n].imm = imm;
  p->n++;
}

struct rule {
  int type;  /* 0 any, else BPF_DEVCG_DEV_CHAR / BPF_DEVCG_DEV_BLOCK */
  int access; /* BPF_DEVCG_ACC_* bits */
  long major, minor; /* -1: any */
  int allow;
};

static int
parse_rule_text (const char *text, struct rule *r)
{
  char type, maj[24], min[24], acc[8];
  size_t i;
  if (sscanf (text, "%c %23[^:]:%23s %7s", &type, maj, min, acc) != 4)
    return -1;
  r->type = type == 'c' ? BPF_DEVCG_DEV_CHAR : type == 'b' ? BPF_DEVCG_DEV_BLOCK : 0;
  r->major = strcmp (maj, "*") == 0 ? -1 : atol (maj);
  r->minor = strcmp (min, "*") == 0 ? -1 : atol (min);
  r->access = 0;
  for (i = 0; acc[i]; i++)
    r->access |= acc[i] == 'r' ? BPF_DEVCG_ACC_READ : acc[i] == 'w' ? BPF_DEVCG_ACC_WRITE : acc[i] == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  r->allow = 1;
  return 0;
}

static void
parse_rule_json (json_t *d, struct rule *r)
{
  const char *type = json_string (json_get (d, "type"));
  const char *acc = json_string (json_get (d, "access"));
  json_t *allow = json_get (d, "allow");
  int64_t v;
  size_t i;
  r->type = type && type[0] == 'c' ? BPF_DEVCG_DEV_CHAR : type && type[0] == 'b' ? BPF_DEVCG_DEV_BLOCK : 0;
  r->major = json_int64 (json_get (d, "major"), &v) && v >= 0 ? v : -1;
  r->minor = json_int64 (json_get (d, "minor"), &v) && v >= 0 ? v : -1;
  if (acc == NULL)
    acc = "rwm";
  r->access = 0;
  for (i = 0; acc[i]; i++)
    r->access |= acc[i] == 'r' ? BPF_DEVCG_ACC_READ : acc[i] == 'w' ? BPF_DEVCG_ACC_WRITE : acc[i] == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
  r->allow = json_is (allow, JSON_BOOL) && allow->boolean;
}

/* One rule: jumps to the end of its own block when it does not match. */
static void
emit_rule (struct prog *p, const struct rule *r)
{
  const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  int16_t len = 2 + (r->type ? 1 : 0) + ((r->access & all) != all ? 3 : 0) + (r->major >= 0 ? 1 : 0)
                + (r->minor >= 0 ? 1 : 0);
  int16_t at = 0; /* instructions emitted in this block so far */
#define NEXT ((int16_t) (len - at - 1))
  if (r->type)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, NEXT, r->type);
      at++;
    }
  if ((r->access & all) != all)
    {
      emit (p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
      at++;
      emit (p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ~r->access);
      at++;
      emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_1, 0, NEXT, 0);
      at++;
    }
  if (r->major >= 0)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, NEXT, (int32_t) r->major);
      at++;
    }
  if (r->minor >= 0)
    {
      emit (p, BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, NEXT, (int32_t) r->minor);
      at++;
    }
#undef NEXT
  emit (p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow);
  emit (p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int
devices_bpf_attach (const char *cgroup_dir, json_t *devices, const char *const *always, size_t n_always,
                    berth_error_t *err)
{
  struct prog p = { 0 };
  struct rule *rules;
  size_t n = 0, i;
  union bpf_attr attr;
  char log[4096] = "";
  int prog_fd, cg_fd;

  if (devices == NULL || devices->n == 0)
    return 0;
  rules = calloc (devices->n + n_always, sizeof *rules);
  for (i = 0; i < devices->n; i++)
    parse_rule_json (devices->items[i], &rules[n++]);
  for (i = 0; i < n_always; i++)
    if (parse_rule_text (always[i], &rules[n]) == 0)
      n++;
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
  emit (&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_3, BPF_REG_1, 0, 0);
  emit (&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
  emit (&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
  for (i = n; i > 0; i--)
    {
      const struct rule *r = &rules[i - 1];
      emit_rule (&p, r);
      /* A rule for every device ends the program: the verifier refuses dead code. */
      if (r->type == 0 && r->major < 0 && r->minor < 0
          && r->access == (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD))
        break;
    }
  if (i == 0)
    {
      emit (&p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
      emit (&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    }
  free (rules);

  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t) (uintptr_t) p.insns;
  attr.insn_cnt = (uint32_t) p.n;
  attr.license = (uint64_t) (uintptr_t) "Apache";
  prog_fd = (int) syscall (SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (prog_fd < 0)
    {
      /* Again with the verifier's log, for the error message only: a log that is too
       * small makes a good program fail with ENOSPC. */
      int e = errno;
      attr.log_buf = (uint64_t) (uintptr_t) log;
      attr.log_size = sizeof log;
      attr.log_level = 1;
      (void) syscall (SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
      errno = e;
    }
  free (p.insns);
  if (prog_fd < 0)
    return berth_make_error (err, errno, "load the device cgroup eBPF program%s%s", log[0] ? ": " : "", log);
  cg_fd = open (cgroup_dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (cg_fd < 0)
    {
      int e = errno;
      close (prog_fd);
      return berth_make_error (err, e, "open `%s`", cgroup_dir);
    }
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t) cg_fd;
  attr.attach_bpf_fd = (uint32_t) prog_fd;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (syscall (SYS_bpf, BPF_PROG_ATTACH, &attr, sizeof attr) < 0)
    {
      int e = errno;
      close (cg_fd);
      close (prog_fd);
      return berth_make_error (err, e, "attach the device eBPF program to `%s`", cgroup_dir);
    }
  /* The cgroup holds the program now; it goes away with the cgroup. */
  close (cg_fd);
  close (prog_fd);
  return 0;
}
