import { Args, Flags } from '@oclif/core';
import { join } from 'node:path';
import { builtinDrivers, DEFAULT_DRIVER, discoverDrivers } from '../../../drivers/registry.js';
import { projectRoot } from '../../common/paths.js';
import { MachineCommand } from '../../machine/cli/base.js';
import { runCreate } from '../../machine/cli/create.js';

await discoverDrivers(join(projectRoot(), 'node_modules'));

/** Every driver's flags, typed, with their environment variables and defaults. */
function driverFlags() {
  const out: Record<string, any> = {};
  for (const d of builtinDrivers()) {
    for (const f of d.flags) {
      const common = { description: f.usage, env: f.envVar, helpGroup: d.name.toUpperCase(), aliases: f.aliases };
      if (f.type === 'bool') out[f.name] = Flags.boolean({ ...common, default: f.default as boolean | undefined });
      else if (f.type === 'int') out[f.name] = Flags.integer({ ...common, default: f.default as number | undefined });
      else if (f.type === 'stringList') out[f.name] = Flags.string({ ...common, multiple: true, multipleNonGreedy: true, default: f.default as string[] | undefined });
      else out[f.name] = Flags.string({ ...common, default: f.default as string | undefined });
    }
  }
  return out;
}

export default class Create extends MachineCommand {
  static summary = 'Create machines: make or take a host and install the berth engine on it';
  static strict = false;
  static args = { name: Args.string({ description: 'machine name (several run concurrently)', required: true }) };
  static examples = ['<%= config.bin %> machine create dev', '<%= config.bin %> machine create -d generic --generic-ip-address 10.0.0.5 --generic-ssh-key ~/.ssh/id_ed25519 web1'];
  static flags = {
    driver: Flags.string({ char: 'd', description: `driver (${builtinDrivers().map((d) => d.name).join(', ')})`, default: DEFAULT_DRIVER, env: 'MACHINE_DRIVER' }),
    'engine-install-url': Flags.string({ description: 'accepted for Docker Machine compatibility; berth installs its own engine bundle' }),
    'engine-opt': Flags.string({ description: 'engine flag as key=value (repeatable)', multiple: true, multipleNonGreedy: true }),
    'engine-insecure-registry': Flags.string({ description: 'insecure registry (repeatable)', multiple: true, multipleNonGreedy: true }),
    'engine-registry-mirror': Flags.string({ description: 'registry mirror (repeatable)', multiple: true, multipleNonGreedy: true }),
    'engine-label': Flags.string({ description: 'engine label key=value (repeatable)', multiple: true, multipleNonGreedy: true }),
    'engine-env': Flags.string({ description: 'engine environment KEY=VALUE (repeatable; HTTP_PROXY etc.)', multiple: true, multipleNonGreedy: true }),
    'engine-storage-driver': Flags.string({ description: 'engine storage driver (overlay2, vfs)' }),
    'tls-san': Flags.string({ description: 'extra name or IP in the server certificate (repeatable)', multiple: true, multipleNonGreedy: true }),
    'keep-on-failure': Flags.boolean({ description: 'keep what was made when create fails' }),
    json: Flags.boolean({ description: 'print the result as JSON (no progress)' }),
    'swarm-manager': Flags.boolean({ description: 'make the machine a swarm manager (docker swarm init)' }),
    'swarm-join': Flags.string({ description: 'join the swarm of this manager machine as a worker' }),
    ...driverFlags(),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Create);
    await runCreate(this.storeFrom(flags), argv as string[], flags, this.config.bin);
  }
}
