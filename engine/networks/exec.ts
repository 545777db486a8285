import { execFile } from 'node:child_process';

/**
 * Runs a tool with optional stdin. berthd drives the kernel through iproute2 and nft
 * rather than netlink: Node has no netlink sockets without a native addon, and both
 * tools take whole batches on stdin (`ip -batch -`, `nft -f -`), so a change costs one
 * process, and an nft batch is one atomic transaction.
 */
export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const hint = code === 'ENOENT' ? ` (install it: apt-get install ${cmd === 'nft' ? 'nftables' : 'iproute2 util-linux'})` : '';
        reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}${hint}`, { cause: err }));
      } else resolve(stdout);
    });
    child.stdin!.on('error', () => { /* the error surfaces through the exit status */ });
    child.stdin!.end(input ?? '');
  });
}
