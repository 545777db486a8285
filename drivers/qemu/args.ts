/**
 * The qemu-system command line of a machine, as a pure function of its spec.
 * Direct kernel boot (berth's own image) runs on the microvm machine type with
 * virtio-mmio devices: no firmware, no PCI scan, the fastest boot under emulation.
 * Any other image boots through its own bootloader on q35 with virtio-pci devices.
 * Networking is QEMU's user mode with restrict=on: the guest reaches nothing outside,
 * and only the forwarded 127.0.0.1 ports reach the guest.
 */
export interface Forward { hostPort: number; guestPort: number }

export type Boot =
  | { kind: 'direct'; kernel: string; initrd: string; cmdline: string }
  | { kind: 'firmware' };

export interface QemuSpec {
  name: string;
  /** "kvm:tcg" tries KVM, then TCG; "kvm" or "tcg" only that one. */
  accel: string;
  cpus: number;
  memoryMiB: number;
  disk: string;
  diskFormat: string;
  seed: string;
  boot: Boot;
  forwards: Forward[];
  qmpSocket: string;
  pidfile: string;
  consoleLog: string;
  /** The host's TSC in kHz: spares an emulated guest its slow calibration. */
  tscKhz?: number;
}

export const ACCELS = ['kvm:tcg', 'kvm', 'tcg'] as const;

export function accelList(accel: string): string[] {
  return accel.split(':').filter(Boolean);
}

export function kernelCmdline(base: string, tscKhz?: number): string {
  const parts = [base, 'console=ttyS0', 'loglevel=4', 'panic=-1'];
  if (tscKhz) parts.push(`tsc_early_khz=${tscKhz}`);
  return parts.join(' ');
}

export function qemuArgs(s: QemuSpec): string[] {
  const direct = s.boot.kind === 'direct';
  const dev = (kind: string) => `${kind}-${direct ? 'device' : 'pci'}`;
  const args = ['-name', `berth-${s.name}`, '-nodefaults', '-no-user-config', '-display', 'none'];
  for (const a of accelList(s.accel)) args.push('-accel', a);
  args.push('-M', direct ? 'microvm,pit=on,rtc=on,acpi=on' : 'q35');
  args.push('-cpu', 'max', '-smp', String(s.cpus), '-m', `${s.memoryMiB}M`);
  if (s.boot.kind === 'direct') args.push('-kernel', s.boot.kernel, '-initrd', s.boot.initrd, '-append', kernelCmdline(s.boot.cmdline, s.tscKhz));
  args.push(
    '-drive', `id=disk0,if=none,format=${s.diskFormat},file=${driveFile(s.disk)},discard=unmap,cache=writeback`,
    '-device', `${dev('virtio-blk')},drive=disk0`,
    '-drive', `id=seed0,if=none,format=raw,readonly=on,file=${driveFile(s.seed)}`,
    '-device', `${dev('virtio-blk')},drive=seed0`,
  );
  const fwd = s.forwards.map((f) => `hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`);
  args.push('-netdev', ['user', 'id=net0', 'restrict=on', ...fwd].join(','), '-device', `${dev('virtio-net')},netdev=net0`);
  args.push('-device', `${dev('virtio-rng')}`);
  args.push('-serial', `file:${s.consoleLog}`);
  args.push('-qmp', `unix:${s.qmpSocket},server=on,wait=off`);
  args.push('-pidfile', s.pidfile, '-daemonize');
  return args;
}

/** A comma inside a -drive value is written twice. */
function driveFile(p: string): string {
  return p.replace(/,/g, ',,');
}
