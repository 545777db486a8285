/**
 * A streaming tar reader for layer unpack: ustar, pax (per-entry and global,
 * with binary xattr values kept byte for byte — file capabilities are binary),
 * GNU long names and base-256 numbers. Entries are handed to a synchronous
 * sink, chunk by chunk, with no per-entry stream objects.
 */

export type TarType = 'file' | 'link' | 'symlink' | 'character-device' | 'block-device' | 'directory' | 'fifo' | 'other';

export interface TarHeader {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Record<string, Buffer>;
}

export interface EntrySink {
  data?(chunk: Buffer): void;
  end?(): void;
}

/** Returned by onEntry when the entry must wait for work in flight: the reader awaits hooks.barrier() and calls onEntry again. */
export const NEEDS_BARRIER = Symbol('needs barrier');

export interface ReadHooks {
  barrier(): Promise<void>;
  /** Awaited after each input chunk (backpressure for asynchronous sinks). */
  afterChunk(): Promise<void>;
}

const BLOCK = 512;
const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device', '5': 'directory', '6': 'fifo' };

function cstring(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) {
    // base-256 (GNU): big-endian, first byte's high bit is the marker.
    let v = b[off] & 0x7f;
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i];
    return v;
  }
  const s = b.toString('ascii', off, off + len).replace(/[\0 ]+$/g, '').trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(b: Buffer, off: number): boolean {
  const want = num(b, off + 148, 8);
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += b[off + i];
  for (let i = 156; i < BLOCK; i++) sum += b[off + i];
  return sum === want;
}

function isZero(b: Buffer, off: number): boolean {
  for (let i = 0; i < BLOCK; i++) if (b[off + i] !== 0) return false;
  return true;
}

/** pax records "LEN key=value\n", values kept as bytes. */
function parsePax(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(buf.toString('ascii', i, sp), 10);
    if (!len || i + len > buf.length) break;
    const rec = buf.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), Buffer.from(rec.subarray(eq + 1)));
    i += len;
  }
  return out;
}

export async function readTar(source: AsyncIterable<Buffer>, onEntry: (h: TarHeader) => EntrySink | void | typeof NEEDS_BARRIER, hooks?: ReadHooks): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  type State = 'header' | 'data' | 'meta' | 'pad' | 'done' | 'barrier';
  let state = 'header' as State;
  let remaining = 0;
  let padding = 0;
  let sink = undefined as EntrySink | void;
  let waitingHeader: TarHeader | undefined;
  let metaKind = '';
  let metaChunks: Buffer[] = [];
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;

  const startEntry = (b: Buffer, off: number): State => {
    if (!checksumOk(b, off)) throw new Error('not a valid tar archive (bad header checksum)');
    const flag = String.fromCharCode(b[off + 156]);
    const size = num(b, off + 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      metaKind = flag;
      metaChunks = [];
      remaining = size;
      padding = (BLOCK - (size % BLOCK)) % BLOCK;
      return 'meta';
    }
    const magic = b.toString('ascii', off + 257, off + 262);
    let name = cstring(b, off, 100);
    if (magic === 'ustar') {
      const prefix = cstring(b, off + 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const p = new Map([...globalPax, ...(pax ?? [])]);
    const text = (k: string) => p.get(k)?.toString('utf8');
    const xattrs: Record<string, Buffer> = {};
    for (const [k, v] of p) {
      if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
      else if (k.startsWith('LIBARCHIVE.xattr.')) xattrs[decodeURIComponent(k.slice('LIBARCHIVE.xattr.'.length))] = Buffer.from(v.toString('ascii'), 'base64');
    }
    const header: TarHeader = {
      name: text('path') ?? longName ?? name,
      type: TYPES[flag] ?? 'other',
      mode: num(b, off + 100, 8) & 0o7777,
      uid: text('uid') !== undefined ? Number(text('uid')) : num(b, off + 108, 8),
      gid: text('gid') !== undefined ? Number(text('gid')) : num(b, off + 116, 8),
      size: text('size') !== undefined ? Number(text('size')) : size,
      mtime: new Date((text('mtime') !== undefined ? Number(text('mtime')) : num(b, off + 136, 12)) * 1000),
      linkname: text('linkpath') ?? longLink ?? cstring(b, off + 157, 100),
      devmajor: num(b, off + 329, 8),
      devminor: num(b, off + 337, 8),
      xattrs,
    };
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    // Only regular files carry data (a hardlink's size field is ignored, as tar does).
    const dataSize = header.type === 'file' || header.type === 'other' ? header.size : 0;
    const r = onEntry(header);
    if (r === NEEDS_BARRIER) {
      waitingHeader = header;
      return 'barrier';
    }
    sink = r;
    return afterHeader(dataSize);
  };

  const afterHeader = (dataSize: number): State => {
    remaining = dataSize;
    padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
    if (remaining > 0) return 'data';
    sink?.end?.();
    return padding ? 'pad' : 'header';
  };

  const finishMeta = () => {
    const buf = Buffer.concat(metaChunks);
    if (metaKind === 'x') pax = parsePax(buf);
    else if (metaKind === 'g') globalPax = new Map([...globalPax, ...parsePax(buf)]);
    else if (metaKind === 'L') longName = cstring(buf, 0, buf.length);
    else if (metaKind === 'K') longLink = cstring(buf, 0, buf.length);
  };

  let zeroBlocks = 0;
  for await (const raw of source) {
    let chunk: Buffer = pending.length ? Buffer.concat([pending, raw]) : raw;
    pending = Buffer.alloc(0);
    let off = 0;
    while (off < chunk.length) {
      if (state === 'done') {
        off = chunk.length;
        break;
      }
      if (state === 'header') {
        if (chunk.length - off < BLOCK) {
          pending = Buffer.from(chunk.subarray(off));
          off = chunk.length;
          break;
        }
        if (isZero(chunk, off)) {
          off += BLOCK;
          if (++zeroBlocks === 2) state = 'done';
          continue;
        }
        zeroBlocks = 0;
        state = startEntry(chunk, off);
        off += BLOCK;
        if (state === 'barrier') {
          const h = waitingHeader!;
          waitingHeader = undefined;
          await hooks!.barrier();
          const r = onEntry(h);
          if (r === NEEDS_BARRIER) throw new Error(`entry ${h.name} still blocked after a barrier`);
          sink = r;
          state = afterHeader(h.type === 'file' || h.type === 'other' ? h.size : 0);
        }
        continue;
      }
      if (state === 'data' || state === 'meta') {
        const n = Math.min(remaining, chunk.length - off);
        const piece = chunk.subarray(off, off + n);
        if (state === 'data') sink?.data?.(piece);
        else metaChunks.push(Buffer.from(piece));
        remaining -= n;
        off += n;
        if (remaining === 0) {
          if (state === 'data') sink?.end?.();
          else finishMeta();
          state = padding ? 'pad' : 'header';
        }
        continue;
      }
      if (state === 'pad') {
        const n = Math.min(padding, chunk.length - off);
        padding -= n;
        off += n;
        if (padding === 0) state = 'header';
      }
    }
    await hooks?.afterChunk();
  }
  if (state === 'data' || state === 'meta' || (state === 'pad' && padding > 0)) {
    throw new Error('the tar ends in the middle of an entry (truncated)');
  }
}
