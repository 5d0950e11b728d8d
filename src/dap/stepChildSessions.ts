/**
 * The child sessions of a step under the Python debugger (`debug: python`, `debugSteps`): each
 * Python process the step starts (job/pythonStepDebugging.ts), and each Python subprocess of a
 * `!debug` program, opens in the client as a child session, as `!debug`'s program does
 * (debugConsoleCommand.ts), with debugpy attaching to the
 * process instead of launching it. When the process ends, debugpy ends the session; when the
 * adapter's channel ends (the step was cancelled), the child's connection closes with it.
 */
import path from 'node:path';
import type { DebuggedProcess } from '../job/pythonStepDebugging.js';
import { childConfiguration, ChildSessionProxy } from './childSessionProxy.js';
import { DapConnection } from './dapConnection.js';
import type { DebugCommandHost } from './debugCommandHost.js';

export type StepChildHost = Omit<DebugCommandHost, 'openChannel' | 'openRelayChannel'>;

/** `python3 train.py --epochs 3`: the interpreter by its name, the rest as given. */
function commandOf(argv: readonly string[]): string {
  const [python = 'python', ...rest] = argv;
  return [path.posix.basename(python), ...rest].join(' ');
}

export async function openStepChildSession(process: DebuggedProcess, host: StepChildHost): Promise<void> {
  const byStartDebugging = host.clientCaps.supportsStartDebuggingRequest === true;
  const name = host.mask(`${process.step.name}: ${commandOf(process.argv)} (pid ${process.pid})`);
  const proxy = new ChildSessionProxy(
    process.channel,
    { attach: name },
    process.far,
    host.pathMapping(process.far.cwd, process.step),
    byStartDebugging ? 'unix' : 'tcp',
    (line) => host.log(line),
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
  release(process);
}

/**
 * Lets a process that nobody will debug run on: it waits for its session's configuration
 * (stopping its adapter would leave it waiting for good), so debugpy is given a session that
 * attaches, configures nothing and detaches, as debugpy does itself for a subprocess no client
 * was told of.
 */
function release(process: DebuggedProcess): void {
  let seq = 1;
  const request = (command: string, args: Record<string, unknown> = {}): number => {
    debugpy.send({ seq, type: 'request', command, arguments: args });
    return seq++;
  };
  let attach = 0;
  const debugpy = new DapConnection(process.channel, process.channel, {
    message: (message) => {
      if (message.type === 'response' && message.command === 'initialize')
        attach = request('attach', { subProcess: false, redirectOutput: false });
      else if (message.type === 'event' && message.event === 'initialized') request('configurationDone');
      else if (message.type === 'response' && message.request_seq === attach)
        request('disconnect', { terminateDebuggee: false });
    },
    invalid: () => {},
    inputClosed: () => debugpy.end(),
  });
  process.channel.resume();
  request('initialize', { adapterID: 'relay-dap' });
}
