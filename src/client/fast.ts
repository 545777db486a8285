/**
 * bin/berth's shortcut for the docker-compatible commands: runs them without loading
 * oclif (which costs more than the command itself). Help, unknown commands and
 * everything else go to oclif.
 */
export const CLIENT_COMMANDS = new Set(['attach', 'build', 'commit', 'cp', 'create', 'events', 'exec', 'export', 'history', 'images', 'import', 'info', 'inspect', 'kill', 'load', 'logs', 'ps', 'pull', 'push', 'rm', 'rmi', 'run', 'save', 'search', 'start', 'stats', 'stop', 'tag', 'top', 'wait']);

/** `berth network ls`: topics whose subcommands are client handlers in commands/<topic>/<sub>. */
export const CLIENT_TOPICS: Record<string, Set<string>> = {
  network: new Set(['connect', 'create', 'disconnect', 'inspect', 'ls', 'prune', 'rm']),
  volume: new Set(['create', 'inspect', 'ls', 'prune', 'rm']),
  system: new Set(['df', 'prune']),
};

/** Returns the exit status, or undefined when oclif should handle argv. */
export async function runFast(argv: string[]): Promise<number | undefined> {
  let [id, ...rest] = argv;
  if (!id) return undefined;
  let module = id;
  if (CLIENT_TOPICS[id]) {
    if (!CLIENT_TOPICS[id].has(rest[0])) return undefined;
    module = `${id}/${rest[0]}`;
    id = `${id} ${rest[0]}`;
    rest = rest.slice(1);
  } else if (!CLIENT_COMMANDS.has(id)) return undefined;
  const dd = rest.indexOf('--');
  if ((dd < 0 ? rest : rest.slice(0, dd)).includes('--help')) return undefined;
  const { default: Handler } = await import(`./commands/${module}.js`);
  return new Handler(id).main(rest);
}
