// Writes oclif.manifest.json (`npm run build` runs it): with it, oclif finds every
// command without importing them all at start-up. Same content as `oclif manifest`,
// which insists on a package.json "files" list this project does not publish with.
import { Config } from '@oclif/core';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../common/paths.js';

const root = projectRoot();
// The root plugin reads an existing manifest whatever ignoreManifest says: drop it first, or new commands stay unlisted.
rmSync(join(root, 'oclif.manifest.json'), { force: true });
const config = await Config.load({ root, ignoreManifest: true } as never);
// Only this package's commands: the plugins (help, autocomplete) keep their own manifests.
const own = config.commands.filter((c) => c.pluginName === config.name);
const commands = Object.fromEntries(own.map((c) => [c.id, c]));
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify({ commands, version: config.version }, null, 2));
process.stdout.write(`oclif.manifest.json: ${own.length} commands\n`);
