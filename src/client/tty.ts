/**
 * The local terminal for -t sessions: raw mode while attached (restored on every
 * exit path) and the window size sent to the engine now and on each SIGWINCH.
 */
export interface TerminalSession { restore(): void }

export function enterRawMode(): TerminalSession {
  const stdin = process.stdin;
  if (!stdin.isTTY) return { restore: () => undefined };
  stdin.setRawMode(true);
  const restore = () => {
    try {
      stdin.setRawMode(false);
    } catch {
      // The terminal is gone (hang-up): nothing left to restore.
    }
  };
  process.once('exit', restore);
  return { restore };
}

/** Calls resize(rows, cols) now and whenever the local terminal changes; returns a stop function. */
export function followWindowSize(resize: (rows: number, cols: number) => Promise<unknown>): () => void {
  const out = process.stdout;
  if (!out.isTTY) return () => undefined;
  const send = () => void resize(out.rows, out.columns).catch(() => undefined /* the container may be gone already */);
  send();
  out.on('resize', send);
  return () => out.off('resize', send);
}
