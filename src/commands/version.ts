import { Command, Flags } from '@oclif/core';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runtimePath } from '../common/paths.js';

const run = promisify(execFile);

export default class Version extends Command {
  static summary = 'Print the client version and the berth-runtime it found';
  static flags = { json: Flags.boolean({ description: 'print as JSON' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const runtime = await probeRuntime();
    const info = { client: this.config.version, node: process.version, runtime };
    if (flags.json) {
      this.log(JSON.stringify(info, null, 2));
      return;
    }
    this.log(`berth version ${info.client} (node ${info.node})`);
    this.log(runtime.found ? `berth-runtime ${runtime.version} at ${runtime.path}` : `berth-runtime not found at ${runtime.path}: run npm run build`);
  }
}

async function probeRuntime(): Promise<{ path: string; found: boolean; version?: string }> {
  const path = runtimePath();
  try {
    const { stdout } = await run(path, ['--version']);
    return { path, found: true, version: stdout.split('\n')[0].replace(/^berth-runtime version /, '').trim() };
  } catch {
    return { path, found: false };
  }
}
