import { FrameDecoder } from '../../../src/client/frames.js';
import { humanDuration, humanSize, renderList, renderTemplate, table } from '../../../src/client/format.js';
import { progressLine } from '../../../src/client/progress.js';

test('frames split across chunks are reassembled per stream', () => {
  const frame = (s: number, text: string) => Buffer.concat([Buffer.from([s, 0, 0, 0, 0, 0, 0, text.length]), Buffer.from(text)]);
  const got: Array<[number, string]> = [];
  const d = new FrameDecoder((s, p) => got.push([s, p.toString()]));
  const all = Buffer.concat([frame(1, 'out'), frame(2, 'err'), frame(1, '')]);
  for (let i = 0; i < all.length; i += 5) d.push(all.subarray(i, i + 5));
  expect(got).toEqual([[1, 'out'], [2, 'err'], [1, '']]);
  expect(d.pending).toBe(0);
});

test('tables, sizes, durations and templates print like docker', () => {
  expect(table(['A', 'LONGER HEADER'], [['x', 'y']])).toBe('A         LONGER HEADER\nx         y\n');
  expect(humanSize(4_261_412)).toBe('4.26MB');
  expect(humanSize(999)).toBe('999B');
  expect(humanDuration(90_000)).toBe('2 minutes');
  expect(humanDuration(3_000)).toBe('3 seconds');
  expect(renderTemplate('{{.State.Status}} {{json .Names}}\\t{{.Missing}}', { State: { Status: 'up' }, Names: ['a'] })).toBe('up ["a"]\t<no value>');
  expect(() => renderTemplate('{{range .X}}', {})).toThrow(/unexpected EOF in \{\{range\}\}/);
  expect(() => renderTemplate('{{nofunc .X}}', {})).toThrow(/function "nofunc" not defined/);
  expect(renderTemplate('{{range .Names}}{{upper .}} {{end}}{{join .Names ","}}', { Names: ['a', 'b'] })).toBe('A B a,b');
  expect(renderList('table {{.ID}}\t{{.Name}}', [{ ID: '1', Name: 'n' }], () => '')).toBe('ID        NAME\n1         n\n');
  expect(renderList('json', [{ a: 1 }], () => '')).toBe('{"a":1}\n');
});

test('progress lines leave out byte counts', () => {
  expect(progressLine({ status: 'Downloading', id: 'abc', progressDetail: { current: 1 } })).toBeUndefined();
  expect(progressLine({ status: 'Pull complete', id: 'abc' })).toBe('abc: Pull complete');
  expect(progressLine({ status: 'Digest: sha256:x' })).toBe('Digest: sha256:x');
});
