import { Flags } from '@oclif/core';
import { MachineCommand } from '../../../machine/cli/base.js';
import { buildImage } from '../../../machine/image/build.js';
import { DEFAULT_RELEASE, imageCacheDir } from '../../../machine/image/paths.js';
import { progressMode } from '../../../machine/tasks.js';

export default class ImageBuild extends MachineCommand {
  static summary = 'Build the Debian VM image the qemu driver boots (cached: a second run reuses it)';
  static examples = ['<%= config.bin %> machine image build', '<%= config.bin %> machine image build --release trixie --output /var/tmp/images'];
  static flags = {
    release: Flags.string({ description: 'Debian release', default: DEFAULT_RELEASE }),
    output: Flags.string({ char: 'o', description: 'directory for the image (default: <storage-path>/cache/images)' }),
    mirror: Flags.string({ description: "Debian mirror URL (default: the one apt's sources use)" }),
    force: Flags.boolean({ description: 'rebuild even when the image is cached' }),
    json: Flags.boolean({ description: 'print the result as JSON (no progress)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ImageBuild);
    const dir = flags.output ?? imageCacheDir(this.storeFrom(flags).root);
    const res = await buildImage({ release: flags.release, dir, mirror: flags.mirror, force: flags.force, progress: progressMode(flags.json) });
    if (flags.json) this.printJson({ cached: res.cached, ...res.paths, manifest: res.manifest });
    else this.log(`${res.cached ? 'Cached' : 'Built'} ${res.paths.name}: ${res.paths.qcow2}`);
  }
}
