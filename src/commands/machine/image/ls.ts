import { Flags } from '@oclif/core';
import { MachineCommand } from '../../../machine/cli/base.js';
import { listImages } from '../../../machine/image/build.js';
import { imageCacheDir } from '../../../machine/image/paths.js';

export default class ImageLs extends MachineCommand {
  static summary = 'List built VM images';
  static flags = {
    output: Flags.string({ char: 'o', description: 'image directory (default: <storage-path>/cache/images)' }),
    quiet: Flags.boolean({ char: 'q', description: 'names only' }),
    json: Flags.boolean({ description: 'print as JSON' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ImageLs);
    const images = await listImages(flags.output ?? imageCacheDir(this.storeFrom(flags).root));
    if (flags.json) return this.printJson(images);
    if (flags.quiet) return void process.stdout.write(images.map((i) => i.name + '\n').join(''));
    const rows = [['NAME', 'RELEASE', 'SIZE', 'BUILT', 'PATH'], ...images.map((i) => [i.name, i.release, `${Math.round(i.size / 1048576)} MiB`, i.builtAt, i.path])];
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
    process.stdout.write(rows.map((r) => r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(widths[c] + 3))).join('')).join('\n') + '\n');
  }
}
