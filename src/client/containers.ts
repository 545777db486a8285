import { ago, shortId } from './format.js';

/**
 * Rows of `ps`, shaped like the docker CLI's --format json objects (ID, Image,
 * Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Labels, Mounts,
 * Networks), from GET /containers/json summaries.
 */
export interface PsRow {
  Command: string; CreatedAt: string; ID: string; Image: string; Labels: string; LocalVolumes: string; Mounts: string;
  Names: string; Networks: string; Ports: string; RunningFor: string; Size: string; State: string; Status: string;
}

export const PS_HEADERS = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];

export function goTime(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

export function formatPorts(ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }> = []): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP ? `${p.IP.includes(':') ? `[${p.IP}]` : p.IP}:` : ''}${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

export function containerRows(list: any[], noTrunc: boolean): PsRow[] {
  return list.map((c) => {
    const cmd = String(c.Command ?? '');
    return {
      Command: JSON.stringify(noTrunc || cmd.length <= 20 ? cmd : `${cmd.slice(0, 19)}…`),
      CreatedAt: goTime(c.Created),
      ID: noTrunc ? c.Id : shortId(c.Id),
      Image: String(c.Image ?? ''),
      Labels: Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      LocalVolumes: String((c.Mounts ?? []).filter((m: any) => m.Type === 'volume').length),
      Mounts: (c.Mounts ?? []).map((m: any) => m.Name ?? m.Source).join(','),
      Names: (c.Names ?? []).map((n: string) => n.replace(/^\//, '')).join(','),
      Networks: Object.keys(c.NetworkSettings?.Networks ?? {}).join(','),
      Ports: formatPorts(c.Ports),
      RunningFor: ago(c.Created),
      Size: c.SizeRw !== undefined ? `${c.SizeRw}B` : '0B',
      State: String(c.State ?? ''),
      Status: String(c.Status ?? ''),
    };
  });
}

export function psTableRow(r: PsRow): string[] {
  return [r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names];
}
