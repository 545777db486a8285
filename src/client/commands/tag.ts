import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { encodeImage, parseImageRef } from '../images.js';
import { familiarName } from '../../common/reference.js';

const OPTIONS = {} as const satisfies OptionTable;

export default class Tag extends ClientHandler<typeof OPTIONS> {
  static summary = 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE';
  static minArgs = 2;
  static maxArgs = 2;
  static argsUsage = 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]';
  static usage = 'tag [OPTIONS] SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]';
  static options = OPTIONS;

  protected async exec({ args }: Parsed<typeof OPTIONS>): Promise<void> {
    const target = parseImageRef(args[1]);
    await this.client.json('POST', `/images/${encodeImage(args[0])}/tag`, { query: { repo: familiarName(target), tag: target.tag ?? 'latest' } });
  }
}
