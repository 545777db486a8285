import { rewriteArgv } from '../../../src/machine/cli/argv.js';

const dm = '/usr/local/bin/docker-machine';

test.each([
  [dm, ['ls'], ['machine', 'ls'], {}],
  [dm, ['-D', '-s', '/st', '--native-ssh', 'ls', '-q'], ['machine', 'ls', '-q'], { MACHINE_DEBUG: '1', BERTH_STORAGE_PATH: '/st', MACHINE_NATIVE_SSH: '1' }],
  [dm, ['--storage-path=/st', '--tls-ca-cert', '/ca.pem', '--github-api-token', 't', 'ip', 'x'], ['machine', 'ip', 'x'], { BERTH_STORAGE_PATH: '/st', MACHINE_TLS_CA_CERT: '/ca.pem', MACHINE_GITHUB_API_TOKEN: 't' }],
  [dm, ['help'], ['machine', '--help'], {}],
  [dm, ['help', 'create'], ['help', 'machine', 'create'], {}],
  [dm, [], ['machine', '--help'], {}],
  [dm, ['-h'], ['machine', '--help'], {}],
  [dm, ['--version'], ['machine', 'version'], {}],
  [dm, ['ls', '-h'], ['machine', 'ls', '--help'], {}],
  [dm, ['ssh', 'dev', '-h'], ['machine', 'ssh', 'dev', '-h'], {}],
  [dm, ['ssh', '-h'], ['machine', 'ssh', '--help'], {}],
  ['/usr/bin/berth', ['machine', '-D', 'env', 'x', '-h'], ['machine', 'env', 'x', '--help'], { MACHINE_DEBUG: '1' }],
  ['/usr/bin/berth', ['ps', '-h'], ['ps', '-h'], {}],
])('%s %j', (script, argv, want, env) => {
  expect(rewriteArgv(script, argv)).toEqual({ argv: want, env });
});
