/**
 * The child sessions of Python processes run through a hub (job/pythonStepDebugging.ts): each
 * Python process a step under the Python debugger (`debug: python`, `debugSteps`) starts, and a
 * `!debug` program (debugConsoleCommand.ts) and each of its Python subprocesses, opens in the
 * client as a child session, with debugpy attaching to the process. When the process ends,
 * debugpy ends the session; when the adapter's channel ends (a cancel), the child's connection
 * closes with it.
 */
import path from 'node:path';
import type { DebuggedProcess } from '../job/pythonStepDebugging.js';
import { childConfiguration, ChildSessionProxy } from './childSessionProxy.js';
import type { DebugCommandHost } from './debugCommandHost.js';

export type StepChildHost = Omit<DebugCommandHost, 'runProgram' | 'openRelayChannel'>;

export interface ChildSessionOptions {
  /** The session's name (default: the owner's name, the command line and the pid). */
  name?: string;
  /** A `!debug` program's exit code, for the child's `exited` event (see ChildSessionProxy). */
  exitCode?: Promise<number>;
}

/** `python3 train.py --epochs 3`: the interpreter by its name, the rest as given. */
function commandOf(argv: readonly string[]): string {
  const [python = 'python', ...rest] = argv;
  return [path.posix.basename(python), ...rest].join(' ');
}

export async function openStepChildSession(
  process: DebuggedProcess,
  host: StepChildHost,
  options: ChildSessionOptions = {},
): Promise<void> {
  const byStartDebugging = host.clientCaps.supportsStartDebuggingRequest === true;
  const name = host.mask(
    options.name ?? `${process.step.name}: ${commandOf(process.argv)} (pid ${process.pid})`,
  );
  const proxy = new ChildSessionProxy(
    process.channel,
    name,
    host.pathMapping(process.far.cwd, process.step),
    byStartDebugging ? 'unix' : 'tcp',
    (line) => host.log(line),
    options.exitCode,
  );
  void process.channel.exit.catch(() => undefined).finally(() => proxy.close());
  const address = await proxy.address;
  if (!byStartDebugging) {
    host.console(
      `relay-dap: ${name} waits for a Python debugger: attach one to ${address.host}:${address.port} ` +
        `(a debugpy "attach" configuration with "connect": {"host": "${address.host}", "port": ${address.port}})`,
    );
    return;
  }
  const accepted = await host.startDebugging({
    request: 'launch',
    configuration: childConfiguration(host, name, address),
  });
  if (accepted) return;
  host.console(
    `relay-dap: the client did not open the child session of ${name}: it runs without the debugger`,
  );
  proxy.close();
  proxy.letGo();
}
