/**
 * The engine's event bus: services emit docker-shaped events, GET /events
 * subscribes. A bounded history answers `since` for recent past events.
 */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'plugin' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  /** Pre-1.22 fields docker still sends for containers and images. */
  status?: string;
  id?: string;
  from?: string;
}

export type EventInput = Pick<EngineEvent, 'Type' | 'Action'> & { Actor: { ID: string; Attributes?: Record<string, string> } };

/** docker's events filters: key -> accepted values (any of them). */
export type EventFilters = Record<string, string[]>;

export interface Subscription {
  /** Events so far (from `since`), then live ones; ends at `until` or on close(). */
  [Symbol.asyncIterator](): AsyncIterator<EngineEvent>;
  close(): void;
}

const HISTORY = 1024;

export class EventBus {
  private readonly history: EngineEvent[] = [];
  private readonly listeners = new Set<(e: EngineEvent) => void>();

  emit(input: EventInput): EngineEvent {
    const timeNano = Number(wallClockNanos());
    const event: EngineEvent = {
      Type: input.Type,
      Action: input.Action,
      Actor: { ID: input.Actor.ID, Attributes: input.Actor.Attributes ?? {} },
      scope: 'local',
      time: Math.floor(timeNano / 1e9),
      timeNano,
    };
    if (input.Type === 'container' || input.Type === 'image') {
      event.status = input.Action;
      event.id = input.Actor.ID;
      if (input.Actor.Attributes?.image) event.from = input.Actor.Attributes.image;
    }
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    for (const l of this.listeners) l(event);
    return event;
  }

  /** since/until are unix seconds (fractions allowed), as docker's query parameters. */
  subscribe(filters: EventFilters = {}, since?: number, until?: number): Subscription {
    const queue: EngineEvent[] = [];
    let wake: (() => void) | undefined;
    let closed = false;
    const accept = (e: EngineEvent) => matches(e, filters) && (until === undefined || e.timeNano <= until * 1e9);
    if (since !== undefined) queue.push(...this.history.filter((e) => e.timeNano >= since * 1e9 && accept(e)));
    const listener = (e: EngineEvent) => {
      if (accept(e)) {
        queue.push(e);
        wake?.();
      }
    };
    this.listeners.add(listener);
    let timer: NodeJS.Timeout | undefined;
    const close = () => {
      closed = true;
      this.listeners.delete(listener);
      if (timer) clearTimeout(timer);
      wake?.();
    };
    if (until !== undefined) {
      const ms = until * 1000 - Date.now();
      if (ms <= 0) closed = true;
      else timer = setTimeout(close, ms);
    }
    if (closed) this.listeners.delete(listener);
    return {
      close,
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<EngineEvent>> => {
          while (queue.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
          const value = queue.shift();
          return value ? { value, done: false } : { value: undefined, done: true };
        },
        return: async () => {
          close();
          return { value: undefined, done: true };
        },
      }),
    };
  }
}

// Nanosecond wall clock: Date.now() has ms resolution, hrtime gives the rest.
const hrtimeOffset = process.hrtime.bigint();
const wallAtOffset = BigInt(Date.now()) * 1_000_000n;
function wallClockNanos(): bigint {
  return wallAtOffset + (process.hrtime.bigint() - hrtimeOffset);
}

function matches(e: EngineEvent, filters: EventFilters): boolean {
  for (const [key, values] of Object.entries(filters)) {
    if (values.length === 0) continue;
    const ok = values.some((v) => {
      switch (key) {
        case 'type':
          return e.Type === v;
        case 'event':
          return e.Action === v || e.Action.startsWith(`${v}:`);
        case 'container':
          return e.Type === 'container' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'image':
          return (e.Type === 'image' && (e.Actor.ID === v || e.Actor.Attributes.name === v)) || e.Actor.Attributes.image === v;
        case 'network':
          return e.Type === 'network' && (e.Actor.ID.startsWith(v) || e.Actor.Attributes.name === v);
        case 'volume':
          return e.Type === 'volume' && e.Actor.ID === v;
        case 'label': {
          const [k, val] = v.split('=', 2);
          return val === undefined ? k in e.Actor.Attributes : e.Actor.Attributes[k] === val;
        }
        case 'scope':
          return e.scope === v;
        case 'daemon':
          return e.Type === 'daemon' && e.Actor.ID === v;
        default:
          return true;
      }
    });
    if (!ok) return false;
  }
  return true;
}
