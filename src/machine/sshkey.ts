import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileAtomic } from './atomic.js';

/**
 * An ed25519 key pair in OpenSSH's own formats ("openssh-key-v1" private key,
 * "ssh-ed25519 AAAA… comment" public line), made with node:crypto so no ssh-keygen
 * is needed on the client.
 */
export interface SshKeyPair { privateKey: string; publicKey: string }

function sshString(buf: Buffer | string): Buffer {
  const b = typeof buf === 'string' ? Buffer.from(buf) : buf;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

export function newEd25519Key(comment: string): SshKeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const seed = Buffer.from(jwk.d!, 'base64url');
  const pub = Buffer.from(jwk.x!, 'base64url');
  const pubBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
  const check = randomBytes(4).readUInt32BE();
  let priv = Buffer.concat([
    u32(check), u32(check), sshString('ssh-ed25519'), sshString(pub),
    sshString(Buffer.concat([seed, pub])), sshString(comment),
  ]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), u32(1),
    sshString(pubBlob), sshString(priv),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g)!.join('\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${pubBlob.toString('base64')} ${comment}\n`,
  };
}

/** Writes id_rsa / id_rsa.pub (Docker Machine's file names, kept for the store layout). */
export async function writeSshKey(path: string, comment: string): Promise<SshKeyPair> {
  const pair = newEd25519Key(comment);
  await writeFileAtomic(path, pair.privateKey, 0o600);
  await writeFileAtomic(`${path}.pub`, pair.publicKey, 0o644);
  return pair;
}
