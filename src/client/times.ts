/** "42m" → unix seconds that long ago, as the docker CLI sends it; timestamps pass through. */
export function relativeTime(v: string | undefined, now = Date.now()): string | undefined {
  const m = v && /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(v);
  if (!m) return v;
  const secs = Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
  return String(Math.floor(now / 1000 - secs));
}

/** Go's RFC3339Nano with fixed 9 digits, in the local zone, as `docker events` prints times. */
export function rfc3339NanoFixed(timeNano: bigint): string {
  const ms = Number(timeNano / 1_000_000n);
  const offsetMin = -new Date(ms).getTimezoneOffset();
  const local = new Date(ms + offsetMin * 60_000).toISOString().slice(0, 19);
  const nanos = String(timeNano % 1_000_000_000n).padStart(9, '0');
  const zone = offsetMin === 0 ? 'Z' : `${offsetMin > 0 ? '+' : '-'}${String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, '0')}:${String(Math.abs(offsetMin) % 60).padStart(2, '0')}`;
  return `${local}.${nanos}${zone}`;
}
