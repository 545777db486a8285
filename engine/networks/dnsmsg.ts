/** Just enough of the DNS wire format (RFC 1035) for the embedded resolver. */
import { formatIp6, parseIp6 } from './cidr6.js';

export const TYPE_A = 1;
export const TYPE_AAAA = 28;
export const RCODE_NOERROR = 0;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question { name: string; type: number; klass: number; end: number /* offset after the question */ }
export interface Query { id: number; flags: number; question: Question }

/** Reads the header and first question; null when the message is not a well-formed query. */
export function parseQuery(msg: Buffer): Query | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || msg.readUInt16BE(4) < 1) return null; // a response, or no question
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return null;
    const len = msg[off];
    if (len === 0) { off += 1; break; }
    if (len > 63 || off + 1 + len > msg.length) return null; // compression is not valid in a question
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return null;
  return {
    id: msg.readUInt16BE(0),
    flags,
    question: { name: labels.join('.'), type: msg.readUInt16BE(off), klass: msg.readUInt16BE(off + 2), end: off + 4 },
  };
}

/** Encodes a query for `name` (used by tests and by clients of the resolver). */
export function encodeQuery(id: number, name: string, type = TYPE_A): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const parts = [Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0, type >> 8, type & 255, 0, 1]));
  return Buffer.concat(parts);
}

/** An answer to `query` holding A (or AAAA, for IPv6 ones) records for `addresses` (none: empty answer with `rcode`). */
export function encodeAnswer(msg: Buffer, query: Query, addresses: string[], rcode = RCODE_NOERROR, ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | (query.flags & 0x0100) | 0x0080 | rcode, 2); // QR AA RD(copied) RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const question = msg.subarray(12, query.question.end);
  const answers = addresses.map((ip) => {
    const v6 = ip.includes(':');
    const rr = Buffer.alloc(v6 ? 28 : 16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
    rr.writeUInt16BE(v6 ? TYPE_AAAA : TYPE_A, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(ttl, 6);
    rr.writeUInt16BE(v6 ? 16 : 4, 10);
    if (v6) {
      const n = parseIp6(ip);
      for (let i = 0; i < 16; i++) rr[12 + i] = Number((n >> BigInt(120 - 8 * i)) & 0xffn);
    } else ip.split('.').forEach((o, i) => { rr[12 + i] = Number(o); });
    return rr;
  });
  return Buffer.concat([header, question, ...answers]);
}

/** Reads the A and AAAA records of an answer (tests). */
export function readAnswerAddresses(msg: Buffer): { rcode: number; addresses: string[] } {
  const rcode = msg.readUInt16BE(2) & 0xf;
  const q = parseQuery(Buffer.concat([msg.subarray(0, 2), Buffer.from([0, 0]), msg.subarray(4)]));
  if (!q) return { rcode, addresses: [] };
  const count = msg.readUInt16BE(6);
  const addresses: string[] = [];
  let off = q.question.end;
  for (let i = 0; i < count && off < msg.length; i++) {
    if ((msg[off] & 0xc0) === 0xc0) off += 2;
    else { while (msg[off] !== 0) off += msg[off] + 1; off += 1; }
    const type = msg.readUInt16BE(off);
    const rdlen = msg.readUInt16BE(off + 8);
    if (type === TYPE_A && rdlen === 4) addresses.push([...msg.subarray(off + 10, off + 14)].join('.'));
    if (type === TYPE_AAAA && rdlen === 16) addresses.push(formatIp6(BigInt(`0x${msg.subarray(off + 10, off + 26).toString('hex')}`)));
    off += 10 + rdlen;
  }
  return { rcode, addresses };
}
