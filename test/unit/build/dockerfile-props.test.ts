/**
 * Property tests (fast-check) of the Dockerfile parser and the variable expansion: any
 * text either parses or fails with an InvalidArgumentError (a 400 with a message), never
 * another exception (a 500); the hostile shapes that once broke them, each once.
 */
import fc from 'fast-check';
import { nameValues, parseDockerfile } from '../../../engine/build/dockerfile.js';
import { expandWord } from '../../../engine/build/expand.js';
import { InvalidArgumentError } from '../../../engine/errors.js';

function onlyInvalidArgument(f: () => unknown): void {
  try {
    f();
  } catch (err) {
    if (!(err instanceof InvalidArgumentError)) throw err;
    expect(err.message).not.toBe('');
  }
}

const piece = fc.constantFrom('FROM x', 'RUN a', 'ENV a=b', 'ARG a', 'COPY a b', 'LABEL a=b', '\\', '`', '#', '# escape=`', '# escape=\\',
  '# syntax=x', '${', '${a', '${a:-', '${a:?', '${a:+b}', '$', '"', "'", '[', '["a"]', '--from=x', '<<EOF', '\r', '\n', '\t', ' ', '=', 'onbuild ');
const dockerfileText = fc.array(fc.oneof(piece, fc.string({ maxLength: 8 })), { maxLength: 30 }).map((p) => p.join(''));

test('any text: the parser, name=value lists and expansion answer or refuse with an InvalidArgumentError', () => {
  fc.assert(fc.property(dockerfileText, (text) => {
    onlyInvalidArgument(() => {
      const df = parseDockerfile(text);
      for (const ins of df.instructions) {
        onlyInvalidArgument(() => nameValues(ins, df.escape));
        onlyInvalidArgument(() => expandWord(ins.args, new Map([['a', 'x'], ['b', '']]), df.escape));
      }
    });
  }), { numRuns: 3000 });
});

test('hostile shapes: deep substitution, a long directive line with inner spaces, deep continuations, huge lines', () => {
  // ${a:-${a:-…}} 100 000 deep overflowed the stack (a RangeError: a 500).
  const deep = '${a:-'.repeat(100_000) + 'x' + '}'.repeat(100_000);
  expect(() => expandWord(deep, new Map())).toThrow(InvalidArgumentError);
  expect(() => expandWord(deep, new Map())).toThrow(/nested more than \d+ deep/);
  expect(expandWord('${a:-'.repeat(50) + 'x' + '}'.repeat(50), new Map())).toBe('x');
  // A directive-like first line with long runs of inner spaces was matched in quadratic
  // time (200 000 spaces held the event loop for minutes).
  const df = parseDockerfile(`# a=x${' '.repeat(200_000)}y\nFROM x`);
  expect(df.instructions[0]).toMatchObject({ keyword: 'FROM', args: 'x' });
  expect(parseDockerfile(`#${' '.repeat(200_000)}escape${' '.repeat(200_000)}=${' '.repeat(200_000)}\`${' '.repeat(200_000)}\nFROM x`).escape).toBe('`');
  expect(parseDockerfile(`FROM x\nENV a=b${' \\\n'.repeat(100_000)} c=d`).instructions[1].args).toMatch(/^a=b +c=d$/);
  expect(parseDockerfile(`FROM x\nLABEL a=${'x'.repeat(4 << 20)}`).instructions[1].args.length).toBe(2 + (4 << 20));
});
