/** Splits one stream into two with shared backpressure: the slower reader sets the pace. */
import { PassThrough, type Readable } from 'node:stream';

export function tee(source: Readable): [Readable, Readable] {
  const outs = [new PassThrough({ highWaterMark: 1 << 20 }), new PassThrough({ highWaterMark: 1 << 20 })];
  let waiting = 0;
  source.on('data', (chunk: Buffer) => {
    for (const o of outs) {
      if (!o.write(chunk)) {
        waiting++;
        o.once('drain', () => {
          if (--waiting === 0) source.resume();
        });
      }
    }
    if (waiting > 0) source.pause();
  });
  source.on('end', () => outs.forEach((o) => o.end()));
  source.on('error', (err) => outs.forEach((o) => o.destroy(err)));
  // A failing branch stops the other one too.
  outs.forEach((o, i) => o.on('error', (err) => {
    if (!outs[1 - i].destroyed) outs[1 - i].destroy(err);
    source.destroy(err);
  }));
  return [outs[0], outs[1]];
}
