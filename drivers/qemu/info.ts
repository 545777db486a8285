import type { DriverInfo } from '../driver.js';

/** What `create` shows and accepts for the qemu driver, without loading the driver. */
export const qemuInfo: DriverInfo = {
  name: 'qemu',
  description: 'a local VM under QEMU (KVM where it works, TCG otherwise)',
  flags: [
    { name: 'qemu-image', type: 'string', usage: 'base image file or URL (default: the image `berth machine image build` made)', envVar: 'QEMU_IMAGE', default: '' },
    { name: 'qemu-cpu-count', type: 'int', usage: 'number of CPUs', envVar: 'QEMU_CPU_COUNT', default: 1 },
    { name: 'qemu-memory', type: 'int', usage: 'memory in MiB', envVar: 'QEMU_MEMORY', default: 1024 },
    { name: 'qemu-disk-size', type: 'int', usage: 'disk size in MB', envVar: 'QEMU_DISK_SIZE', default: 20000 },
    { name: 'qemu-accel', type: 'string', usage: 'accelerator: kvm:tcg (KVM, else TCG), kvm or tcg', envVar: 'QEMU_ACCEL', default: 'kvm:tcg' },
    { name: 'qemu-binary', type: 'string', usage: 'qemu-system binary', envVar: 'QEMU_BINARY', default: 'qemu-system-x86_64' },
    { name: 'qemu-forward', type: 'stringList', usage: 'also forward 127.0.0.1:HOSTPORT to the guest\'s GUESTPORT (repeatable)', envVar: 'QEMU_FORWARD' },
  ],
};
