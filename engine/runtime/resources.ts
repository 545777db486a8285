/** HostConfig resource fields -> OCI linux.resources, with docker's rules and bounds checks. */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '../errors.js';
import type { HostConfig } from '../containers/types.js';
import type { OciResources } from './oci.js';

const MIN_MEMORY = 6 * 1024 * 1024;
const MAX_CPU_SHARES = 262144;

let swapAccounting: boolean | undefined;
/** Swap limits only exist with swap accounting (v1 memsw, v2 memory.swap.max). */
export function hostHasSwapAccounting(): boolean {
  swapAccounting ??= existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')
    || existsSync('/sys/fs/cgroup/memory.swap.max');
  return swapAccounting;
}

export function hostCpuCount(): number {
  return availableParallelism();
}

/** Checks the resource fields a client sent; absurd values are rejected before anything changes. */
/** HostConfig fields that are integers in dockerd's Go types. */
const INTEGER_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'MemorySwappiness', 'KernelMemory', 'KernelMemoryTCP', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod',
  'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpuCount', 'CpuPercent', 'BlkioWeight', 'PidsLimit', 'ShmSize', 'OomScoreAdj', 'IOMaximumIOps', 'IOMaximumBandwidth'] as const;

export function validateResources(hc: HostConfig): void {
  for (const f of INTEGER_FIELDS) {
    const v = (hc as Record<string, unknown>)[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number') throw new InvalidArgumentError(`invalid JSON: json: cannot unmarshal ${typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : Array.isArray(v) ? 'array' : 'object'} into Go struct field HostConfig.HostConfig.${f} of type int64`);
    if (!Number.isInteger(v)) throw new InvalidArgumentError(`invalid JSON: json: cannot unmarshal number ${v} into Go struct field HostConfig.HostConfig.${f} of type int64`);
  }
  const swappiness = (hc as { MemorySwappiness?: number | null }).MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    throw new InvalidArgumentError(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  const blkio = (hc as { BlkioWeight?: number }).BlkioWeight ?? 0;
  if (blkio > 0 && (blkio < 10 || blkio > 1000)) throw new InvalidArgumentError('Range of blkio weight is from 10 to 1000');
  const memory = hc.Memory ?? 0;
  if (memory < 0) throw new InvalidArgumentError(`invalid Memory ${memory}: must be a positive number of bytes`);
  if (memory > 0 && memory < MIN_MEMORY) throw new InvalidArgumentError('Minimum memory limit allowed is 6MB');
  if (memory > Number.MAX_SAFE_INTEGER) throw new InvalidArgumentError(`invalid Memory ${memory}: too large`);
  const swap = hc.MemorySwap ?? 0;
  if (swap > 0 && memory > 0 && swap < memory) {
    throw new InvalidArgumentError('Minimum memoryswap limit should be larger than memory limit, see usage');
  }
  if (swap < -1) throw new InvalidArgumentError(`invalid MemorySwap ${swap}: use -1 (unlimited) or a limit at least Memory`);
  if (swap > 0 && memory === 0) throw new InvalidArgumentError('You should always set the Memory limit when using Memoryswap limit, see usage');
  const nano = hc.NanoCpus ?? 0;
  if (nano < 0) throw new InvalidArgumentError(`invalid NanoCpus ${nano}: must be positive`);
  if (nano > 0 && (hc.CpuQuota || hc.CpuPeriod)) {
    throw new InvalidArgumentError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  }
  if (nano > hostCpuCount() * 1e9) {
    throw new InvalidArgumentError(`Range of CPUs is from 0.01 to ${hostCpuCount()}.00, as there are only ${hostCpuCount()} CPUs available`);
  }
  const shares = hc.CpuShares ?? 0;
  if (shares < 0 || shares > MAX_CPU_SHARES) throw new InvalidArgumentError(`invalid CpuShares ${shares}: must be between 2 and ${MAX_CPU_SHARES}`);
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) throw new InvalidArgumentError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = hc.CpuQuota ?? 0;
  if (quota !== 0 && quota !== -1 && quota < 1000) throw new InvalidArgumentError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (hc.CpusetCpus && !/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(hc.CpusetCpus)) {
    throw new InvalidArgumentError(`invalid CpusetCpus ${JSON.stringify(hc.CpusetCpus)}: use a list like 0-1,3`);
  }
  if (hc.CpusetCpus) {
    const max = Math.max(...hc.CpusetCpus.split(/[,-]/).map(Number));
    if (max >= hostCpuCount()) throw new InvalidArgumentError(`Requested CPUs are not available - requested ${hc.CpusetCpus}, available: 0-${hostCpuCount() - 1}`);
  }
  const pids = hc.PidsLimit ?? 0;
  if (pids > 4194304) throw new InvalidArgumentError(`invalid PidsLimit ${pids}: the kernel allows at most 4194304`);
  const shm = hc.ShmSize ?? 0;
  if (shm < 0) throw new InvalidArgumentError(`invalid ShmSize ${shm}: must be a positive number of bytes`);
  const oom = hc.OomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw new InvalidArgumentError(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);
}

export function toOciResources(hc: HostConfig): OciResources {
  const r: OciResources = {};
  const memory = hc.Memory ?? 0;
  if (memory > 0) {
    r.memory = { limit: memory };
    if (hostHasSwapAccounting()) {
      const swap = hc.MemorySwap ?? 0;
      r.memory.swap = swap === 0 ? memory * 2 : swap;
    }
  }
  if (hc.MemoryReservation) (r.memory ??= {}).reservation = hc.MemoryReservation;
  const cpu: NonNullable<OciResources['cpu']> = {};
  if (hc.CpuShares) cpu.shares = hc.CpuShares;
  if (hc.NanoCpus) { cpu.period = 100000; cpu.quota = Math.round(hc.NanoCpus * 100000 / 1e9); }
  if (hc.CpuPeriod) cpu.period = hc.CpuPeriod;
  if (hc.CpuQuota) cpu.quota = hc.CpuQuota;
  if (hc.CpusetCpus) cpu.cpus = hc.CpusetCpus;
  if (hc.CpusetMems) cpu.mems = hc.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  if (hc.PidsLimit && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  return r;
}
