/**
 * `machine create -d generic --swarm-manager` and `--swarm-join MANAGER` on namespace
 * hosts: the machines form a swarm while they are provisioned, `machine ls` shows the
 * SWARM column, and the docker CLI sees both nodes through the manager machine.
 */
import { startSshHosts, type SshHosts } from '../../fixtures/sshhosts.js';
import { berth, berthAsync, requireDockerCli, sh, tempDir, removeTempDirs } from './helpers.js';
import { join } from 'node:path';

import { jest } from '@jest/globals';

jest.setTimeout(240_000);

let f: SshHosts;
const store = tempDir('berth-machine-store-');
const dockerConfig = tempDir('berth-docker-config-');
const env = { BERTH_STORAGE_PATH: store, DOCKER_CONFIG: dockerConfig, DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
const createArgs = (ip: string, name: string, ...extra: string[]) => ['machine', 'create', '-d', 'generic', '--generic-ip-address', ip, '--generic-ssh-key', f.keyPath, ...extra, name];

beforeAll(async () => {
  requireDockerCli();
  f = await startSshHosts(2);
});
afterAll(() => {
  f?.cleanup();
  removeTempDirs();
});

test('bad swarm flags are refused before anything is made', () => {
  const both = berth(createArgs(f.hosts[0].ip, 'x', '--swarm-manager', '--swarm-join', 'y'), env);
  expect(both.code).not.toBe(0);
  expect(both.stderr).toContain('--swarm-manager and --swarm-join exclude each other');
  const missing = berth(createArgs(f.hosts[0].ip, 'x', '--swarm-join', 'nosuch'), env);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('--swarm-join nosuch: no such machine');
});

test('a manager machine and a worker machine form a swarm', async () => {
  const m = await berthAsync(createArgs(f.hosts[0].ip, 'sm0', '--swarm-manager'), env);
  expect({ code: m.code, stderr: m.stderr }).toEqual({ code: 0, stderr: '' });
  expect(m.stdout).toContain('Initialising the swarm');
  const w = await berthAsync(createArgs(f.hosts[1].ip, 'sw1', '--swarm-join', 'sm0'), env);
  expect({ code: w.code, stderr: w.stderr }).toEqual({ code: 0, stderr: '' });
  const ls = berth(['machine', 'ls', '--format', '{{.Name}} {{.Swarm}}'], env);
  expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual(['sm0 sm0 (master)', 'sw1 sm0']);
  const r = sh(`set -e; eval $("$BERTH" machine env sm0); docker node ls --format '{{.Status}} {{.ManagerStatus}}' | sort`, { ...env, BERTH: join(process.cwd(), 'bin', 'berth') });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe('Ready \nReady Leader\n');
  const table = berth(['machine', 'ls'], env).stdout;
  expect(table).toMatch(/SWARM/);
  berth(['machine', 'rm', '-f', 'sw1', 'sm0'], env);
});
