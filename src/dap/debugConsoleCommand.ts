/**
 * `!debug python …` from start to end: the launcher on a channel, its handshake, the child
 * session (by `startDebugging`, or an address to attach to), and the program's exit code.
 * Each Python subprocess of the program is a child session of its own, through a hub as for a
 * step under the Python debugger (job/pythonProcessHub.ts): debugpy's own subprocess support
 * would put its access token on their command lines.
 */
import type { ConsoleChannel } from '../job/jobRunner.js';
import { DEBUGGED_VARIABLE } from '../job/pythonProcessHub.js';
import { PythonStepDebugging } from '../job/pythonStepDebugging.js';
import { childConfiguration, ChildSessionProxy, type LaunchTarget } from './childSessionProxy.js';
import type { DebugCommandHost } from './debugCommandHost.js';
import { openStepChildSession } from './stepChildSessions.js';
import {
  EXIT_NO_DEBUGPY,
  launcherText,
  missingDebugpy,
  parseHandshake,
  readFirstLine,
  type DebugTarget,
  type Handshake,
} from '../job/debugpyLauncher.js';

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
  // As every `!debug` error, it says what it is about: a relay server without channels, say.
  const channel = await host.openChannel(launcherText(target)).catch((error: Error) => {
    throw new Error(`!debug: ${error.message}`);
  });
  let subprocesses: PythonStepDebugging | undefined;
  const cancel = (): void => {
    channel.cancel();
    void subprocesses?.cancel();
  };
  signal.addEventListener('abort', cancel, { once: true });
  let proxy: ChildSessionProxy | undefined;
  try {
    const far = await readHandshake(channel, target);
    const what = 'module' in target.target ? `-m ${target.target.module}` : target.target.program;
    subprocesses = await PythonStepDebugging.open(
      { name: `!debug ${what}` },
      {
        openChannel: (request) => host.openRelayChannel(request),
        say: (line) => host.console(`relay-dap: ${line}`),
        debug: (process) => void openStepChildSession(process, host),
      },
    );
    if (signal.aborted) void subprocesses?.cancel();
    const byStartDebugging = host.clientCaps.supportsStartDebuggingRequest === true;
    // The launcher runs where a `!CMD` does: in the job's directory.
    const mapping = host.pathMapping(far.cwd);
    const launch: LaunchTarget = subprocesses
      ? { ...target, env: subprocessEnvironment(subprocesses, far.pythonPath) }
      : target;
    proxy = new ChildSessionProxy(channel, launch, far, mapping, byStartDebugging ? 'unix' : 'tcp', (line) =>
      host.log(line),
    );
    const address = await proxy.address;
    const here =
      mapping.localRoot === mapping.remoteRoot
        ? ''
        : ` (${mapping.remoteRoot} there is ${mapping.localRoot} here)`;
    host.console(`relay-dap: debugging ${what} under debugpy ${far.version} in ${far.cwd}${here}`);
    if (byStartDebugging) {
      // Not awaited: a client that never answers must not keep a cancel from ending the program.
      void host
        .startDebugging({
          request: 'launch',
          configuration: childConfiguration(host, `!debug ${what}`, address),
        })
        .then((accepted) => {
          if (accepted) return;
          host.console('relay-dap: the client did not open the child session, so the program is stopped');
          channel.cancel();
        });
    } else {
      host.console(
        `relay-dap: this client cannot open child sessions: attach a Python debugger to ${address.host}:${address.port} ` +
          `(a debugpy "attach" configuration with "connect": {"host": "${address.host}", "port": ${address.port}})`,
      );
    }
    const exit = await channel.exit;
    return { exitCode: proxy.exitCode ?? exit.exitCode, cancelled: exit.cancelled };
  } finally {
    signal.removeEventListener('abort', cancel);
    proxy?.close();
    // Each subprocess's session ends with its process; the hub's directory goes now.
    await subprocesses?.close();
  }
}

/**
 * What the program runs with: the hub's socket, its bootstrap first on PYTHONPATH (before the
 * far side's own), and the mark that the program itself is debugpy's already, not the hub's.
 */
function subprocessEnvironment(hub: PythonStepDebugging, farPythonPath: string): Record<string, string> {
  const { env, pythonPathPrepend } = hub.exports;
  const pythonPath = [...pythonPathPrepend, ...(farPythonPath ? [farPythonPath] : [])].join(':');
  return { ...env, PYTHONPATH: pythonPath, [DEBUGGED_VARIABLE]: '1' };
}

/**
 * The launcher's first line; a launcher that ends first (no such python, debugpy missing)
 * is reported with its reason instead, so nothing waits for DAP that never comes.
 */
async function readHandshake(channel: ConsoleChannel, target: DebugTarget): Promise<Handshake> {
  const line = await readFirstLine(channel);
  if (line === undefined) {
    const exit = await channel.exit;
    if (exit.cancelled) throw new Error('!debug: cancelled');
    const last = (exit.stderr ?? '').trim().split('\n').pop() ?? '';
    if (exit.exitCode === EXIT_NO_DEBUGPY) throw new Error(missingDebugpy(target.python, target.python));
    throw new Error(
      `!debug: ${target.python} did not start on the relay server's side (exit ${exit.exitCode}${last ? `: ${last}` : ''}): check that it is installed there`,
    );
  }
  return parseHandshake(line.trimEnd(), target.python);
}
