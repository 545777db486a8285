import { writeFileSync } from 'node:fs';
import { statSync } from 'node:fs';
import type { OptionTable, Parsed } from '../argv.js';
import { UsageError } from '../argv.js';
import { contextTar } from '../build-context.js';
import { readAll } from '../engine.js';
import { ClientHandler } from '../handler.js';
import { streamLines } from '../lines.js';

const OPTIONS = {
  tag: { kind: 'list', char: 't', description: 'name (and optionally a tag) for the image, name:tag (repeatable)', value: 'NAME' },
  file: { kind: 'string', char: 'f', description: "the Dockerfile (default PATH/Dockerfile; '-' reads it from stdin)", value: 'FILE' },
  'build-arg': { kind: 'list', description: 'build-time variable (repeatable)', value: 'KEY=VALUE' },
  target: { kind: 'string', description: 'build up to this stage', value: 'STAGE' },
  'no-cache': { kind: 'bool', description: 'do not use the cache' },
  pull: { kind: 'bool', description: 'always pull the base images' },
  label: { kind: 'list', description: 'label for the image (repeatable)', value: 'KEY=VALUE' },
  quiet: { kind: 'bool', char: 'q', description: 'print only the image ID' },
  iidfile: { kind: 'string', description: 'write the image ID to this file', value: 'FILE' },
  rm: { kind: 'bool', description: 'remove intermediate containers after a successful build (default true)' },
  'force-rm': { kind: 'bool', description: 'always remove intermediate containers' },
  'cache-from': { kind: 'list', description: 'images to consider as cache sources (repeatable)', value: 'IMAGE' },
  network: { kind: 'string', description: 'network mode of the RUN steps', value: 'MODE' },
  'add-host': { kind: 'list', description: 'extra /etc/hosts entry for the RUN steps (repeatable)', value: 'HOST:IP' },
  'shm-size': { kind: 'int', description: 'size of /dev/shm in bytes', value: 'BYTES' },
  platform: { kind: 'string', description: 'platform, e.g. linux/amd64', value: 'OS/ARCH' },
  progress: { kind: 'string', description: "auto (compact on a terminal), plain or json", value: 'MODE' },
} as const satisfies OptionTable;

interface Message {
  stream?: string;
  status?: string;
  id?: string;
  aux?: { ID?: string };
  error?: string;
  errorDetail?: { message?: string; code?: number };
}

export default class Build extends ClientHandler<typeof OPTIONS> {
  static summary = 'Build an image from a Dockerfile';
  static minArgs = 1;
  static maxArgs = 1;
  static argsUsage = 'PATH | -';
  static usage = 'build [OPTIONS] PATH | -';
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<number | void> {
    const path = args[0];
    const buildArgs: Record<string, string | null> = {};
    for (const a of opts['build-arg'] ?? []) {
      const eq = a.indexOf('=');
      // KEY alone takes the value from this environment, as docker does.
      if (eq < 0) buildArgs[a] = process.env[a] ?? null;
      else buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
    }
    const labels: Record<string, string> = {};
    for (const l of opts.label ?? []) {
      const eq = l.indexOf('=');
      labels[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
    }
    const progress = opts.progress ?? 'auto';
    if (!['auto', 'plain', 'json'].includes(progress)) throw new UsageError(`--progress ${progress}: use auto, plain or json`);

    let body: NodeJS.ReadableStream;
    let dockerfile: string | undefined;
    if (path === '-') {
      if (opts.file === '-') throw new UsageError('the context and the Dockerfile cannot both come from stdin');
      body = process.stdin;
      dockerfile = opts.file;
    } else {
      let isDir = false;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        throw new UsageError(`unable to prepare context: path "${path}" not found`);
      }
      if (!isDir) throw new UsageError(`unable to prepare context: ${path} is not a directory`);
      const text = opts.file === '-' ? (await readAll(process.stdin)).toString('utf8') : undefined;
      const ctx = contextTar(path, opts.file === '-' ? undefined : opts.file, text);
      body = ctx.tar;
      dockerfile = ctx.dockerfile;
    }
    const res = await this.client.stream('POST', '/build', {
      query: {
        t: opts.tag ?? [], dockerfile, buildargs: JSON.stringify(buildArgs), labels: JSON.stringify(labels),
        target: opts.target, nocache: opts['no-cache'], pull: opts.pull, q: opts.quiet,
        rm: opts.rm === false ? '0' : '1', forcerm: opts['force-rm'], cachefrom: opts['cache-from'] ? JSON.stringify(opts['cache-from']) : undefined,
        networkmode: opts.network, extrahosts: opts['add-host']?.join(','), shmsize: opts['shm-size'], platform: opts.platform,
      },
      headers: { 'Content-Type': 'application/x-tar' },
      body: body as unknown as import('node:stream').Readable,
    });
    const compact = progress === 'auto' && !!process.stdout.isTTY && !opts.quiet;
    let imageId = '';
    let failure: Message['errorDetail'] | undefined;
    let live = '';
    const clearLive = () => {
      if (live) { this.out('\r\x1b[K'); live = ''; }
    };
    const handle = (m: Message) => {
      if (m.error || m.errorDetail) { failure = m.errorDetail ?? { message: m.error }; return; }
      if (m.aux?.ID) imageId = m.aux.ID;
      if (progress === 'json') { this.out(JSON.stringify(m) + '\n'); return; }
      if (opts.quiet) return;
      const text = m.stream ?? (m.status ? `${m.id ? `${m.id}: ` : ''}${m.status}\n` : '');
      if (!text) return;
      if (!compact) { this.out(text); return; }
      // Compact: step lines and results stay; a step's own output shows as one line that is rewritten.
      for (const line of text.split('\n').filter(Boolean)) {
        if (/^(Step \d+\/\d+ :| --->|Successfully|Removing intermediate|\[Warning\])/.test(line)) {
          clearLive();
          this.out(line + '\n');
        } else {
          live = line.slice(0, Math.max(10, (process.stdout.columns ?? 80) - 4));
          this.out(`\r\x1b[K  ${live}`);
        }
      }
    };
    for await (const l of streamLines(res)) handle(JSON.parse(l) as Message);
    clearLive();
    if (failure) {
      this.err(`berth: ${failure.message ?? 'the build failed'}\n`);
      return failure.code && failure.code > 0 && failure.code < 256 ? failure.code : 1;
    }
    if (opts.iidfile && imageId) writeFileSync(opts.iidfile, imageId);
    if (opts.quiet && imageId) this.out(imageId + '\n');
  }
}
