/**
 * Resolves a path inside a container's root the way the container would see it:
 * symlinks are followed relative to the root, never out of it.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { posix } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

const MAX_LINKS = 40;

/**
 * A path that may not leave its root at all (a build's context): `..` above the root
 * and absolute symlinks are `outside()` rather than taken from the root.
 */
export interface Confined {
  /** The path as its user wrote it, for messages. */
  given: string;
  /** `why`: the symlink that leads out, when one does. */
  outside(why?: string): Error;
}

/** Host path of `path` inside `root`; the last component is followed only if `followLast`. */
export function resolveInRoot(root: string, path: string, followLast = true, confined?: Confined): string {
  const todo = (confined ? path : posix.normalize('/' + path)).split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      if (confined && !done.length) throw confined.outside();
      done.pop();
      continue;
    }
    const host = posix.join(root, ...done, part);
    let isLink = false;
    try {
      isLink = lstatSync(host).isSymbolicLink();
    } catch {
      isLink = false;
    }
    if (isLink && (todo.length || followLast)) {
      if (++links > MAX_LINKS) throw new InvalidArgumentError(`too many levels of symbolic links in ${confined?.given ?? path}`);
      const target = readlinkSync(host);
      if (target.startsWith('/') && confined) throw confined.outside(`${posix.join(...done, part)} is a symbolic link to ${target}`);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return posix.join(root, ...done);
}
