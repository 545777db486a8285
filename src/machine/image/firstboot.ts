/**
 * The files that make a debootstrap tree a VM image berth can reach: DHCP on the
 * first NIC (systemd-networkd), and a first-boot unit standing in for cloud-init.
 * The unit reads the same NoCloud seed cloud-init would (a filesystem labelled
 * "cidata" holding meta-data and user-data): it installs the seed's SSH keys for root,
 * sets the hostname and makes this instance's SSH host key; a second unit grows the
 * root filesystem to the disk, off the path to SSH. cloud-init costs ~30 s of boot
 * under emulation; this ~1 s.
 */
export interface ImageFile { path: string; content: string; mode: number }

export const FIRSTBOOT_UNIT = 'berth-firstboot.service';

const script = `#!/bin/sh
# berth first boot: SSH keys and hostname from a NoCloud seed (label cidata).
set -u
# The seed is one of the virtio disks; probing only those is much faster than a full
# blkid scan under emulation.
seed() {
  for d in /dev/disk/by-label/cidata /dev/vd[b-z] /dev/sr0; do
    [ -b "$d" ] && [ "$(blkid -p -o value -s LABEL "$d" 2>/dev/null)" = cidata ] && { echo "$d"; return 0; }
  done
  return 1
}
dev=
for i in $(seq 1 100); do
  dev=$(seed) && break
  sleep 0.2
done
if [ -z "$dev" ]; then echo "berth-firstboot: no cidata seed found" >&2; exit 0; fi
# Under /run, not /tmp: systemd-tmpfiles cleans /tmp while this runs.
mnt=/run/berth-seed
mkdir -p "$mnt"
for i in 1 2 3 4 5; do
  mount -o ro "$dev" "$mnt" 2>/run/berth-firstboot.err && break
  [ $i = 5 ] && { echo "berth-firstboot: cannot mount $dev: $(cat /run/berth-firstboot.err)" >&2; exit 1; }
  sleep 1
done
iid=$(sed -n 's/^instance-id: *//p' "$mnt/meta-data" | head -n 1)
host=$(sed -n 's/^local-hostname: *//p' "$mnt/meta-data" | head -n 1)
mkdir -p -m 700 /root/.ssh
sed -n 's/^ *- *\\(\\(ssh-\\|ecdsa-\\|sk-\\)[^ ]* .*\\)$/\\1/p' "$mnt/user-data" > /root/.ssh/authorized_keys.new
umount "$mnt"; rmdir "$mnt"
chmod 600 /root/.ssh/authorized_keys.new && mv /root/.ssh/authorized_keys.new /root/.ssh/authorized_keys
if [ -n "$host" ]; then
  echo "$host" > /etc/hostname
  hostname "$host"
  printf '127.0.0.1 localhost\\n127.0.1.1 %s\\n::1 localhost ip6-localhost ip6-loopback\\n' "$host" > /etc/hosts
fi
mkdir -p /var/lib/berth-firstboot
if [ "$(cat /var/lib/berth-firstboot/instance-id 2>/dev/null)" != "$iid" ]; then
  # A new instance: its own host key.
  rm -f /etc/ssh/ssh_host_*
fi
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key
echo "$iid" > /var/lib/berth-firstboot/instance-id
`;

const unit = `[Unit]
Description=berth first boot: SSH keys and hostname from the NoCloud seed
DefaultDependencies=no
After=local-fs.target systemd-udev-trigger.service systemd-remount-fs.service systemd-tmpfiles-setup.service
Before=ssh.service network-pre.target sysinit.target
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/berth-firstboot
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=sysinit.target
`;

const growfs = `[Unit]
Description=berth: grow the root filesystem to its disk
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'resize2fs "$(findmnt -n -o SOURCE /)"'

[Install]
WantedBy=multi-user.target
`;

const network = `[Match]
Name=en* eth*

[Network]
DHCP=ipv4
`;

/** networkd-wait-online waits for every link by default; one configured link is enough. */
const waitOnline = `[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30
`;

const sshd = `PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
HostKey /etc/ssh/ssh_host_ed25519_key
`;

export function imageFiles(): ImageFile[] {
  return [
    { path: '/usr/local/sbin/berth-firstboot', content: script, mode: 0o755 },
    { path: `/etc/systemd/system/${FIRSTBOOT_UNIT}`, content: unit, mode: 0o644 },
    { path: '/etc/systemd/system/berth-growfs.service', content: growfs, mode: 0o644 },
    // The engine's storage driver; without it berthd falls back to full copies.
    { path: '/etc/modules-load.d/berth.conf', content: 'overlay\nbutton\n', mode: 0o644 },
    { path: '/etc/systemd/network/10-berth-dhcp.network', content: network, mode: 0o644 },
    { path: '/etc/systemd/system/systemd-networkd-wait-online.service.d/berth.conf', content: waitOnline, mode: 0o644 },
    { path: '/etc/ssh/sshd_config.d/berth.conf', content: sshd, mode: 0o644 },
    // A container's PID 1 ignores SIGTERM: at poweroff systemd would wait 90 s for it.
    { path: '/etc/systemd/system.conf.d/berth.conf', content: '[Manager]\nDefaultTimeoutStopSec=15s\n', mode: 0o644 },
    { path: '/etc/fstab', content: '/dev/vda / ext4 defaults,noatime 0 1\n', mode: 0o644 },
    { path: '/etc/hostname', content: 'berth\n', mode: 0o644 },
    // Modules for an initrd that boots a virtio disk, nothing more.
    { path: '/etc/initramfs-tools/modules', content: 'virtio_pci\nvirtio_mmio\nvirtio_blk\next4\n', mode: 0o644 },
    { path: '/etc/initramfs-tools/conf.d/berth', content: 'MODULES=list\nCOMPRESS=gzip\n', mode: 0o644 },
  ];
}

/** Units enabled in the image (systemctl --root). */
export const ENABLED_UNITS = [FIRSTBOOT_UNIT, 'berth-growfs.service', 'systemd-networkd.service', 'ssh.service'];

/** Units a headless VM does without (consoles are the serial log). */
export const MASKED_UNITS = ['getty.target', 'getty-static.service', 'getty@tty1.service', 'serial-getty@ttyS0.service', 'e2scrub_reap.service', 'systemd-timesyncd.service'];

/** Debian packages on top of debootstrap's minbase. */
// dbus lets systemd-logind run, which turns the ACPI power button (machine stop) into a clean shutdown.
export const IMAGE_PACKAGES = ['linux-image-cloud-amd64', 'systemd-sysv', 'udev', 'kmod', 'dbus', 'openssh-server', 'iproute2', 'nftables', 'e2fsprogs', 'initramfs-tools'];

/** Changes whenever what goes into an image changes: a cached image of another recipe is rebuilt. */
export function imageRecipe(): string {
  return JSON.stringify({ files: imageFiles(), enabled: ENABLED_UNITS, masked: MASKED_UNITS, packages: IMAGE_PACKAGES });
}
