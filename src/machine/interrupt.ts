/**
 * SIGINT/SIGTERM during long work (create): the first signal is recorded and the
 * listeners run (they cut in-flight SSH so the current step ends at once); work
 * checks `stopped` between steps. A second signal exits at once: the half-made
 * marker written before any step lets the next create resume from there.
 */
export class Interruption {
  signal?: NodeJS.Signals;
  private readonly listeners = new Set<() => void>();
  private readonly controller = new AbortController();
  private readonly handler = (sig: NodeJS.Signals) => {
    if (this.signal) process.exit(sig === 'SIGTERM' ? 143 : 130);
    this.signal = sig;
    this.controller.abort();
    for (const fn of this.listeners) fn();
  };

  /** Aborted at the first signal: what drivers are given to stop their own long work. */
  get abortSignal(): AbortSignal { return this.controller.signal; }

  constructor() {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  get stopped(): boolean { return this.signal !== undefined; }

  /** Runs `fn` when a signal arrives; returns the function that unregisters it. */
  onSignal(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}
