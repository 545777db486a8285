/** resolveInRoot on a real tree: symlinks taken from the root as a container sees them, or refused when confined (a build's context). */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot, type Confined } from '../../../../engine/containers/safepath.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-safepath-'));
  mkdirSync(join(root, 'dir/sub'), { recursive: true });
  symlinkSync('/etc', join(root, 'abs'));
  symlinkSync('../..', join(root, 'dir/up'));
  symlinkSync('sub', join(root, 'dir/in'));
  symlinkSync('loop', join(root, 'loop'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const confined = (given: string): Confined => ({ given, outside: (why) => new Error(`outside: ${given}${why ? ` (${why})` : ''}`) });

test('unconfined: absolute links and .. above the root stay in the root', () => {
  expect(resolveInRoot(root, 'abs/passwd')).toBe(join(root, 'etc/passwd'));
  expect(resolveInRoot(root, 'dir/up/x')).toBe(join(root, 'x'));
  expect(resolveInRoot(root, '../../x')).toBe(join(root, 'x'));
  expect(resolveInRoot(root, 'abs', false)).toBe(join(root, 'abs'));
});

test('confined: links inside resolve; .. above the root and absolute links are the caller\'s error', () => {
  expect(resolveInRoot(root, 'dir/in/f', true, confined('dir/in/f'))).toBe(join(root, 'dir/sub/f'));
  expect(() => resolveInRoot(root, 'abs/passwd', true, confined('abs/passwd'))).toThrow('outside: abs/passwd (abs is a symbolic link to /etc)');
  expect(() => resolveInRoot(root, 'dir/up/x', true, confined('dir/up/x'))).toThrow('outside: dir/up/x');
  expect(() => resolveInRoot(root, '../x', true, confined('../x'))).toThrow('outside: ../x');
  expect(() => resolveInRoot(root, 'loop', true, confined('l*'))).toThrow('too many levels of symbolic links in l*');
});
