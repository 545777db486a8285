import { readdir, readFile, stat, mkdir } from 'node:fs/promises';
import { join, basename } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { Readable } from 'node:stream';
import { writeFileAtomic } from './atomic.js';
import { tarFiles, type TarEntry } from './bundle/tar.js';
import { InvalidArgumentError, MachineError, MachineExistsError, reason } from './errors.js';
import { loadMachine } from './machine.js';
import { validateName, type Store } from './store/index.js';
import { toStoreRelative } from './store/paths.js';

/**
 * A machine as one file (gzip tar): its directory with keys and certs, the CA that
 * signed its engine's cert (key included, so the new computer can reissue the
 * server cert after an IP change) and the client cert; config.json points at the
 * machine's own copies, so the import does not depend on the other store's CA.
 */
export async function exportMachine(store: Store, name: string): Promise<Buffer> {
  const m = await loadMachine(store, name);
  const dir = store.machineDir(name);
  const a = m.host.HostOptions.AuthOptions;
  const files: TarEntry[] = [];
  for (const f of await readdir(dir)) {
    if (f === 'config.json' || f.startsWith('.')) continue;
    const st = await stat(join(dir, f));
    if (st.isFile()) files.push({ name: `${name}/${f}`, data: await readFile(join(dir, f)), mode: st.mode & 0o777 });
  }
  const own = (f: string) => join(dir, f);
  files.push({ name: `${name}/ca-key.pem`, data: await readFile(a.CaPrivateKeyPath), mode: 0o600 });
  if (!files.some((f) => f.name === `${name}/ca.pem`)) files.push({ name: `${name}/ca.pem`, data: await readFile(a.CaCertPath), mode: 0o644 });
  const host = structuredClone(m.host);
  Object.assign(host.HostOptions.AuthOptions, {
    CertDir: dir, CaCertPath: own('ca.pem'), CaPrivateKeyPath: own('ca-key.pem'), ClientCertPath: own('cert.pem'), ClientKeyPath: own('key.pem'),
  });
  // Relative to the machine's parent's parent: the store root of whoever imports it.
  const rel = toStoreRelative(host, store.root);
  files.push({ name: `${name}/config.json`, data: Buffer.from(JSON.stringify(rel, null, 4) + '\n'), mode: 0o600 });
  return gzipSync(await tarFiles(files));
}

export async function importMachine(store: Store, archive: Buffer, rename?: string): Promise<string> {
  let tar: Buffer;
  try {
    tar = gunzipSync(archive);
  } catch (err) {
    throw new InvalidArgumentError(`not a berth machine export (${reason(err)})`, { hint: 'make one with `berth machine export NAME`' });
  }
  const entries = await readTar(tar);
  const config = entries.find((e) => /^[^/]+\/config\.json$/.test(e.name));
  if (!config) throw new InvalidArgumentError('not a berth machine export: no NAME/config.json inside');
  const original = config.name.split('/')[0];
  const name = rename ?? original;
  validateName(name);
  if (await store.exists(name)) throw new MachineExistsError(`machine "${name}" already exists in ${store.root}`, { hint: 'remove it first, or import under another name' });
  await store.reserve(name, 'Importing').catch((err) => {
    throw err instanceof MachineError ? err : new InvalidArgumentError(`cannot create ${store.machineDir(name)}: ${reason(err)}`);
  });
  await mkdir(store.machineDir(name), { recursive: true });
  for (const e of entries) {
    const [dir, file, ...rest] = e.name.split('/');
    if (dir !== original || !file || rest.length || file === 'config.json' || file.startsWith('.')) continue;
    await writeFileAtomic(join(store.machineDir(name), basename(file)), e.data, e.mode & 0o777);
  }
  let cfg = config.data.toString();
  if (name !== original) cfg = cfg.split(`machines/${original}/`).join(`machines/${name}/`);
  const host = JSON.parse(cfg);
  host.Name = name;
  host.Driver.MachineName = name;
  host.Driver.StorePath = '.';
  await writeFileAtomic(store.configPath(name), JSON.stringify(host, null, 4) + '\n', 0o600);
  await store.clearHalfMade(name);
  await loadMachine(store, name); // proves the imported config reads back
  return name;
}

function readTar(tar: Buffer): Promise<{ name: string; data: Buffer; mode: number }[]> {
  return new Promise((resolve, reject) => {
    const out: { name: string; data: Buffer; mode: number }[] = [];
    const ex = extract();
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c) => { chunks.push(c as Buffer); });
      stream.on('end', () => { out.push({ name: header.name, data: Buffer.concat(chunks), mode: header.mode ?? 0o600 }); next(); });
      stream.resume();
    });
    ex.on('finish', () => resolve(out));
    ex.on('error', reject);
    Readable.from([tar]).pipe(ex);
  });
}
