/** Resolves docker's `User` ("name", "uid", "uid:gid", "name:group") against the rootfs's /etc files. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

function readTable(rootfs: string, file: string): string[][] {
  try {
    return readFileSync(join(rootfs, 'etc', file), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

const isNum = (s: string) => /^\d+$/.test(s);

export function resolveUser(rootfs: string, user: string | undefined, groupAdd: string[] = []): ResolvedUser {
  const passwd = readTable(rootfs, 'passwd');
  const groups = readTable(rootfs, 'group');
  const [u = '', g] = (user ?? '').split(':');
  let uid = 0;
  let gid = 0;
  let home = '/';
  let name = 'root';
  if (u) {
    const entry = passwd.find((p) => p[0] === u) ?? (isNum(u) ? passwd.find((p) => p[2] === u) : undefined);
    if (entry) {
      uid = Number(entry[2]); gid = Number(entry[3]); home = entry[5] || '/'; name = entry[0];
    } else if (isNum(u)) {
      uid = Number(u); name = '';
    } else {
      throw new InvalidArgumentError(`unable to find user ${u}: no matching entries in passwd file`);
    }
  } else {
    const root = passwd.find((p) => p[2] === '0');
    if (root) home = root[5] || '/';
  }
  if (g !== undefined && g !== '') {
    const entry = groups.find((e) => e[0] === g);
    if (entry) gid = Number(entry[2]);
    else if (isNum(g)) gid = Number(g);
    else throw new InvalidArgumentError(`unable to find group ${g}: no matching entries in group file`);
  }
  const additional = new Set<number>();
  if (name) for (const e of groups) if ((e[3] ?? '').split(',').includes(name) && Number(e[2]) !== gid) additional.add(Number(e[2]));
  for (const a of groupAdd) {
    const entry = groups.find((e) => e[0] === a);
    if (entry) additional.add(Number(entry[2]));
    else if (isNum(a)) additional.add(Number(a));
    else throw new InvalidArgumentError(`unable to find group ${a}: no matching entries in group file`);
  }
  if (uid > 2 ** 31 - 1 || gid > 2 ** 31 - 1) throw new InvalidArgumentError(`invalid user ${user}: uid and gid must be below 2^31`);
  return { uid, gid, additionalGids: [...additional], home };
}
