/**
 * `!CMD` in the debug console: shell text run in the job through the relay. Where it may come
 * from and when it may run, each refusal saying what to do instead.
 */
import type { JobRunner } from '../job/jobRunner.js';
import { parseDebugCommand, type DebugTarget } from './debugCommand.js';
import { ErrorId, RequestError } from './errors.js';

/** The shell text of an `evaluate`, or undefined when it is a job expression (`env.PATH`). */
export function shellTextOf(expression: string, context: string | undefined): string | undefined {
  if (!/^\s*!/.test(expression)) return undefined;
  if (context !== 'repl' && context !== undefined) {
    // Hover and watch evaluate on their own (dap-mode's M-x dap-eval sends `hover`): running
    // shell text from there would run it without the user asking, so it is refused, with where to type it.
    throw new RequestError(
      ErrorId.Evaluate,
      `${expression.trim()}: shell commands run only from the debug console (this came as ${JSON.stringify(context)}): type it there (in Emacs: M-x dap-ui-repl)`,
      false,
    );
  }
  return expression.replace(/^\s*!/, '');
}

/** Refuses shell text that cannot run now: the job has ended, or there is no command. */
export function checkRunnable(shell: string, runner: JobRunner): void {
  if (runner.state === 'ended')
    throw new RequestError(
      ErrorId.WrongState,
      'the job has ended and its relay is closed: shell commands run while a job lasts; start a new session to run more',
      false,
    );
  if (shell.trim() === '')
    throw new RequestError(ErrorId.Evaluate, 'type a shell command after !, e.g. !ls -la', false);
}

/** `!debug python …`: what to debug; undefined for other shell text; a usage error when malformed. */
export function debugTargetOf(shell: string): DebugTarget | undefined {
  try {
    return parseDebugCommand(shell);
  } catch (error) {
    throw new RequestError(ErrorId.Evaluate, (error as Error).message, false);
  }
}
