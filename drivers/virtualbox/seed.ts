/**
 * A NoCloud seed (ISO 9660, volume "cidata") for cloud images: root takes the
 * machine's SSH key, and every NIC asks DHCP for an address (the host-only one too).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProvisionError, reason } from '../../src/machine/errors.js';

const run = promisify(execFile);

export async function writeSeedIso(iso: string, machineName: string, publicKeyPath: string): Promise<void> {
  const key = (await readFile(publicKeyPath, 'utf8')).trim();
  const dir = await mkdtemp(join(tmpdir(), 'berth-seed-'));
  try {
    await writeFile(join(dir, 'meta-data'), `instance-id: berth-${machineName}\nlocal-hostname: ${machineName}\n`);
    await writeFile(join(dir, 'user-data'), ['#cloud-config', 'disable_root: false', 'ssh_pwauth: false', 'ssh_authorized_keys:', `  - ${key}`, ''].join('\n'));
    await writeFile(join(dir, 'network-config'), ['version: 2', 'ethernets:', '  all:', '    match: {name: "e*"}', '    dhcp4: true', ''].join('\n'));
    const tmp = `${iso}.tmp`;
    await run('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', tmp, dir]);
    await rename(tmp, iso);
  } catch (err) {
    throw new ProvisionError(`making the NoCloud seed ${iso} failed: ${reason(err)}`, { hint: 'xorriso makes it: apt-get install xorriso' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
