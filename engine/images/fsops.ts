/**
 * The few filesystem calls node lacks: mknod (whiteouts, device nodes, fifos)
 * and extended attributes (overlay opaque dirs, file capabilities). They run in
 * batches through perl's syscall(), which every Debian/Ubuntu host has (perl-base
 * is Essential), so berthd needs no compiled addon.
 */
import { spawn } from 'node:child_process';
import { InvalidArgumentError, NotImplementedError } from '../errors.js';

const SYSCALLS: Record<string, { mknodat: number; lsetxattr: number; lgetxattr: number; llistxattr: number }> = {
  x64: { mknodat: 259, lsetxattr: 189, lgetxattr: 192, llistxattr: 195 },
  arm64: { mknodat: 33, lsetxattr: 6, lgetxattr: 9, llistxattr: 12 },
};

const SCRIPT = String.raw`
use strict; $| = 1;
my ($MKNOD, $LSET, $LGET, $LLIST) = map { $_ + 0 } @ARGV;
while (my $l = <STDIN>) {
  chomp $l;
  my @a = split /\t/, $l, -1;
  my $op = shift @a;
  if ($op eq 'N') {
    my $p = pack('H*', $a[0]);
    my $r = syscall($MKNOD, -100, $p, $a[1] + 0, $a[2] + 0);
    print $r < 0 ? 'E' . ($! + 0) . "\n" : "O\n";
  } elsif ($op eq 'X') {
    my ($p, $n, $v) = map { pack('H*', $_) } @a;
    my $r = syscall($LSET, $p, $n, $v, length($v) + 0, 0);
    print $r < 0 ? 'E' . ($! + 0) . "\n" : "O\n";
  } elsif ($op eq 'L') {
    my $p = pack('H*', $a[0]);
    my $buf = "\0" x 65536;
    my $n = syscall($LLIST, $p, $buf, 65536);
    if ($n < 0) { print 'E' . ($! + 0) . "\n"; next; }
    my @out;
    for my $nm (grep { length } split /\0/, substr($buf, 0, $n)) {
      my $v = "\0" x 65536;
      my $m = syscall($LGET, $p, $nm, $v, 65536);
      next if $m < 0;
      push @out, unpack('H*', $nm) . '=' . unpack('H*', substr($v, 0, $m));
    }
    print 'O' . join(',', @out) . "\n";
  } else {
    print "E22\n";
  }
}
`;

export type FsOp =
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number }
  | { op: 'setxattr'; path: string; name: string; value: Buffer };

const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');

function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

async function run(lines: string[]): Promise<string[]> {
  const nums = SYSCALLS[process.arch];
  if (!nums) throw new NotImplementedError(`mknod/xattr helpers: architecture ${process.arch} is not supported`);
  const child = spawn('perl', ['-e', SCRIPT, String(nums.mknodat), String(nums.lsetxattr), String(nums.lgetxattr), String(nums.llistxattr)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (c) => out.push(c));
  child.stderr.on('data', (c) => err.push(c));
  const done = new Promise<number>((resolve, reject) => {
    child.on('error', (e) => reject(new NotImplementedError(`perl is needed for device nodes and xattrs: ${e.message} (apt-get install perl-base)`)));
    child.on('close', (code) => resolve(code ?? 1));
  });
  child.stdin.end(lines.join('\n') + '\n');
  const code = await done;
  const replies = Buffer.concat(out).toString('utf8').split('\n').slice(0, lines.length);
  if (code !== 0 || replies.length !== lines.length) {
    throw new Error(`fs helper failed (exit ${code}): ${Buffer.concat(err).toString().trim()}`);
  }
  return replies;
}

/** Applies mknod/setxattr operations in order; fails naming the first path that failed. */
export async function applyFsOps(ops: FsOp[]): Promise<void> {
  if (ops.length === 0) return;
  const lines = ops.map((o) =>
    o.op === 'mknod' ? `N\t${hex(o.path)}\t${o.mode}\t${makedev(o.major, o.minor)}` : `X\t${hex(o.path)}\t${hex(o.name)}\t${o.value.toString('hex')}`,
  );
  const replies = await run(lines);
  replies.forEach((r, i) => {
    if (r.startsWith('O')) return;
    const o = ops[i];
    const errno = Number(r.slice(1));
    // Security xattrs other than capabilities may be refused by the host LSM: skip those, as docker does.
    if (o.op === 'setxattr' && o.name !== 'security.capability' && o.name.startsWith('security.')) return;
    throw new InvalidArgumentError(`${o.op} ${o.path}${o.op === 'setxattr' ? ` (${o.name})` : ''}: errno ${errno}`);
  });
}

/** Extended attributes of each path (symlinks not followed). */
export async function listXattrs(paths: string[]): Promise<Array<Record<string, Buffer>>> {
  if (paths.length === 0) return [];
  const replies = await run(paths.map((p) => `L\t${hex(p)}`));
  return replies.map((r) => {
    const out: Record<string, Buffer> = {};
    if (!r.startsWith('O') || r.length === 1) return out;
    for (const kv of r.slice(1).split(',')) {
      const [k, v] = kv.split('=');
      out[Buffer.from(k, 'hex').toString('utf8')] = Buffer.from(v ?? '', 'hex');
    }
    return out;
  });
}
