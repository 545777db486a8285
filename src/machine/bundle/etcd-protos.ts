import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * esbuild plugin for the single-file engine: etcd3 (the swarm store's client) reads
 * its .proto files from beside its own source when it loads, which a bundle does not
 * have. They are inlined as a protobufjs JSON descriptor and read with proto-loader's
 * fromJSON, with the same options.
 */
export function inlineEtcdProtos(): Plugin {
  return {
    name: 'inline-etcd-protos',
    setup(build) {
      build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
        const src = await readFile(args.path, 'utf8');
        const needle = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`,';
        if (!src.includes(needle)) throw new Error(`${args.path} no longer loads its protos as the bundle expects: update src/machine/bundle/etcd-protos.ts`);
        const protobuf = (await import('protobufjs')).default;
        const root = new protobuf.Root();
        root.loadSync(join(dirname(args.path), '..', 'proto', 'rpc.proto'), { keepCase: true });
        return { contents: src.replace(needle, `(0, proto_loader_1.fromJSON)(${JSON.stringify(root.toJSON())},`), loader: 'js' };
      });
    },
  };
}
