/** The docker CLI's arithmetic for stats, system df and events lines, on recorded engine answers. */
import { bytesSize } from '../../../src/client/format.js';
import { statsRow } from '../../../src/client/stats.js';
import { dfRows } from '../../../src/client/commands/system/df.js';
import { eventLine } from '../../../src/client/commands/events.js';
import { markMaps } from '../../../src/client/inspect.js';
import { renderTemplate } from '../../../src/client/format.js';

test('bytesSize is units.BytesSize: binary, 4 significant digits', () => {
  expect(bytesSize(0)).toBe('0B');
  expect(bytesSize(512 * 1024)).toBe('512KiB');
  expect(bytesSize(7.6171875 * 1024 ** 3)).toBe('7.617GiB');
  expect(bytesSize(2 ** 63)).toBe('8EiB');
});

test('statsRow: CPU over the system delta times online CPUs, memory without inactive_file', () => {
  const s = {
    id: 'a'.repeat(64), name: '/web',
    cpu_stats: { cpu_usage: { total_usage: 3_000_000 }, system_cpu_usage: 20_000_000, online_cpus: 2 },
    precpu_stats: { cpu_usage: { total_usage: 1_000_000 }, system_cpu_usage: 10_000_000 },
    memory_stats: { usage: 3 * 1024 * 1024, limit: 100 * 1024 * 1024, stats: { inactive_file: 1024 * 1024 } },
    networks: { eth0: { rx_bytes: 1500, tx_bytes: 500 }, eth1: { rx_bytes: 500, tx_bytes: 0 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'write', value: 2_000_000 }] },
    pids_stats: { current: 3 },
  };
  expect(statsRow('web', s, false)).toEqual({
    BlockIO: '4.1kB / 2MB', CPUPerc: '40.00%', Container: 'web', ID: 'aaaaaaaaaaaa', MemPerc: '2.00%', MemUsage: '2MiB / 100MiB', Name: 'web', NetIO: '2kB / 500B', PIDs: '3',
  });
});

test('dfRows: reclaimable sizes and percentages as docker system df computes them', () => {
  const rows = dfRows({
    LayersSize: 10_000_000,
    Images: [{ Containers: 1, Size: 6_000_000, SharedSize: 1_000_000 }, { Containers: 0, Size: 5_000_000, SharedSize: 1_000_000 }],
    Containers: [{ State: 'running', SizeRw: 100 }, { State: 'exited', SizeRw: 300 }],
    Volumes: [{ UsageData: { RefCount: 0, Size: 2000 } }, { UsageData: { RefCount: 1, Size: -1 } }],
    BuildCache: [],
  });
  expect(rows).toEqual([
    { Type: 'Images', TotalCount: '2', Active: '1', Size: '10MB', Reclaimable: '5MB (50%)' },
    { Type: 'Containers', TotalCount: '2', Active: '1', Size: '400B', Reclaimable: '300B (75%)' },
    { Type: 'Local Volumes', TotalCount: '2', Active: '1', Size: '2kB', Reclaimable: '2kB (100%)' },
    { Type: 'Build Cache', TotalCount: '0', Active: '0', Size: '0B', Reclaimable: '0B' },
  ]);
});

test('eventLine: time with nanoseconds, then type, action, actor and sorted attributes', () => {
  const line = eventLine({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'x', image: 'busybox' } }, time: 1_700_000_000 }, 1_700_000_000_123_456_789n);
  expect(line).toMatch(/^2023-11-1\dT\d\d:\d\d:20\.123456789(Z|[+-]\d\d:\d\d) container start abc \(image=busybox, name=x\)$/);
});

test('inspect templates print map-typed fields as Go maps and structs as structs', () => {
  const v = markMaps({ Name: 'n', Labels: { b: '2', a: '1' }, IPAM: { Driver: 'default', Config: [{ Subnet: '10.0.0.0/24' }] } });
  expect(renderTemplate('{{.Labels}} {{.IPAM.Config}}', v)).toBe('map[a:1 b:2] [{10.0.0.0/24}]');
});
