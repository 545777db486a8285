import { parseDockerfile, nameValues } from '../../../engine/build/dockerfile.js';
import { expandWord } from '../../../engine/build/expand.js';

test('directives, continuations with comment lines, flags and JSON forms', () => {
  const df = parseDockerfile([
    '# syntax=docker/dockerfile:1',
    '# escape=`',
    '',
    '# a comment',
    'FROM --platform=linux/amd64 busybox AS base',
    'RUN echo a `',
    '  # dropped inside the continuation',
    '',
    '  && echo "b c"',
    'copy --chown=1:2 --from=base ["a b", "/dst/"]',
    'CMD ["sh", "-c"]',
    'CMD [not json',
  ].join('\n'));
  expect(df.escape).toBe('`');
  expect(df.warnings[0]).toContain('syntax directive');
  const [from, run, copy, cmd, bad] = df.instructions;
  expect(from).toMatchObject({ keyword: 'FROM', args: 'busybox AS base', flags: { platform: 'linux/amd64' }, line: 5 });
  expect(run.args).toBe('echo a   && echo "b c"');
  expect(copy).toMatchObject({ keyword: 'COPY', flags: { chown: '1:2', from: 'base' }, json: ['a b', '/dst/'] });
  expect(cmd.json).toEqual(['sh', '-c']);
  expect(bad.json).toBeUndefined();
});

test('a directive after the first instruction is a comment; heredocs and unknown instructions are refused', () => {
  expect(parseDockerfile('FROM x\n# escape=`\nRUN a \\\n b').instructions[1].args).toBe('a  b');
  expect(() => parseDockerfile('FROM x\nRUN <<EOF\necho\nEOF\n')).toThrow(/heredocs .* are not supported/);
  expect(() => parseDockerfile('FROM x\nFETCH y\n')).toThrow(/line 2: unknown instruction: FETCH/);
});

test('ENV, LABEL and ARG name=value lists, and the legacy ENV form', () => {
  const ins = (t: string) => parseDockerfile(`FROM x\n${t}`).instructions[1];
  expect(nameValues(ins('ENV A=1 B="x y" C=a\\ b'), '\\')).toEqual([['A', '1'], ['B', '"x y"'], ['C', 'a\\ b']]);
  expect(nameValues(ins('ENV A hello  world'), '\\')).toEqual([['A', 'hello  world']]);
  expect(nameValues(ins('ARG A B=2'), '\\')).toEqual([['A', undefined], ['B', '2']]);
  expect(() => nameValues(ins('LABEL novalue'), '\\')).toThrow(/name=value/);
});

test('variable substitution follows docker: quotes, escapes, defaults, alternatives', () => {
  const vars = new Map([['A', 'x'], ['E', '']]);
  expect(expandWord('$A/${A}/"$A"/\'$A\'', vars)).toBe('x/x/x/$A');
  expect(expandWord('\\$A', vars)).toBe('$A');
  expect(expandWord('${B:-def}|${E:-def}|${E-def}|${A:+alt}|${B:+alt}', vars)).toBe('def|def||alt|');
  expect(expandWord('"a \\"q\\" $A"', vars)).toBe('a "q" x');
  expect(expandWord('`$A', vars, '`')).toBe('$A');
  expect(() => expandWord('${A', vars)).toThrow(/missing '}'/);
});
