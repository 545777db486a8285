/** Placement preferences of the scheduler and the failure rule of rolling updates, over store snapshots. */
import { pickNode, spreadPreferences } from '../../../../engine/swarm/scheduler.js';
import { updateFailure } from '../../../../engine/swarm/orchestrator.js';
import type { Obj } from '../../../../engine/swarm/store.js';

const node = (id: string, zone?: string): Obj => ({ id, version: 1, created: 1, value: { Spec: { Labels: zone ? { zone } : {}, Role: 'worker', Availability: 'active' } } });
const running = (NodeID: string, ServiceID = 's') => ({ NodeID, ServiceID, DesiredState: 'running', Status: { State: 'running' } });

test('spread=node.labels.zone fills the zone with the fewest tasks of the service first', () => {
  const nodes = [node('n1', 'a'), node('n2', 'a'), node('n3', 'b')];
  const prefs = spreadPreferences({ Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] });
  expect(prefs).toEqual(['node.labels.zone']);
  const tasks: any[] = [];
  for (let i = 0; i < 6; i++) tasks.push(running(pickNode(nodes, tasks, 's', prefs)!.id));
  const per = (id: string) => tasks.filter((t) => t.NodeID === id).length;
  // zone b (one node) gets half, like zone a (two nodes)
  expect([per('n1'), per('n2'), per('n3')]).toEqual([2, 1, 3]);
  // without the preference: even over nodes
  const plain: any[] = [];
  for (let i = 0; i < 6; i++) plain.push(running(pickNode(nodes, plain, 's')!.id));
  expect(plain.filter((t) => t.NodeID === 'n3')).toHaveLength(2);
  // nodes without the label form a group of their own
  const mixed = [node('n1', 'a'), node('n4')];
  const t2: any[] = [running('n1')];
  expect(pickNode(mixed, t2, 's', prefs)!.id).toBe('n4');
});

test('an update stops once failures within the monitor window exceed MaxFailureRatio of the slots', () => {
  const start = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(start + ms).toISOString();
  const task = (id: string, state: string, createdMs: number, statusMs: number, isNew = true): Obj<any> => ({
    id, version: 1, created: 1, value: { New: isNew, CreatedAt: at(createdMs), Status: { State: state, Timestamp: at(statusMs) } },
  });
  const isNew = (t: any) => t.New;
  const tasks = [task('ok1', 'running', 10, 500), task('bad', 'failed', 20, 2000), task('ok2', 'running', 30, 600), task('ok3', 'running', 40, 700)];
  // docker's default: any failure stops the update
  expect(updateFailure(tasks, isNew, start, { Monitor: 5e9, MaxFailureRatio: 0 }, 4)?.id).toBe('bad');
  // one of four slots is within a ratio of 0.3
  expect(updateFailure(tasks, isNew, start, { Monitor: 5e9, MaxFailureRatio: 0.3 }, 4)).toBeUndefined();
  expect(updateFailure([...tasks, task('bad2', 'rejected', 50, 900)], isNew, start, { Monitor: 5e9, MaxFailureRatio: 0.3 }, 4)?.id).toBe('bad');
  // a failure after the monitor window does not count
  expect(updateFailure(tasks, isNew, start, { Monitor: 1e9, MaxFailureRatio: 0 }, 4)).toBeUndefined();
  // tasks of the old spec, or from before the update, do not count
  expect(updateFailure([task('old', 'failed', 20, 100, false), task('early', 'failed', -1000, 100)], isNew, start, { Monitor: 5e9 }, 4)).toBeUndefined();
});
