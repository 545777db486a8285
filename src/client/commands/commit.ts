import type { OptionTable, Parsed } from '../argv.js';
import { ClientHandler } from '../handler.js';
import { repoAndTag } from '../images.js';

const OPTIONS = {
  author: { kind: 'string', char: 'a', description: 'author (e.g. "John Hannibal Smith <hannibal@a-team.com>")', value: 'TEXT' },
  change: { kind: 'list', char: 'c', description: 'apply a Dockerfile instruction to the created image', value: 'INSTRUCTION' },
  message: { kind: 'string', char: 'm', description: 'commit message', value: 'TEXT' },
  pause: { kind: 'bool', char: 'p', description: 'pause the container during commit (default true)' },
} as const satisfies OptionTable;

export default class Commit extends ClientHandler<typeof OPTIONS> {
  static summary = "Create a new image from a container's changes";
  static usage = 'commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]';
  static argsUsage = 'CONTAINER [REPOSITORY[:TAG]]';
  static minArgs = 1;
  static maxArgs = 2;
  static options = OPTIONS;

  protected async exec({ opts, args }: Parsed<typeof OPTIONS>): Promise<void> {
    const [container, ref] = args;
    const { repo, tag } = repoAndTag(ref);
    const res = await this.client.json<{ Id: string }>('POST', '/commit', {
      query: { container, repo, tag, author: opts.author, comment: opts.message, changes: opts.change, pause: opts.pause === false ? '0' : '1' },
      body: {},
    });
    this.out(res.Id + '\n');
  }
}
