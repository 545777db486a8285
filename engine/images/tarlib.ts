/**
 * tar-stream, loaded on first use: importing it costs ~5 MB of RSS, which an
 * idle daemon shouldn't pay.
 */
import type TarStream from 'tar-stream';

let loaded: Promise<typeof TarStream> | undefined;

export function tarStream(): Promise<typeof TarStream> {
  loaded ??= import('tar-stream').then((m) => (m as { default?: typeof TarStream }).default ?? (m as unknown as typeof TarStream));
  return loaded;
}
