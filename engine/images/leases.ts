/** Leases keep blobs and layers that work in progress needs safe from GC. */
export interface Lease {
  add(id: string): void;
  close(): void;
}

export class Leases {
  private readonly counts = new Map<string, number>();

  open(): Lease {
    const mine = new Set<string>();
    return {
      add: (id) => {
        if (mine.has(id)) return;
        mine.add(id);
        this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
      },
      close: () => {
        for (const id of mine) {
          const n = (this.counts.get(id) ?? 1) - 1;
          if (n <= 0) this.counts.delete(id);
          else this.counts.set(id, n);
        }
        mine.clear();
      },
    };
  }

  held(id: string): boolean {
    return this.counts.has(id);
  }

  /** Every id some lease holds now. */
  ids(): string[] {
    return [...this.counts.keys()];
  }
}
