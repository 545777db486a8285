import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { renderTemplate } from '../format.js';

const OPTIONS = {
  format: { kind: 'string', char: 'f', description: 'json, or a template like "{{.ServerVersion}}"', value: 'FORMAT' },
  json: { kind: 'bool', description: 'same as --format json' },
} as const satisfies OptionTable;

export default class Info extends ClientHandler<typeof OPTIONS> {
  static summary = 'Display system-wide information from the engine';
  static maxArgs = 0;
  static usage = 'info [OPTIONS]';
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const info = await this.client.json<Record<string, any>>('GET', '/info');
    if (opts.json || opts.format === 'json') return this.out(JSON.stringify(info) + '\n');
    if (opts.format) return this.out(renderTemplate(opts.format, info) + '\n');
    const lines: Array<[string, unknown]> = [
      ['Server Version', info.ServerVersion], ['Engine', `${this.client.endpoint.label} (API ${await this.client.apiVersion()})`],
      ['Containers', info.Containers], [' Running', info.ContainersRunning], [' Paused', info.ContainersPaused], [' Stopped', info.ContainersStopped],
      ['Images', info.Images], ['Storage Driver', info.Driver], ['Logging Driver', info.LoggingDriver], ['Cgroup Driver', info.CgroupDriver],
      ['Cgroup Version', info.CgroupVersion], ['Default Runtime', info.DefaultRuntime], ['Kernel Version', info.KernelVersion],
      ['Operating System', info.OperatingSystem], ['OSType', info.OSType], ['Architecture', info.Architecture], ['CPUs', info.NCPU],
      ['Total Memory', info.MemTotal !== undefined ? `${(info.MemTotal / 2 ** 30).toFixed(2)}GiB` : undefined], ['Name', info.Name],
      ['ID', info.ID], ['Docker Root Dir', info.DockerRootDir],
    ];
    this.out(lines.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}: ${v}\n`).join(''));
  }
}
