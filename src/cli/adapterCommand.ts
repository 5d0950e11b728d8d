/**
 * `relay-dap` with no subcommand: the debug adapter. DAP on stdin/stdout (which then carry
 * nothing else), or over TCP with --server=PORT / --port PORT [--host H].
 */
import fs from 'node:fs';
import { hostSession } from '../dap/sessionHost.js';
import { runTcpAdapter } from '../dap/tcpAdapter.js';
import { openPrivateAppendFile } from '../io/privateAppendFile.js';
import { optionString, UsageError, type OptionSpec, type ParsedArgs } from './argv.js';
import type { Console } from './relayCommands.js';

export const ADAPTER_OPTIONS: OptionSpec[] = [
  {
    name: 'server',
    value: 'PORT',
    description: 'serve DAP over TCP on PORT (0: any free port) instead of stdio',
  },
  { name: 'port', value: 'PORT', description: 'the same as --server=PORT' },
  {
    name: 'host',
    value: 'HOST',
    description: 'address to listen on with --server/--port (default 127.0.0.1)',
  },
  {
    name: 'log-file',
    value: 'FILE',
    description: "append the adapter's own log to FILE (stdio default: none; TCP: stderr too)",
  },
];

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw new UsageError(
      `--port takes a port number from 0 to 65535, not ${JSON.stringify(text)}`,
      undefined,
    );
  return port;
}

function logger(file: string | undefined, toStderr: boolean, io: Console): (line: string) => void {
  const fd = file === undefined ? undefined : openPrivateAppendFile(file, 'log file (--log-file)');
  return (line) => {
    const stamped = `${new Date().toISOString()} ${line}`;
    if (fd !== undefined) fs.writeSync(fd, stamped + '\n');
    if (toStderr) io.error(stamped);
  };
}

export async function runAdapter(args: ParsedArgs, io: Console): Promise<number> {
  const portText = optionString(args, 'server') ?? optionString(args, 'port');
  const logFile = optionString(args, 'log-file');
  if (portText !== undefined) {
    const host = optionString(args, 'host') ?? '127.0.0.1';
    await runTcpAdapter({
      port: parsePort(portText),
      host,
      log: logger(logFile, true, io),
      listening: (address) =>
        io.stdout.write(`relay-dap: DAP server listening on ${address.host}:${address.port}\n`),
    });
    return 0;
  }
  if (optionString(args, 'host') !== undefined)
    throw new UsageError('--host goes with --server=PORT or --port PORT', undefined);
  // stdio: stdout is the protocol. The adapter's own log goes to --log-file, errors to stderr.
  const log = logger(logFile, false, io);
  const hosted = hostSession(process.stdin, process.stdout, {
    label: 'stdio',
    log,
    // `trace: true` is asked for explicitly: stderr (the editor shows it), and the log file.
    trace: (line) => {
      io.error(line);
      log(line);
    },
  });
  const stop = (): void => void hosted.stop('the adapter received a signal');
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
  await hosted.done;
  // A refused header leaves stdin paused but open, which would keep the process alive.
  process.stdin.destroy();
  return 0;
}
