import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineGet, engineRequest, loadTlsMaterial, parseResponse } from '../../../src/client/tls.js';
import { alreadyChecked, checkMemo, rememberChecked } from '../../../src/machine/certs/checked.js';
import { makeTlsFiles, type TlsFiles } from '../../fixtures/tls.js';

// A real mTLS server on 127.0.0.1 that answers one HTTP/1.0 request per connection and
// records whether each connection resumed an earlier session.
let dir: string;
let files: TlsFiles;
let server: Server;
let port = 0;
const resumed: boolean[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-engine-tls-'));
  files = makeTlsFiles(dir);
  server = createServer({ ca: readFileSync(files.ca), cert: readFileSync(files.serverCert), key: readFileSync(files.serverKey), requestCert: true, rejectUnauthorized: true }, (s) => {
    resumed.push(s.isSessionReused());
    s.once('data', (req: Buffer) => (req.toString().startsWith('POST') ? s.end(`HTTP/1.1 201 Created\r\nContent-Length: ${req.length}\r\n\r\n${req}`) : s.end('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"Ve\r\n9\r\nrsion":"1\r\n2\r\n"}\r\n0\r\n\r\n')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const paths = () => ({ ca: join(files.clientDir, 'ca.pem'), cert: join(files.clientDir, 'cert.pem'), key: join(files.clientDir, 'key.pem'), session: join(dir, '.tls-session') });

test('the session the engine gives is kept (0600) and resumed by the next command', async () => {
  const first = await engineGet('127.0.0.1', port, '/version', await loadTlsMaterial(paths()), 5000);
  expect(first).toEqual({ status: 200, body: '{"Version":"1"}' });
  expect(statSync(paths().session).mode & 0o777).toBe(0o600);
  expect(readFileSync(paths().session, 'utf8')).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}\\n`));
  // A new process reads the session from the file.
  await engineGet('127.0.0.1', port, '/version', await loadTlsMaterial(paths()), 5000);
  expect(resumed).toEqual([false, true]);
});

test('a session of another address is not offered; a refused certificate is a hang-up', async () => {
  const tls = await loadTlsMaterial(paths());
  tls.session = { target: '127.0.0.2:1', data: tls.session!.data };
  resumed.length = 0;
  await engineGet('127.0.0.1', port, '/', tls, 5000);
  expect(resumed).toEqual([false]);
  const foreign = await loadTlsMaterial({ ca: files.ca, cert: join(files.foreignDir, 'cert.pem'), key: join(files.foreignDir, 'key.pem') });
  await expect(engineGet('127.0.0.1', port, '/', foreign, 5000)).rejects.toThrow(/socket hang up|ECONNRESET|alert/);
});

test('a POST carries its JSON body with its length', async () => {
  const res = await engineRequest('127.0.0.1', port, 'POST', '/v1.47/swarm/join', await loadTlsMaterial(paths()), 5000, { JoinToken: 't' });
  expect(res.status).toBe(201);
  expect(res.body).toMatch(/^POST \/v1\.47\/swarm\/join HTTP\/1\.0\r\n/);
  expect(res.body).toContain('Content-Type: application/json\r\nContent-Length: 17\r\n\r\n{"JoinToken":"t"}');
});

test('answers are parsed plain or chunked; anything else is not an answer', () => {
  expect(parseResponse(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno'))).toEqual({ status: 404, body: 'no' });
  expect(parseResponse(Buffer.from('HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'))).toEqual({ status: 200, body: 'abc' });
  expect(parseResponse(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toBeUndefined();
  expect(parseResponse(Buffer.from('HTTP/1.1 200 OK\r\n'))).toBeUndefined();
});

test('the certificate-check memo holds while the files are unchanged and the client cert valid', async () => {
  const certFiles = [files.ca, join(files.clientDir, 'cert.pem')];
  const memo = await checkMemo(join(dir, '.tls-checked'), certFiles, ['127.0.0.1']);
  expect(await alreadyChecked(memo)).toBe(false);
  await rememberChecked(memo, Date.now() + 60_000);
  expect(await alreadyChecked(await checkMemo(memo.file, certFiles, ['127.0.0.1']))).toBe(true);
  expect(await alreadyChecked(await checkMemo(memo.file, certFiles, ['127.0.0.1', '10.0.0.9']))).toBe(false);
  expect(await alreadyChecked(memo, Date.now() + 120_000)).toBe(false);
  utimesSync(certFiles[1], new Date(), new Date(Date.now() - 5000));
  expect(await alreadyChecked(await checkMemo(memo.file, certFiles, ['127.0.0.1']))).toBe(false);
});
