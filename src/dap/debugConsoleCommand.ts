/**
 * `!debug python …` from start to end: the program is run as a `!CMD` is (the job's directory and
 * environment, its output in the console, its exit code the answer), with the hub of a step under
 * the Python debugger (job/pythonProcessHub.ts) in its environment. The program, and each Python
 * subprocess it starts, announces itself there and becomes a child session (stepChildSessions.ts,
 * by `startDebugging`, or an address to attach to), with debugpy attached to it: nothing of
 * debugpy, its access token least of all, is on any command line (`ps` shows those to everyone).
 */
import { missingDebugpy, programText, type DebugTarget } from '../job/debugpyAdapter.js';
import { PROGRAM_VARIABLE } from '../job/pythonProcessHub.js';
import { HubRefusal, PythonStepDebugging, type DebuggedProcess } from '../job/pythonStepDebugging.js';
import type { DebugCommandHost } from './debugCommandHost.js';
import { openStepChildSession } from './stepChildSessions.js';

/** The `type` of a launch or attach configuration, as the client sent it (default `relay`). */
export function adapterTypeOf(args: unknown): string {
  const type = (args as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' && type !== '' ? type : 'relay';
}

/** The `debugServer` port of a launch or attach configuration, if it has one. */
export function debugServerOf(args: unknown): number | undefined {
  const port = (args as { debugServer?: unknown } | undefined)?.debugServer;
  return typeof port === 'number' ? port : undefined;
}

/** Runs the target under debugpy until it ends; resolves with its exit code. */
export async function runDebugCommand(
  target: DebugTarget,
  host: DebugCommandHost,
  signal: AbortSignal,
): Promise<{ exitCode: number; cancelled: boolean }> {
  const what = 'module' in target.target ? `-m ${target.target.module}` : target.target.program;
  const name = `!debug ${what}`;
  let ended!: { resolve: (code: number) => void; reject: (error: Error) => void };
  const exitCode = new Promise<number>((resolve, reject) => (ended = { resolve, reject }));
  exitCode.catch(() => {});
  // The first process announced is the program: its subprocesses start only once it runs.
  let program = true;
  const debug = (process: DebuggedProcess): void => {
    if (!program) return void openStepChildSession(process, host);
    program = false;
    const mapping = host.pathMapping(process.far.cwd);
    const here =
      mapping.localRoot === mapping.remoteRoot
        ? ''
        : ` (${mapping.remoteRoot} there is ${mapping.localRoot} here)`;
    host.console(
      `relay-dap: debugging ${what} under debugpy ${process.far.version} in ${process.far.cwd}${here}`,
    );
    void openStepChildSession(process, host, { name, exitCode });
  };
  // As every `!debug` error, it says what it is about: a relay server without channels, say.
  const hub = await PythonStepDebugging.start(
    { name },
    {
      openChannel: (request) => host.openRelayChannel(request),
      say: (line) => host.console(`relay-dap: ${line}`),
      debug,
    },
  ).catch((error: Error) => {
    throw error instanceof HubRefusal ? new Error(`!debug: ${error.message}`) : error;
  });
  const cancel = (): void => void hub.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  let cancelled = false;
  try {
    const { env, pythonPathPrepend } = hub.exports;
    const exit = await host
      .runProgram(
        programText(target),
        { env: { ...env, [PROGRAM_VARIABLE]: '1' }, pythonPathPrepend },
        signal,
      )
      .catch((error: Error) => {
        throw new Error(`!debug: ${error.message}`);
      });
    ended.resolve(exit.exitCode);
    cancelled = exit.cancelled;
    if (cancelled) return exit;
    // What the program told the hub before it ended (no debugpy) is heard before it is judged.
    await hub.sync();
    if (hub.announced === 0) {
      if (hub.programMissing !== undefined)
        throw new Error(missingDebugpy(target.python, hub.programMissing));
      if (exit.exitCode === 126 || exit.exitCode === 127)
        throw new Error(
          `!debug: ${target.python} did not start on the relay server's side (exit ${exit.exitCode}): check that it is installed there`,
        );
      host.console(
        `relay-dap: ${name} ran without the debugger: its Python did not load relay-dap's bootstrap (started with -S or -I, or PYTHONPATH replaced?)`,
      );
    }
    return exit;
  } catch (error) {
    ended.reject(error as Error);
    throw error;
  } finally {
    signal.removeEventListener('abort', cancel);
    // Each process's session ends with its process; the hub's directory goes now. Cancelled (by
    // the job's end too, which reaches the program but not this request): every adapter now.
    await (cancelled ? hub.cancel() : hub.close());
  }
}
