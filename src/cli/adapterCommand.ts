/**
 * `relay-dap` with no subcommand: the debug adapter. DAP on stdin/stdout (which then carry
 * nothing else), over TCP with --server=PORT / --port PORT [--host H], or over a Unix domain
 * socket with --socket PATH. A bundle of its own (dist/adapter.cjs), which main.ts loads only
 * for the adapter: the relay subcommands, --help and --version start without the DAP stack
 * (issue 12, item 9: scripts call `relay-dap run` in loops).
 */
import fs from 'node:fs';
import { hostSession } from '../dap/hostedSession.js';
import { runTcpAdapter } from '../dap/tcpAdapter.js';
import { addressBytes, PROC_NET_TCP_FILES } from '../io/tcpPeerOwner.js';
import { selfUid } from '../io/fileOwner.js';
import { openPrivateAppendFile } from '../io/privateAppendFile.js';
import { optionFlag, optionString, UsageError, type ParsedArgs } from './argv.js';
import type { Console } from './relayCommands.js';

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

/** 127.0.0.0/8 (also IPv4-mapped), ::1, localhost: reachable from this machine only. */
function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  const bytes = addressBytes(host);
  const net127 = addressBytes('127.0.0.0')!.subarray(0, 13);
  return bytes !== undefined && (bytes.subarray(0, 13).equals(net127) || bytes.equals(addressBytes('::1')!));
}

/** What a listening TCP adapter exposes, said once at start (empty when nothing needs saying). */
function exposureWarnings(host: string, sameUserOnly: boolean): string[] {
  const uid = selfUid();
  const warnings: string[] = [];
  if (!isLoopbackHost(host))
    warnings.push(
      `warning: listening on ${host}, which is not a loopback address: any host that can reach it can connect. ` +
        (sameUserOnly
          ? 'Connections from other machines are refused (the same-user check knows only sockets on this machine), but the port is exposed; '
          : '') +
        'to debug from another machine, keep the default --host and use an SSH tunnel (ssh -L PORT:127.0.0.1:PORT), or --socket PATH',
    );
  if (!sameUserOnly)
    warnings.push(
      `warning: --allow-other-users: the same-user check is off: any local user` +
        (isLoopbackHost(host) ? '' : `, and any host that can reach ${host},`) +
        ` who connects can run commands as uid ${uid}`,
    );
  else if (!PROC_NET_TCP_FILES.some((file) => fs.existsSync(file)))
    warnings.push(
      `warning: no ${PROC_NET_TCP_FILES[0]} here (not Linux?), so the owner of a connection cannot be checked and every TCP connection will be refused: use --socket PATH, or --allow-other-users`,
    );
  return warnings;
}

/** Aborts once the process that started this one has exited (checked twice a second). */
function parentGone(): AbortSignal {
  const controller = new AbortController();
  const parent = process.ppid;
  const timer = setInterval(() => {
    try {
      process.kill(parent, 0);
      return;
    } catch (error) {
      // EPERM: it exists (it is someone else's); only ESRCH means it is gone.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') return;
    }
    clearInterval(timer);
    controller.abort();
  }, 500);
  timer.unref();
  return controller.signal;
}

export async function runAdapter(args: ParsedArgs, io: Console): Promise<number> {
  const portText = optionString(args, 'server') ?? optionString(args, 'port');
  const port = portText === undefined ? undefined : parsePort(portText);
  const socketPath = optionString(args, 'socket');
  const logFile = optionString(args, 'log-file');
  const allowOthers = optionFlag(args, 'allow-other-users');
  const withClient = optionFlag(args, 'exit-with-client');
  if (socketPath !== undefined && port !== undefined)
    throw new UsageError('--socket and --server/--port are two ways to listen: give one', undefined);
  if (allowOthers && port === undefined)
    throw new UsageError(
      '--allow-other-users goes with --server=PORT or --port PORT (a --socket is kept private by its directory)',
      undefined,
    );
  if (port !== undefined || socketPath !== undefined) {
    if (socketPath !== undefined && optionString(args, 'host') !== undefined)
      throw new UsageError('--host goes with --server=PORT or --port PORT, not --socket', undefined);
    const host = optionString(args, 'host') ?? '127.0.0.1';
    const log = logger(logFile, true, io);
    if (port !== undefined) for (const warning of exposureWarnings(host, !allowOthers)) log(warning);
    await runTcpAdapter({
      listen: port === undefined ? { socketPath: socketPath! } : { port, host },
      sameUserOnly: !allowOthers,
      ...(withClient ? { exitAfterLastSession: true, stopSignal: parentGone() } : {}),
      log,
      listening: (address) => io.stdout.write(`relay-dap: DAP server listening on ${address}\n`),
    });
    return 0;
  }
  if (optionString(args, 'host') !== undefined)
    throw new UsageError('--host goes with --server=PORT or --port PORT', undefined);
  // Over stdio the adapter ends with its connection anyway.
  if (withClient)
    throw new UsageError(
      '--exit-with-client goes with --server=PORT, --port PORT or --socket PATH',
      undefined,
    );
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
  // Exit only once the client has closed our stdin (bounded): some clients (vimspector)
  // handle the adapter's exit before reading the rest of its stdout, and would lose the
  // disconnect's response and the last events.
  await hosted.clientClosed(1000);
  // A refused header leaves stdin paused but open, which would keep the process alive.
  process.stdin.destroy();
  return 0;
}
