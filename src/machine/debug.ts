/**
 * Debug output of `-D/--debug` (MACHINE_DEBUG, as Docker Machine; BERTH_DEBUG too):
 * every command run on a host with its exit status, and the stack of a failure, on stderr.
 */
export function debugEnabled(): boolean {
  const v = process.env.MACHINE_DEBUG || process.env.BERTH_DEBUG || '';
  return v !== '' && !/^(0|false|no)$/i.test(v);
}

export function debug(message: string): void {
  if (debugEnabled()) process.stderr.write(`(debug) ${message}\n`);
}
