/**
 * docker rmi and image prune: untag or delete, refusing what containers or child
 * images still need, then collect the layers and blobs nobody references.
 */
import { familiarString, fullString, parseReference, withDefaultTag } from '../../src/common/reference.js';
import { ConflictError } from '../errors.js';
import { log } from '../log.js';
import { shortId } from './digest.js';
import type { RemoveOptions } from './index.js';
import type { LocalImageService } from './service.js';
import { findImageId } from './resolve.js';

export async function removeImage(svc: LocalImageService, nameOrId: string, opts: RemoveOptions = {}, usedBy?: (id: string) => string | undefined): Promise<Array<{ Untagged?: string; Deleted?: string }>> {
  const inUse = usedBy ?? svc.usedBy;
  const id = findImageId(svc.meta, nameOrId);
  const refs = svc.meta.refsOf(id);
  const out: Array<{ Untagged?: string; Deleted?: string }> = [];
  const byRef = refs.find((r) => {
    try {
      return fullString(withDefaultTag(parseReference(nameOrId))) === r;
    } catch {
      return false;
    }
  });
  if (byRef) {
    const tagRefs = refs.filter((r) => !r.includes('@'));
    const others = tagRefs.filter((r) => r !== byRef && parseReference(r).tag);
    if (others.length > 0 || byRef.includes('@') && tagRefs.length > 0) {
      await svc.meta.deleteRefs([byRef]);
      out.push({ Untagged: familiarString(parseReference(byRef)) });
      svc.events.emit({ Type: 'image', Action: 'untag', Actor: { ID: id, Attributes: { name: familiarString(parseReference(byRef)) } } });
      return out;
    }
  } else if (refs.filter((r) => !r.includes('@')).length > 1 && !opts.force) {
    throw new ConflictError(`conflict: unable to delete ${shortId(id)} (must be forced) - image is referenced in multiple repositories`);
  }
  const user = inUse(id);
  if (user) {
    if (!opts.force) {
      throw new ConflictError(byRef
        ? `conflict: unable to remove repository reference "${nameOrId}" (must force) - container ${user.slice(0, 12)} is using its referenced image ${shortId(id)}`
        : `conflict: unable to delete ${shortId(id)} (must be forced) - image is being used by container ${user.slice(0, 12)}`);
    }
    // Forced while in use: untag only, the container keeps its image (docker does the same).
    await svc.meta.deleteRefs(refs);
    for (const r of refs) out.push({ Untagged: familiarString(parseReference(r)) });
    return out;
  }
  const children = svc.meta.all().filter((m) => m.parent === id);
  if (children.length > 0) {
    throw new ConflictError(`conflict: unable to delete ${shortId(id)} (cannot be forced) - image has dependent child images`);
  }
  for (const r of refs) {
    out.push({ Untagged: familiarString(parseReference(r)) });
    svc.events.emit({ Type: 'image', Action: 'untag', Actor: { ID: id, Attributes: { name: familiarString(parseReference(r)) } } });
  }
  const parent = svc.meta.get(id)?.parent;
  await svc.meta.delete(id);
  out.push({ Deleted: id });
  svc.events.emit({ Type: 'image', Action: 'delete', Actor: { ID: id, Attributes: { name: id } } });
  // Untagged parents with no other children go too, unless noprune.
  if (!opts.noprune && parent && svc.meta.get(parent) && svc.meta.refsOf(parent).length === 0 && !svc.meta.all().some((m) => m.parent === parent) && !inUse(parent)) {
    out.push(...(await removeImage(svc, parent, {}, inUse)));
  }
  const gc = await svc.gc();
  for (const l of gc.layers) out.push({ Deleted: l });
  return out;
}

/** POST /images/prune: dangling images (or all unused with dangling=false). */
export async function pruneImages(svc: LocalImageService, filters: Record<string, string[]>): Promise<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }>; SpaceReclaimed: number }> {
  const danglingOnly = !(filters.dangling ?? ['true']).some((v) => v === 'false' || v === '0');
  const deleted: Array<{ Untagged?: string; Deleted?: string }> = [];
  let reclaimed = 0;
  const candidates = await svc.list({ all: true, filters: { ...filters, dangling: danglingOnly ? ['true'] : [] } });
  for (const img of candidates) {
    if (!svc.meta.get(img.id) || svc.usedBy(img.id)) continue;
    if (svc.meta.all().some((m) => m.parent === img.id)) continue;
    reclaimed += img.size;
    try {
      deleted.push(...(await removeImage(svc, img.id, { force: true })));
    } catch (err) {
      log.warn(`prune ${img.id}: ${(err as Error).message}`);
    }
  }
  return { ImagesDeleted: deleted, SpaceReclaimed: reclaimed };
}
