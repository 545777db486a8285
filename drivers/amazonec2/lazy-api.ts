import type { Ec2Api } from './api.js';
import type { Ec2Settings } from './flags.js';

/**
 * The SDK-backed Ec2Api, loaded at its first call: the driver registry is read by
 * every machine command, and the AWS SDK costs more to load than `machine ls` does
 * in all; only a command that talks to EC2 pays for it.
 */
export function lazySdkEc2Api(s: Ec2Settings): Ec2Api {
  let real: Promise<Ec2Api> | undefined;
  const load = () => (real ??= import('./api.js').then((m) => m.sdkEc2Api(s)));
  return new Proxy({} as Ec2Api, {
    get: (_target, name) => (name === 'then' || typeof name !== 'string'
      ? undefined
      : async (...args: unknown[]) => ((await load()) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](...args)),
  });
}
