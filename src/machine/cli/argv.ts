import { basename } from 'node:path';

/**
 * Docker Machine's command line, read before oclif sees it, so scripts written for
 * `docker-machine` run unchanged:
 * - invoked through a link named `docker-machine`, berth acts as `berth machine`;
 * - global flags before the subcommand (`-D/--debug`, `-s/--storage-path DIR`,
 *   `--native-ssh`, `--tls-*`, `--github-api-token`, `--bugsnag-api-token`) become
 *   the MACHINE_* variables Docker Machine reads them from (a flag wins over a variable);
 * - `help [CMD]`, `-h` and `-v/--version` mean what they mean there.
 */
const GLOBAL_VALUE_FLAGS: Record<string, string> = {
  '-s': 'BERTH_STORAGE_PATH',
  '--storage-path': 'BERTH_STORAGE_PATH',
  '--tls-ca-cert': 'MACHINE_TLS_CA_CERT',
  '--tls-ca-key': 'MACHINE_TLS_CA_KEY',
  '--tls-client-cert': 'MACHINE_TLS_CLIENT_CERT',
  '--tls-client-key': 'MACHINE_TLS_CLIENT_KEY',
  '--github-api-token': 'MACHINE_GITHUB_API_TOKEN',
  '--bugsnag-api-token': 'MACHINE_BUGSNAG_API_TOKEN',
};
const GLOBAL_BOOL_FLAGS: Record<string, string> = {
  '-D': 'MACHINE_DEBUG',
  '--debug': 'MACHINE_DEBUG',
  '--native-ssh': 'MACHINE_NATIVE_SSH',
};

export interface Rewritten { argv: string[]; env: Record<string, string> }

/** `script` is the path berth was started as (process.argv[1], the link's own name when run through one). */
export function rewriteArgv(script: string, argv: string[]): Rewritten {
  const env: Record<string, string> = {};
  const asDockerMachine = /^docker-machine(\.js)?$/.test(basename(script));
  if (!asDockerMachine && argv[0] !== 'machine') return { argv, env };
  let i = asDockerMachine ? 0 : 1;
  for (; i < argv.length && argv[i].startsWith('-'); i++) {
    const [flag, inline] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    if (flag in GLOBAL_BOOL_FLAGS) env[GLOBAL_BOOL_FLAGS[flag]] = inline ?? '1';
    else if (flag in GLOBAL_VALUE_FLAGS) env[GLOBAL_VALUE_FLAGS[flag]] = inline ?? argv[++i] ?? '';
    else if (flag === '-h' || flag === '--help') return { argv: ['machine', '--help'], env };
    else if (flag === '-v' || flag === '--version') return { argv: ['machine', 'version'], env };
    else break; // not a global flag: oclif reports it
  }
  const rest = argv.slice(i);
  if (rest.length === 0) return { argv: ['machine', '--help'], env };
  if (rest[0] === 'help') return { argv: rest.length > 1 ? ['help', 'machine', ...rest.slice(1)] : ['machine', '--help'], env };
  return { argv: ['machine', ...helpFlags(rest)], env };
}

/** `-h` is help everywhere, except inside the remote command of `ssh NAME …`. */
function helpFlags(rest: string[]): string[] {
  const [cmd, ...args] = rest;
  let end = args.length;
  if (cmd === 'ssh') {
    const name = args.findIndex((a) => !a.startsWith('-'));
    if (name >= 0) end = name;
  }
  return [cmd, ...args.map((a, k) => (k < end && a === '-h' ? '--help' : a))];
}
