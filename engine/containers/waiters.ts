/** Clients blocked in POST /containers/{id}/wait, released on exit or removal. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';
export interface WaitResult { StatusCode: number; Error: { Message: string } | null }

type Kind = 'exit' | 'removed';

export class Waiters {
  private waiting = new Map<string, Set<{ kind: Kind; resolve: (r: WaitResult) => void }>>();

  add(id: string, kind: Kind): Promise<WaitResult> {
    return new Promise((resolve) => {
      let set = this.waiting.get(id);
      if (!set) this.waiting.set(id, (set = new Set()));
      set.add({ kind, resolve });
    });
  }

  notify(id: string, kind: Kind, result: WaitResult): void {
    const set = this.waiting.get(id);
    if (!set) return;
    for (const w of [...set]) {
      if (w.kind === kind) {
        set.delete(w);
        w.resolve(result);
      }
    }
    if (!set.size) this.waiting.delete(id);
  }
}
