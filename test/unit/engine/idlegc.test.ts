import { jest } from '@jest/globals';
import { collectWhenIdle } from '../../../engine/idlegc.js';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('one collection after a quiet period, none while requests come, one again after the next request', () => {
  let requests = 0;
  let collections = 0;
  const stop = collectWhenIdle(() => requests, { quietMs: 1000, collect: () => collections++ });
  try {
    for (let i = 0; i < 10; i++) {
      requests++;
      jest.advanceTimersByTime(1000);
    }
    expect(collections).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(collections).toBe(1);
    jest.advanceTimersByTime(10_000);
    expect(collections).toBe(1);
    requests++;
    jest.advanceTimersByTime(2000);
    expect(collections).toBe(2);
  } finally {
    stop();
  }
  jest.advanceTimersByTime(10_000);
  expect(collections).toBe(2);
});

test('without --expose-gc the collector still finds node\'s gc()', () => {
  expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  const stop = collectWhenIdle(() => 0, { quietMs: 1000 });
  jest.advanceTimersByTime(2000);
  stop();
});
