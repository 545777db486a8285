/** Leases keep blobs and layers that work in progress needs safe from GC. */
export interface Lease {
  add(id: string): void;
  close(): void;
}

/** What a GC must keep besides the records it read: ids leased when it began or since. */
export interface LeaseWatch {
  readonly seen: ReadonlySet<string>;
  stop(): void;
}

export class Leases {
  private readonly counts = new Map<string, number>();
  private readonly watches = new Set<Set<string>>();

  open(): Lease {
    const mine = new Set<string>();
    return {
      add: (id) => {
        if (mine.has(id)) return;
        mine.add(id);
        this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
        for (const w of this.watches) w.add(id);
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

  /**
   * A GC reads the image records once, then walks the stores. Work that leases an id,
   * writes its record and closes the lease in between would lose its blob to that walk
   * if only leases held at delete time counted, so a GC keeps all it has seen leased.
   */
  watch(): LeaseWatch {
    const seen = new Set(this.counts.keys());
    this.watches.add(seen);
    return { seen, stop: () => this.watches.delete(seen) };
  }
}
