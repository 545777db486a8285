/** Image references, parsed like docker's distribution/reference. */
import { familiarString, fullString, parseReference, withDefaultTag } from '../../../src/common/reference.js';

test.each([
  ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
  ['library/busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
  ['index.docker.io/foo/bar', 'docker.io/foo/bar:latest', 'foo/bar:latest'],
  ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
  ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest', '127.0.0.1:5000/x:latest'],
  ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
  ['quay.io/org/img', 'quay.io/org/img:latest', 'quay.io/org/img:latest'],
  ['[::1]:5000/img:v1', '[::1]:5000/img:v1', '[::1]:5000/img:v1'],
  [`busybox@sha256:${'a'.repeat(64)}`, `docker.io/library/busybox@sha256:${'a'.repeat(64)}`, `busybox@sha256:${'a'.repeat(64)}`],
  ['a.b/c_d__e-f.g', 'a.b/c_d__e-f.g:latest', 'a.b/c_d__e-f.g:latest'],
])('%s', (input, full, familiar) => {
  const ref = withDefaultTag(parseReference(input));
  expect(fullString(ref)).toBe(full);
  expect(familiarString(ref)).toBe(familiar);
});

test.each([
  ['', /empty/],
  ['lower/Case', /must be lowercase/],
  ['Upper', /must be lowercase/],
  ['busybox:bad tag', /bad tag/],
  ['busybox@sha256:short', /sha256 digest must be 64|bad digest/],
  ['a'.repeat(64), /cannot specify 64-byte hexadecimal strings/],
  ['-leading/dash', /invalid reference format/],
  ['double//slash', /invalid reference format/],
  [`${'x'.repeat(250)}/y`, /longer than 255/],
])('refuses %s', (input, message) => {
  expect(() => parseReference(input)).toThrow(message);
});
