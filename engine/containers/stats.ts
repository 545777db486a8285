/** Container stats from cgroup v1 controllers or the v2 unified hierarchy, in docker's JSON shape. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';

const V1 = '/sys/fs/cgroup';

async function num(path: string): Promise<number | undefined> {
  try {
    const v = (await readFile(path, 'utf8')).trim();
    return v === 'max' ? undefined : Number(v);
  } catch {
    return undefined;
  }
}

async function keyed(path: string): Promise<Record<string, number>> {
  try {
    const out: Record<string, number> = {};
    for (const line of (await readFile(path, 'utf8')).split('\n')) {
      const [k, v] = line.split(/\s+/);
      if (k && v !== undefined) out[k] = Number(v);
    }
    return out;
  } catch {
    return {};
  }
}

async function systemCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const ticks = line.split(/\s+/).slice(1, 8).map(Number).reduce((a, b) => a + b, 0);
  return ticks * 1e7; // USER_HZ is 100 on Linux
}

async function networks(pid: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  try {
    for (const line of (await readFile(`/proc/${pid}/net/dev`, 'utf8')).split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
      if (!m || m[1] === 'lo') continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      out[m[1]] = { rx_bytes: f[0], rx_packets: f[1], rx_errors: f[2], rx_dropped: f[3], tx_bytes: f[8], tx_packets: f[9], tx_errors: f[10], tx_dropped: f[11] };
    }
  } catch {
    // Process gone between samples: no network figures.
  }
  return out;
}

export interface CpuSample { cpu_usage: { total_usage: number; percpu_usage?: number[]; usage_in_kernelmode: number; usage_in_usermode: number }; system_cpu_usage: number; online_cpus: number; throttling_data: Record<string, number> }

export async function sample(id: string, pid: number, name: string): Promise<Record<string, unknown>> {
  const cg = `/berth/${id}`;
  const v2 = existsSync(`${V1}/cgroup.controllers`) ? `${V1}${cg}` : undefined;
  let memory: Record<string, unknown>;
  let cpuTotal = 0;
  let percpu: number[] | undefined;
  let pidsCurrent: number | undefined;
  let pidsLimit: number | undefined;
  if (v2) {
    const stat = await keyed(`${v2}/memory.stat`);
    memory = { usage: await num(`${v2}/memory.current`) ?? 0, limit: hostLimit(await num(`${v2}/memory.max`)), stats: stat };
    cpuTotal = ((await keyed(`${v2}/cpu.stat`)).usage_usec ?? 0) * 1000;
    pidsCurrent = await num(`${v2}/pids.current`);
    pidsLimit = await num(`${v2}/pids.max`);
  } else {
    const stat = await keyed(`${V1}/memory${cg}/memory.stat`);
    memory = { usage: await num(`${V1}/memory${cg}/memory.usage_in_bytes`) ?? 0, max_usage: await num(`${V1}/memory${cg}/memory.max_usage_in_bytes`) ?? 0, limit: hostLimit(await num(`${V1}/memory${cg}/memory.limit_in_bytes`)), failcnt: await num(`${V1}/memory${cg}/memory.failcnt`) ?? 0, stats: stat };
    cpuTotal = await num(`${V1}/cpuacct${cg}/cpuacct.usage`) ?? 0;
    try {
      percpu = (await readFile(`${V1}/cpuacct${cg}/cpuacct.usage_percpu`, 'utf8')).trim().split(/\s+/).map(Number);
    } catch {
      percpu = undefined;
    }
    pidsCurrent = await num(`${V1}/pids${cg}/pids.current`);
    pidsLimit = await num(`${V1}/pids${cg}/pids.max`);
  }
  return {
    read: new Date().toISOString(),
    name: `/${name}`,
    id,
    pids_stats: { current: pidsCurrent ?? 0, ...(pidsLimit !== undefined ? { limit: pidsLimit } : {}) },
    blkio_stats: { io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null, io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: { cpu_usage: { total_usage: cpuTotal, ...(percpu ? { percpu_usage: percpu } : {}), usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: await systemCpuNs(), online_cpus: availableParallelism(), throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: memory,
    networks: await networks(pid),
  };
}

export const ZERO_CPU = { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };

/** As dockerd: without a limit (cgroup "max" or v1's huge page-rounded value) the limit is the host's memory. */
function hostLimit(limit: number | undefined): number {
  const host = totalmem();
  return limit === undefined || !Number.isFinite(limit) || limit <= 0 || limit > host ? host : limit;
}
