/** GET /images/json filters: dangling, reference, label, before, since, until. */
import { familiarName, parseReference } from '../../src/common/reference.js';
import { InvalidArgumentError } from '../errors.js';
import type { ImageRecord, ListOptions } from './index.js';

const KEYS = ['dangling', 'reference', 'label', 'before', 'since', 'until'];

export async function filterImages(all: ImageRecord[], opts: ListOptions, resolve: (s: string) => Promise<ImageRecord>): Promise<ImageRecord[]> {
  const f = opts.filters ?? {};
  for (const k of Object.keys(f)) if (!KEYS.includes(k)) throw new InvalidArgumentError(`invalid filter '${k}'`);
  let out = all;
  if (!opts.all) {
    // Untagged parents of other images are intermediate layers: hidden without all=1.
    const parents = new Set(all.map((i) => i.parent).filter(Boolean));
    out = out.filter((i) => !(parents.has(i.id) && i.repoTags.length === 0));
  }
  if (f.dangling?.length) {
    const want = f.dangling.some((v) => v === 'true' || v === '1');
    out = out.filter((i) => (i.repoTags.length === 0) === want);
  }
  if (f.reference?.length) {
    const pats = f.reference.map(globToRegExp);
    const hit = (t: string) => pats.some((p) => p.test(t) || p.test(stripTag(t)) || p.test(fullTag(t)));
    // Like docker, only the matching tags are shown.
    out = out.filter((i) => i.repoTags.some(hit)).map((i) => ({ ...i, repoTags: i.repoTags.filter(hit), repoDigests: i.repoDigests.filter((d) => hit(d.split("@")[0])) }));
  }
  if (f.label?.length) {
    out = out.filter((i) => {
      const labels = i.config.config?.Labels ?? {};
      return f.label.every((l) => {
        const eq = l.indexOf('=');
        return eq < 0 ? l in labels : labels[l.slice(0, eq)] === l.slice(eq + 1);
      });
    });
  }
  for (const [key, cmp] of [['before', (a: number, b: number) => a < b], ['since', (a: number, b: number) => a > b]] as const) {
    for (const v of f[key] ?? []) {
      const ref = await resolve(v);
      const t = Date.parse(ref.created);
      out = out.filter((i) => cmp(Date.parse(i.created), t));
    }
  }
  for (const v of f.until ?? []) {
    const t = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
    if (Number.isNaN(t)) throw new InvalidArgumentError(`until=${v}: use unix seconds or an RFC 3339 time`);
    out = out.filter((i) => Date.parse(i.created) < t);
  }
  return out;
}

function stripTag(t: string): string {
  const slash = t.lastIndexOf('/');
  const colon = t.lastIndexOf(':');
  return colon > slash ? t.slice(0, colon) : t;
}

function fullTag(t: string): string {
  try {
    const r = parseReference(t);
    return `${familiarName(r)}${r.tag ? `:${r.tag}` : ''}`;
  } catch {
    return t;
  }
}

/** docker's reference filter uses path.Match: * does not cross '/'. */
function globToRegExp(p: string): RegExp {
  const re = p.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}
