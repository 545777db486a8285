import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ProvisionError } from '../errors.js';

const exec = promisify(execFile);

/**
 * A NoCloud seed: an ISO 9660 volume labelled "cidata" with meta-data and user-data,
 * what cloud-init reads on cloud images and berth's first-boot unit on its own image.
 * The machine's key opens the default user and, with disable_root off, root: berth
 * logs in as root (cloud images disable root logins unless told otherwise).
 * `dhcpAllNics` adds a network-config asking DHCP on every NIC (cloud-init configures
 * only the first otherwise; VirtualBox's host-only NIC is the second).
 */
export interface SeedInput { instanceId: string; hostname: string; sshPublicKey: string; dhcpAllNics?: boolean }

export function metaData(s: SeedInput): string {
  return `instance-id: ${s.instanceId}\nlocal-hostname: ${s.hostname}\n`;
}

export function userData(s: SeedInput): string {
  const key = s.sshPublicKey.trim();
  return [
    '#cloud-config',
    `hostname: ${s.hostname}`,
    'disable_root: false',
    'ssh_pwauth: false',
    'ssh_authorized_keys:',
    `  - ${key}`,
    '',
  ].join('\n');
}

/** The ISO tools, in the order they are tried. */
export const ISO_TOOLS = ['xorriso', 'genisoimage', 'mkisofs'];

export function networkConfig(): string {
  return ['version: 2', 'ethernets:', '  all:', '    match: {name: "e*"}', '    dhcp4: true', ''].join('\n');
}

export async function writeSeedIso(path: string, s: SeedInput, tool = 'xorriso'): Promise<void> {
  const dir = await mkdtemp(join(dirname(path), '.seed-'));
  try {
    await writeFile(join(dir, 'meta-data'), metaData(s));
    await writeFile(join(dir, 'user-data'), userData(s));
    const files = ['meta-data', 'user-data'];
    if (s.dhcpAllNics) {
      await writeFile(join(dir, 'network-config'), networkConfig());
      files.push('network-config');
    }
    const tmp = `${path}.tmp`;
    const args = ['-quiet', '-output', tmp, '-volid', 'cidata', '-joliet', '-rock', ...files.map((f) => join(dir, f))];
    try {
      await exec(tool, tool === 'xorriso' ? ['-as', 'mkisofs', ...args] : args);
    } catch (err) {
      throw new ProvisionError(`${tool} could not write the seed ISO ${path}: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`, { hint: 'apt-get install xorriso' });
    }
    await rename(tmp, path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
