import type { OptionTable, Parsed } from '../../argv.js';
import { ClientHandler } from '../../handler.js';
import { humanSize, renderList, table } from '../../format.js';

const OPTIONS = {
  format: { kind: 'string', description: 'json, table, or a template like "{{.Type}} {{.Size}}"', value: 'FORMAT' },
  verbose: { kind: 'bool', char: 'v', description: 'show detailed information on space usage (not supported: use images, ps -s, volume ls)' },
} as const satisfies OptionTable;

interface Row { Type: string; TotalCount: string; Active: string; Size: string; Reclaimable: string }

const size = (n: number) => humanSize(n, 4);
/** "1.2MB (50%)": the percentage is Go's integer division, left out when nothing is counted. */
const reclaim = (r: number, total: number, percent = true) => (percent && total > 0 ? `${size(r)} (${Math.trunc((r * 100) / total)}%)` : size(r));

export function dfRows(df: any): Row[] {
  const images: any[] = df.Images ?? [];
  const used = images.filter((i) => i.Containers > 0 && i.Size >= 0 && i.SharedSize >= 0).reduce((s, i) => s + i.Size - i.SharedSize, 0);
  const layers = Number(df.LayersSize ?? 0);
  const containers: any[] = df.Containers ?? [];
  const cSize = containers.reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const cFree = containers.filter((c) => c.State !== 'running').reduce((s, c) => s + (c.SizeRw ?? 0), 0);
  const volumes: any[] = df.Volumes ?? [];
  const vSize = volumes.reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const vFree = volumes.filter((v) => !(v.UsageData?.RefCount > 0)).reduce((s, v) => s + Math.max(0, v.UsageData?.Size ?? 0), 0);
  const cache: any[] = df.BuildCache ?? [];
  const bSize = cache.filter((b) => !b.Shared).reduce((s, b) => s + b.Size, 0);
  const bFree = cache.filter((b) => !b.Shared && !b.InUse).reduce((s, b) => s + b.Size, 0);
  return [
    { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: size(layers), Reclaimable: reclaim(layers - used, layers) },
    { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => c.State === 'running').length), Size: size(cSize), Reclaimable: reclaim(cFree, cSize) },
    { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => v.UsageData?.RefCount > 0).length), Size: size(vSize), Reclaimable: reclaim(vFree, vSize) },
    { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((b) => b.InUse).length), Size: size(bSize), Reclaimable: reclaim(bFree, bSize, false) },
  ];
}

export default class SystemDf extends ClientHandler<typeof OPTIONS> {
  static summary = 'Show docker disk usage';
  static usage = 'system df [OPTIONS]';
  static maxArgs = 0;
  static options = OPTIONS;

  protected async exec({ opts }: Parsed<typeof OPTIONS>): Promise<void> {
    const rows = dfRows(await this.client.json('GET', '/system/df'));
    const header = (f: string) => ({ TotalCount: 'TOTAL' } as Record<string, string>)[f] ?? f.toUpperCase();
    this.out(renderList(opts.format, rows, () => table(['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable])), header));
  }
}
