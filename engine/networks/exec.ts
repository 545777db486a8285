import { execFile } from 'node:child_process';
import { spawner } from '../runtime/spawner.js';

const hint = (cmd: string) => ` (install it: apt-get install ${cmd === 'nft' ? 'nftables' : 'iproute2 util-linux'})`;

/**
 * Runs a tool with optional stdin. berthd drives the kernel through iproute2 and nft
 * rather than netlink: Node has no netlink sockets without a native addon, and both
 * tools take whole batches on stdin (`ip -batch -`, `nft -f -`), so a change costs one
 * process, and an nft batch is one atomic transaction. Through the spawner when there
 * is one: a fork of berthd costs its event loop milliseconds per call.
 */
export async function run(cmd: string, args: string[], input?: string): Promise<string> {
  const helper = spawner();
  if (helper) {
    const r = await helper.run([cmd, ...args], { stdout: true, stderr: true }, input);
    if (r.code === 0) return r.stdout;
    const missing = r.code === 127 && /not found|No such file/.test(r.stderr) ? hint(cmd) : '';
    throw new Error(`${cmd} ${args.join(' ')}: ${(r.stderr || `exited with status ${r.code}`).trim()}${missing}`);
  }
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}${code === 'ENOENT' ? hint(cmd) : ''}`, { cause: err }));
      } else resolve(stdout);
    });
    child.stdin!.on('error', () => { /* the error surfaces through the exit status */ });
    child.stdin!.end(input ?? '');
  });
}
