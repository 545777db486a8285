import { Listr, PRESET_TIMER, type ListrTask } from 'listr2';

/**
 * How long work is shown: listr2's task tree with durations on a TTY, a plain line
 * per step otherwise (logs, CI), nothing with --json. Tasks run to the end even
 * when a sibling fails; the failures are returned, not thrown.
 */
export type Progress = 'tty' | 'plain' | 'silent';

export function progressMode(json: boolean): Progress {
  if (json) return 'silent';
  return process.stdout.isTTY ? 'tty' : 'plain';
}

export async function runTasks<C>(tasks: ListrTask<C>[], mode: Progress, concurrent: boolean, ctx: C): Promise<Error[]> {
  const list = new Listr<C, 'default', 'simple'>(tasks, {
    concurrent,
    exitOnError: false,
    ctx,
    renderer: mode === 'silent' ? 'silent' as 'default' : mode === 'tty' ? 'default' : 'simple' as 'default',
    fallbackRenderer: 'simple',
    rendererOptions: { timer: PRESET_TIMER, collapseSubtasks: false, showErrorMessage: true },
    fallbackRendererOptions: { timer: PRESET_TIMER },
    collectErrors: 'minimal',
    // listr2 would exit 127 on SIGINT; create handles signals itself, other work gets Node's default.
    registerSignalListeners: false,
  });
  await list.run().catch(() => undefined); // failures are in list.errors
  return list.errors.map((e) => e.error);
}
