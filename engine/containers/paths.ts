/** Where a container's files live. Socket paths stay short: unix sockets allow ~107 bytes. */
import { join } from 'node:path';

export class ContainerPaths {
  constructor(readonly dataRoot: string, readonly execRoot: string) {}
  containersRoot(): string { return join(this.dataRoot, 'containers'); }
  dir(id: string): string { return join(this.dataRoot, 'containers', id); }
  bundle(id: string): string { return join(this.execRoot, 'bundles', id); }
  rootfs(id: string): string { return join(this.execRoot, 'bundles', id, 'rootfs'); }
  pidFile(id: string): string { return join(this.execRoot, 'bundles', id, 'pid'); }
  runtimeRoot(): string { return join(this.execRoot, 'runtime'); }
  monitorSocket(id: string): string { return join(this.execRoot, 'm', `${id.slice(0, 24)}.sock`); }
  execDir(execId: string): string { return join(this.execRoot, 'exec', execId); }
  execSocket(execId: string): string { return join(this.execRoot, 'm', `x${execId.slice(0, 24)}.sock`); }
}
