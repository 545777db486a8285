import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { CREATE_OPTIONS } from '../container-config.js';
import { EngineApiError } from '../engine.js';
import { copyOutput } from '../frames.js';
import { pipeStdin, releaseStdin } from '../session.js';
import { enterRawMode, followWindowSize } from '../tty.js';

const OPTIONS = {
  detach: { kind: 'bool', char: 'd', description: 'run the command in the background' },
  interactive: CREATE_OPTIONS.interactive,
  tty: CREATE_OPTIONS.tty,
  env: CREATE_OPTIONS.env,
  user: CREATE_OPTIONS.user,
  workdir: CREATE_OPTIONS.workdir,
  privileged: { kind: 'bool', description: 'give extended privileges to the command' },
} as const satisfies OptionTable;

export default class Exec extends ClientHandler<typeof OPTIONS> {
  static summary = 'Execute a command in a running container';
  static description = "Exits with the command's status (126 when it cannot be started).";
  static stopAtFirstArg = true;
  static minArgs = 2;
  static argsUsage = 'CONTAINER COMMAND [ARG...]';
  static usage = 'exec [OPTIONS] CONTAINER COMMAND [ARG...]';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number> {
    const [container, ...cmd] = args;
    const tty = !!opts.tty;
    const stdin = !!opts.interactive && !opts.detach;
    const env = (opts.env ?? []).map((e) => (e.includes('=') || process.env[e] === undefined ? e : `${e}=${process.env[e]}`));
    const { Id: execId } = await this.client.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
      body: { AttachStdin: stdin, AttachStdout: !opts.detach, AttachStderr: !opts.detach, Tty: tty, Env: env.length ? env : undefined, User: opts.user, WorkingDir: opts.workdir, Privileged: !!opts.privileged, Cmd: cmd },
    });
    const startBody = { Detach: !!opts.detach, Tty: tty };
    if (opts.detach) {
      await this.client.json('POST', `/exec/${execId}/start`, { body: startBody });
      return 0;
    }
    let socket;
    try {
      ({ socket } = await this.client.hijack(`/exec/${execId}/start`, { body: startBody }));
    } catch (err) {
      // An engine that refuses the start itself (older dockerd): 126, as the docker CLI gives.
      if (!(err instanceof EngineApiError) || err.status < 500) throw err;
      this.err(`berth: ${err.message}\n`);
      return 126;
    }
    const output = copyOutput(socket, process.stdout, process.stderr, !tty);
    const terminal = tty && stdin ? enterRawMode() : undefined;
    const stopResize = tty ? followWindowSize((rows, cols) => this.client.json('POST', `/exec/${execId}/resize`, { query: { h: rows, w: cols } })) : () => undefined;
    try {
      if (stdin) pipeStdin(socket);
      await output;
    } finally {
      stopResize();
      terminal?.restore();
      releaseStdin();
    }
    return this.exitCode(execId);
  }

  /** The exit code is recorded just after the stream ends: ask until the exec is no longer running. */
  private async exitCode(execId: string): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const info = await this.client.json<{ Running: boolean; ExitCode: number | null }>('GET', `/exec/${execId}/json`);
      if (!info.Running && info.ExitCode !== null) return info.ExitCode;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`exec ${execId} still reports running after its output ended`);
  }
}
