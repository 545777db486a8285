import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { CREATE_OPTIONS, createRequest } from '../container-config.js';
import { createContainer } from '../create.js';
import { EngineApiError } from '../engine.js';
import { attachedSession, StartError, startFailureCode } from '../session.js';

const OPTIONS = {
  ...CREATE_OPTIONS,
  detach: { kind: 'bool', char: 'd', description: 'run the container in the background and print its ID' },
} as const satisfies OptionTable;

export default class Run extends ClientHandler<typeof OPTIONS> {
  static summary = 'Create and run a new container from an image';
  static description = 'Exits with the container\'s status; 125 when berth or the engine fails, 126/127 when the command cannot be run.';
  static stopAtFirstArg = true;
  static minArgs = 1;
  static argsUsage = 'IMAGE [COMMAND] [ARG...]';
  static failExit = 125;
  static usageExit = 125;
  static usage = 'run [OPTIONS] IMAGE [COMMAND] [ARG...]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    if (opts.detach && opts.rm && opts.restart && opts.restart !== 'no') throw new UsageError('conflicting options: --restart and --rm');
    const req = createRequest(opts, args[0], args.slice(1));
    if (opts.detach) Object.assign(req.body, { AttachStdin: false, AttachStdout: false, AttachStderr: false, StdinOnce: false });
    const created = await createContainer(this.client, req, opts.pull);
    for (const w of created.Warnings ?? []) this.err(`WARNING: ${w}\n`);
    if (opts.detach) {
      try {
        await this.client.json('POST', `/containers/${created.Id}/start`);
      } catch (err) {
        if (err instanceof EngineApiError) {
          this.err(`berth: ${err.message}\n`);
          return startFailureCode(err.message);
        }
        throw err;
      }
      this.out(created.Id + '\n');
      return 0;
    }
    try {
      return await attachedSession(this.client, created.Id, { tty: !!opts.tty, stdin: !!opts.interactive, autoRemove: !!opts.rm, start: true });
    } catch (err) {
      if (!(err instanceof StartError)) throw err;
      this.err(`berth: ${err.message}\n`);
      return err.exitCode;
    }
  }
}
