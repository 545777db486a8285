/**
 * A berthd outside any swarm answers every swarm endpoint as dockerd does (503 with
 * docker's texts, never 404), and `docker info` shows LocalNodeState inactive.
 */
import Docker from 'dockerode';
import { api, startDaemon, type Daemon } from '../../fixtures/daemon.js';
import { dockerCli, requireDockerCli } from '../../fixtures/docker-cli.js';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

let daemon: Daemon;
const { docker, dockerFails } = dockerCli(() => daemon.env);

beforeAll(async () => {
  requireDockerCli();
  daemon = await startDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

test.each([
  ['GET', '/swarm'], ['GET', '/nodes'], ['GET', '/nodes/x'], ['GET', '/services'], ['GET', '/services/x'], ['POST', '/services/create'],
  ['GET', '/tasks'], ['GET', '/secrets'], ['POST', '/secrets/create'], ['GET', '/configs'], ['DELETE', '/configs/x'], ['POST', '/swarm/update?version=1'],
])('%s %s answers 503 "not a swarm manager"', async (method, path) => {
  const r = await api(daemon, method, `/v1.47${path}`, method === 'POST' ? {} : undefined);
  expect(r.status).toBe(503);
  expect(r.json.message).toBe(NOT_MANAGER);
});

test('POST /swarm/leave answers 503 "not part of a swarm"', async () => {
  const r = await api(daemon, 'POST', '/v1.47/swarm/leave');
  expect(r.status).toBe(503);
  expect(r.json.message).toBe('This node is not part of a swarm');
});

test('the docker CLI sees an inactive node', async () => {
  expect(await docker('info', '--format', '{{.Swarm.LocalNodeState}}')).toBe('inactive');
  expect(await dockerFails('node', 'ls')).toContain(NOT_MANAGER);
  expect(await dockerFails('service', 'ls')).toContain(NOT_MANAGER);
  expect(await dockerFails('secret', 'ls')).toContain(NOT_MANAGER);
  expect(await dockerFails('swarm', 'leave')).toContain('This node is not part of a swarm');
  expect(await dockerFails('swarm', 'join-token', 'worker')).toContain(NOT_MANAGER);
});

test('dockerode sees the same answers', async () => {
  const client = new Docker({ socketPath: daemon.socket });
  const info = await client.info();
  expect(info.Swarm.LocalNodeState).toBe('inactive');
  await expect(client.listServices()).rejects.toMatchObject({ statusCode: 503, json: { message: NOT_MANAGER } });
  await expect(client.swarmInspect()).rejects.toMatchObject({ statusCode: 503 });
  await expect(client.swarmLeave({})).rejects.toMatchObject({ statusCode: 503, json: { message: 'This node is not part of a swarm' } });
  const ping = await api(daemon, 'GET', '/_ping');
  expect(ping.headers.swarm).toBe('inactive');
});
