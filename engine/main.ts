/** berthd's entry: flags, data-root lock, pidfile, listeners, clean stop on SIGTERM/SIGINT. */
import { mkdirSync } from 'node:fs';
import { isEngineError } from './errors.js';
import { parseDaemonArgs, USAGE } from './config.js';
import { startEngine } from './daemon.js';
import { lockDataRoot } from './lock.js';
import { log, setLogLevel } from './log.js';
import { writePidfile } from './pidfile.js';
import { BERTH_VERSION } from './version.js';

/**
 * node's thread pool (4 threads by default) runs every fs call, and a record's fsync
 * holds a thread for the disk's time: under a burst of creates four are the queue.
 * libuv reads this once, at the pool's first use; in the single executable that is
 * after this line (bin/berthd's sh line sets it for the ESM loader's own reads).
 */
process.env.UV_THREADPOOL_SIZE ??= '16';

export async function main(argv: string[]): Promise<void> {
  try {
    await run(argv);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`berthd: ${message}\n`);
    if (!isEngineError(err) && err instanceof Error && err.stack) log.debug(err.stack);
    process.exit(1);
  }
}

async function run(argv: string[]): Promise<void> {
  const { config, version, help } = parseDaemonArgs(argv);
  if (help) {
    process.stdout.write(USAGE);
    return;
  }
  if (version) {
    process.stdout.write(`berthd version ${BERTH_VERSION}\n`);
    return;
  }
  setLogLevel(config.logLevel === 'fatal' ? 'error' : config.logLevel);
  mkdirSync(config.dataRoot, { recursive: true, mode: 0o711 });
  mkdirSync(config.execRoot, { recursive: true, mode: 0o711 });
  const lock = lockDataRoot(config.dataRoot);
  let removePidfile: (() => void) | undefined;
  try {
    removePidfile = writePidfile(config.pidfile);
    const daemon = await startEngine(config);
    log.info(`berthd ${BERTH_VERSION} started (pid ${process.pid}, data-root ${config.dataRoot}, storage-driver ${daemon.engine.snapshots.driver})`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${signal}: stopping`);
      try {
        await daemon.stop();
      } finally {
        removePidfile?.();
        lock.release();
        process.exit(0);
      }
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGPIPE', () => undefined);
    // One request's bug must not take every container's API down: log it and go on.
    process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`));
    process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`));
  } catch (err) {
    removePidfile?.();
    lock.release();
    throw err;
  }
}
