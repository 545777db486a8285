/**
 * The engine's default seccomp profile, loaded by the real runtime and probed from
 * inside a container: io_uring and AF_VSOCK are denied (as in docker 25+), ordinary
 * sockets still work.
 */
import { defaultSeccompProfile } from '../../../engine/runtime/seccomp-default.js';
import { DEFAULT_CAPABILITIES } from '../../../engine/runtime/defaults.js';
import { installProbe } from '../../fixtures/probe.js';
import { Harness } from './harness.js';

let h: Harness;
let probe: string;
beforeAll(() => {
  h = new Harness();
  probe = installProbe(h.rootfs);
});
afterAll(() => h?.cleanup());

function probeWith(seccomp: unknown, ...probes: string[]): string {
  const r = h.run({ args: [probe, ...probes], capabilities: DEFAULT_CAPABILITIES, edit: (s) => { if (seccomp) s.linux.seccomp = seccomp; } });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

test('io_uring_setup and AF_VSOCK sockets are refused; AF_INET and AF_UNIX sockets are not', () => {
  const out = probeWith(defaultSeccompProfile(DEFAULT_CAPABILITIES), 'io_uring', 'vsock', 'vsock-dgram', 'inet', 'unix');
  expect(out).toMatch(/^io_uring EPERM$/m);
  expect(out).toMatch(/^vsock EPERM$/m);
  expect(out).toMatch(/^vsock-dgram EPERM$/m);
  expect(out).toMatch(/^inet ok$/m);
  expect(out).toMatch(/^unix ok$/m);
});

test('without the profile the same probes get past seccomp (the denials above are the profile\'s)', () => {
  const out = probeWith(null, 'io_uring', 'vsock');
  expect(out).not.toMatch(/^io_uring EPERM$/m);
  expect(out).not.toMatch(/^vsock EPERM$/m);
});
