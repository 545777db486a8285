import { Readable } from 'node:stream';
import { streamLines } from '../../../src/client/lines.js';

const collect = async (chunks: Buffer[]) => {
  const out: string[] = [];
  for await (const l of streamLines(Readable.from(chunks))) out.push(l);
  return out;
};

test('lines split across chunks, blank lines and a last line without a newline', async () => {
  expect(await collect([Buffer.from('{"a":1}\n{"b"'), Buffer.from(':2}\n\n  \n{"c":3}')])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
});

test('a character whose bytes arrive in two chunks stays whole', async () => {
  const text = Buffer.from('{"stream":"größe ✓"}\n');
  const cut = text.indexOf(Buffer.from('✓')) + 1;
  expect(await collect([text.subarray(0, cut), text.subarray(cut)])).toEqual(['{"stream":"größe ✓"}']);
});
