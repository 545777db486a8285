import { Args, Flags } from '@oclif/core';
import { MachineCommand } from '../../../machine/cli/base.js';
import { removeImage } from '../../../machine/image/build.js';
import { imageCacheDir } from '../../../machine/image/paths.js';

export default class ImageRm extends MachineCommand {
  static summary = 'Remove built VM images (machines whose overlays sit on one will not start again)';
  static strict = false;
  static args = { name: Args.string({ description: 'image name, e.g. debian-bookworm', required: true }) };
  static flags = {
    output: Flags.string({ char: 'o', description: 'image directory (default: <storage-path>/cache/images)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ImageRm);
    const dir = flags.output ?? imageCacheDir(this.storeFrom(flags).root);
    for (const n of argv as string[]) {
      await removeImage(dir, n);
      this.log(n);
    }
  }
}
