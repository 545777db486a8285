/**
 * bin/berth's shortcut for the docker-compatible commands: runs them without loading
 * oclif (which costs more than the command itself). Help, unknown commands and
 * everything else go to oclif.
 */
export const CLIENT_COMMANDS = new Set(['build', 'create', 'exec', 'history', 'images', 'info', 'inspect', 'kill', 'logs', 'ps', 'pull', 'push', 'rm', 'rmi', 'run', 'start', 'stop', 'tag', 'wait']);

/** Returns the exit status, or undefined when oclif should handle argv. */
export async function runFast(argv: string[]): Promise<number | undefined> {
  const [id, ...rest] = argv;
  if (!id || !CLIENT_COMMANDS.has(id)) return undefined;
  const dd = rest.indexOf('--');
  if ((dd < 0 ? rest : rest.slice(0, dd)).includes('--help')) return undefined;
  const { default: Handler } = await import(`./commands/${id}.js`);
  return new Handler(id).main(rest);
}
