#include "selfclone.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static bool
is_sealed_copy (int fd)
{
  int seals = fcntl (fd, F_GET_SEALS);
  return seals >= 0 && (seals & SEALS) == SEALS;
}

static int
make_copy (int exe, berth_error_t *err)
{
  struct stat st;
  off_t off = 0;
  /* vm.memfd_noexec may ask for MFD_EXEC explicitly; kernels before 6.3 refuse the flag. */
  int fd = memfd_create ("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)
    fd = memfd_create ("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return berth_make_error (err, errno, "memfd_create for a sealed copy of the runtime");
  if (fstat (exe, &st) < 0)
    goto fail;
  while (off < st.st_size)
    {
      ssize_t n = sendfile (fd, exe, &off, (size_t) (st.st_size - off));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        goto fail;
    }
  if (fcntl (fd, F_ADD_SEALS, SEALS) < 0)
    goto fail;
  return fd;
fail:
  berth_make_error (err, errno, "copy the runtime binary into a sealed memfd");
  close (fd);
  return -1;
}

/* A file reached through a read-only mount can't be opened for writing through that
 * mount, by /proc/<pid>/exe or any fd reopened from it. */
static bool
on_readonly_mount (int fd)
{
  struct statvfs sv;
  return fstatvfs (fd, &sv) == 0 && (sv.f_flag & ST_RDONLY);
}

static int
fsmount_fd (const char *type, const char *lower1, const char *lower2)
{
  int fs = (int) syscall (SYS_fsopen, type, FSOPEN_CLOEXEC), mnt = -1;
  if (fs < 0)
    return -1;
  if ((lower1 == NULL || syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lower1, 0) == 0)
      && (lower2 == NULL || syscall (SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", lower2, 0) == 0)
      && syscall (SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    mnt = (int) syscall (SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  close (fs);
  return mnt;
}

/* runc's way (1.2): the binary through a private, detached, read-only overlayfs over
 * its own directory. No copy: the pages are the host file's page cache. Overlayfs
 * wants two lower layers without an upper one; the second is an empty detached tmpfs.
 * Kernels before 6.8 (no lowerdir+) fall back to the memfd copy. */
static int
overlay_view (berth_error_t *err)
{
  char exe[PATH_MAX], empty[64], *slash;
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);
  int tmp, ovl, fd;
  (void) err;
  if (n <= 0 || (size_t) n >= sizeof exe - 1)
    return -1;
  exe[n] = '\0';
  slash = strrchr (exe, '/');
  if (exe[0] != '/' || slash == NULL || slash[1] == '\0')
    return -1; /* " (deleted)" or a memfd: not a path to stack on */
  *slash = '\0';
  tmp = fsmount_fd ("tmpfs", NULL, NULL);
  if (tmp < 0)
    return -1;
  snprintf (empty, sizeof empty, "/proc/self/fd/%d", tmp);
  ovl = fsmount_fd ("overlay", exe[0] ? exe : "/", empty);
  close (tmp);
  if (ovl < 0)
    return -1;
  fd = openat (ovl, slash + 1, O_RDONLY | O_CLOEXEC);
  close (ovl);
  return fd;
}

int
selfclone_ensure (char **argv, berth_error_t *err)
{
  int exe = open ("/proc/self/exe", O_RDONLY | O_CLOEXEC), copy = -1;
  struct statfs sf;
  bool on_overlay;
  if (exe < 0)
    return berth_make_error (err, errno, "open /proc/self/exe (is /proc mounted?)");
  if (is_sealed_copy (exe) || on_readonly_mount (exe))
    {
      close (exe);
      return 0;
    }
  /* Already on an overlay that isn't read-only: a view over it would loop; copy. */
  on_overlay = fstatfs (exe, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC;
  if (!on_overlay)
    {
      copy = overlay_view (err);
      if (copy >= 0 && !on_readonly_mount (copy))
        {
          close (copy);
          copy = -1;
        }
    }
  if (copy < 0)
    copy = make_copy (exe, err);
  close (exe);
  if (copy < 0)
    return -1;
  fexecve (copy, argv, environ);
  berth_make_error (err, errno, "exec the sealed copy of the runtime");
  close (copy);
  return -1;
}

static char build_id[2 * 64 + 1];

static int
find_build_id (struct dl_phdr_info *info, size_t size, void *data)
{
  int i;
  (void) size;
  (void) data;
  for (i = 0; i < info->dlpi_phnum; i++)
    {
      const ElfW (Phdr) *ph = &info->dlpi_phdr[i];
      const char *p, *end;
      if (ph->p_type != PT_NOTE)
        continue;
      p = (const char *) (info->dlpi_addr + ph->p_vaddr);
      end = p + ph->p_memsz;
      while (p + sizeof (ElfW (Nhdr)) <= end)
        {
          const ElfW (Nhdr) *n = (const void *) p;
          const unsigned char *desc = (const unsigned char *) p + sizeof *n + ((n->n_namesz + 3) & ~3U);
          if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp (p + sizeof *n, "GNU", 4) == 0
              && n->n_descsz <= 64)
            {
              unsigned j;
              for (j = 0; j < n->n_descsz; j++)
                snprintf (build_id + 2 * j, 3, "%02x", desc[j]);
              return 1;
            }
          p = (const char *) desc + ((n->n_descsz + 3) & ~3U);
        }
    }
  return 1; /* the executable comes first; nothing else is ours */
}

const char *
selfclone_build_id (void)
{
  if (build_id[0] == '\0')
    dl_iterate_phdr (find_build_id, NULL);
  return build_id;
}
