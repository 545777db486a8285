/** `docker top`: the host's ps output, filtered to the container's pids. */
import { execFile } from 'node:child_process';
import { InvalidArgumentError, EngineError } from '../errors.js';

export async function top(pids: number[], psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
  const args = (psArgs || '-ef').split(/\s+/).filter(Boolean);
  if (args.some((a) => !/^[-\w,=:%]+$/.test(a))) throw new InvalidArgumentError(`invalid ps_args ${JSON.stringify(psArgs)}`);
  const out = await new Promise<string>((resolve, reject) => {
    execFile('ps', args, { maxBuffer: 8 << 20 }, (err, stdout, stderr) => (err ? reject(new EngineError(`ps ${args.join(' ')}: ${String(stderr).trim() || err.message}`)) : resolve(stdout)));
  });
  const lines = out.split('\n').filter(Boolean);
  const Titles = lines[0].trim().split(/\s+/);
  const pidCol = Titles.indexOf('PID');
  if (pidCol < 0) throw new InvalidArgumentError(`Couldn't find PID field in ps output: use ps_args that show PID`);
  const want = new Set(pids);
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    // The last column (command) may contain spaces: keep it whole.
    const row = [...fields.slice(0, Titles.length - 1), fields.slice(Titles.length - 1).join(' ')];
    if (want.has(Number(row[pidCol]))) Processes.push(row);
  }
  return { Titles, Processes };
}
