/**
 * The relay's own command line: serve, run, cancel, status, flush, handshake.
 * Exit statuses are documented in the README ("Exit codes") and in `relay-dap --help`.
 */
import { once } from 'node:events';
import { COMMAND_FILE_LIMIT, formatBytes, readUserFile, tooLarge } from '../io/userFile.js';
import type { RelayChannel, RelayClient } from '../relay/client.js';
import { isRelayError, RelayError } from '../relay/errors.js';
import { resolveRelayDir, type RelayLayout } from '../relay/layout.js';
import type { ChannelStatus } from '../relay/relayStatus.js';
import { ChangeClock } from '../relay/liveness.js';
import { EXIT_RELAY_LOST } from '../relay/results.js';
import { DEFAULT_GRACE_MS } from '../relay/processTree.js';
import type { RelayServer } from '../relay/server.js';
import { isSessionToken, SESSION_ENV, sessionEnded } from '../relay/sessionLease.js';
import { shellJoin } from '../workflow/shellQuote.js';
import { longTimeout, MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT } from '../time/longTimeout.js';
import {
  optionFlag,
  optionList,
  optionNumber,
  optionString,
  UsageError,
  type OptionSpec,
  type ParsedArgs,
} from './argv.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** No relay server, or it stopped answering. */
export const EXIT_NO_SERVER = 3;
/** `run --timeout` ran out; the command was cancelled. */
export const EXIT_TIMEOUT = 124;
/** `run`'s stdout was closed by its reader (`| head`): the command was cancelled, as SIGPIPE would end it. */
export const EXIT_BROKEN_PIPE = 141;

export interface Console {
  /** Diagnostics: stderr. stdout carries only what the command asked for. */
  error(line: string): void;
  stdout: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

const RELAY_DIR: OptionSpec = {
  name: 'relay-dir',
  value: 'DIR',
  description: 'relay directory (default: $RELAY_DIR, else ./.relay)',
};
const POLL: OptionSpec = {
  name: 'poll',
  value: 'MS',
  description: 'poll every MS milliseconds (20 to 60000) instead of using filesystem events',
  // Each poll rescans the relay directories. An idle server measured 1.7% of a core at 20 ms,
  // 2.7% at 10 ms and 6-14% at --poll 0 (a 1 ms timer); past a minute, a command would wait
  // that long to start.
  range: { unit: 'milliseconds', min: 20, max: 60_000, integer: true },
};

export interface RelayCommandSpec {
  name: string;
  synopsis: string;
  summary: string;
  details: string;
  options: OptionSpec[];
  /** Words after the first positional belong to the command line being run. */
  takesCommandLine?: boolean;
  run(args: ParsedArgs, io: Console): Promise<number>;
}

function relayDirOf(args: ParsedArgs): string {
  const flag = optionString(args, 'relay-dir');
  // `--relay-dir=` would otherwise mean the current directory.
  if (flag === '')
    throw new UsageError('option --relay-dir needs a value (DIR), not an empty one', args.command);
  return resolveRelayDir(flag);
}

/** Relay errors a user can act on are one line on stderr; the status tells scripts which kind. */
function reportRelayError(error: unknown, io: Console): number {
  if (!isRelayError(error)) throw error;
  io.error(error.message);
  switch (error.code) {
    case 'NO_SERVER':
    case 'SERVER_GONE':
    case 'HANDSHAKE_TIMEOUT':
      return EXIT_NO_SERVER;
    case 'BAD_RESULT':
      return EXIT_RELAY_LOST;
    default:
      return EXIT_FAILURE;
  }
}

/** A client on an existing relay directory: only `serve` creates one. */
async function withClient<T>(
  args: ParsedArgs,
  io: Console,
  use: (client: RelayClient) => Promise<T>,
): Promise<T> {
  const pollMs = optionNumber(args, 'poll', 'milliseconds');
  // Loaded on use, as the server is: --help and --version start without the relay layer.
  const { RelayClient } = await import('../relay/client.js');
  const client = await RelayClient.open({
    relayDir: relayDirOf(args),
    ...(pollMs !== undefined ? { pollMs } : {}),
  });
  // What the client has to say while a command waits (a full disk, an unreadable directory).
  client.onNotice((line) => io.error(`relay-dap: ${line}`));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

/** withClient for a command that a relay error ends: one line on stderr, and the exit status of its kind. */
async function withClientReporting(
  args: ParsedArgs,
  io: Console,
  use: (client: RelayClient) => Promise<number>,
): Promise<number> {
  try {
    return await withClient(args, io, use);
  } catch (error) {
    return reportRelayError(error, io);
  }
}

/** A timeout option: at most MAX_TIMEOUT_SECONDS (longer ones run on a long timer: see longTimeout). */
function timeoutOption(args: ParsedArgs, name: string): number | undefined {
  const seconds = optionNumber(args, name, 'seconds');
  if (seconds !== undefined && seconds > MAX_TIMEOUT_SECONDS) {
    throw new UsageError(`--${name} takes at most ${MAX_TIMEOUT_TEXT}, not ${seconds}`, args.command);
  }
  return seconds;
}

/** A command text from stdin (`--file -`), up to the same limit as a file. */
function readCommandStdin(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > COMMAND_FILE_LIMIT) {
        stream.off('data', onData);
        (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        reject(tooLarge('command text', 'on stdin', undefined, COMMAND_FILE_LIMIT));
      }
    };
    stream.on('data', onData);
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** How long `run` waits in silence before saying what its command is queued behind. */
const QUEUE_NOTICE_MS = 1000;

/**
 * Once `run`'s command has waited a second without starting, say (once) how many commands
 * are ahead of it, from the same listing as `status`: a command queued behind a long one
 * otherwise looks hung. Returns a function that stops looking.
 */
function sayQueuePosition(client: RelayClient, id: string, io: Console): () => void {
  let timer: NodeJS.Timeout | undefined;
  const look = (): void => {
    let status: ReturnType<RelayClient['status']>;
    try {
      status = client.status();
    } catch {
      return; // the directory went away: the command's own outcome says so
    }
    if (status.running?.id === id) return;
    if (!status.pending.includes(id)) {
      // Not queued yet (still shaking hands), or being taken by the server right now.
      timer = setTimeout(look, 250);
      return;
    }
    const queued = status.pending.filter((other) => other < id).length;
    const running = status.running ? 1 : 0;
    const ahead = queued + running;
    if (ahead === 0) return;
    io.error(
      `relay-dap: command ${id} waits behind ${ahead} other command${ahead === 1 ? '' : 's'} ` +
        `(${running} running, ${queued} queued before it); it starts when they have ended (relay-dap status shows the queue)`,
    );
  };
  timer = setTimeout(look, QUEUE_NOTICE_MS);
  return () => clearTimeout(timer);
}

async function commandTextOf(args: ParsedArgs, io: Console): Promise<string | Buffer> {
  const file = optionString(args, 'file');
  if (file !== undefined) {
    if (args.positionals.length > 0) {
      throw new UsageError('give the command either as words or with --file, not both', 'run');
    }
    return file === '-' ? readCommandStdin(io.stdin) : readUserFile(file, 'command file', COMMAND_FILE_LIMIT);
  }
  if (args.positionals.length === 0) {
    throw new UsageError('relay-dap run needs a command: relay-dap run [--timeout S] -- CMD…', 'run');
  }
  // One word is shell text as typed (pipes, globs, $VARS); several keep their boundaries (Part B, defect 10).
  return args.positionals.length === 1 ? args.positionals[0]! : shellJoin(args.positionals);
}

const serve: RelayCommandSpec = {
  name: 'serve',
  synopsis:
    'relay-dap serve [--relay-dir DIR] [--workdir DIR] [--grace S] [--poll MS] [--lease-timeout S] [--log-commands]',
  summary: 'run relayed commands here (in the container, on the node)',
  details: `Serves the relay directory: runs each command queued in DIR/cmd/ with bash, one at a time
in id order, in its own process group, and writes its live log and exit code to DIR/result/.
Never deletes the directory; settles what a dead predecessor left (its command gets exit
code 125 and a log line saying why). On the directory of a live Part-A server, which cannot
hand over, it stands by and takes over once that server has stopped. SIGINT/SIGTERM cancel the running command (SIGTERM, then
SIGKILL after --grace) and remove the server's markers; queued commands stay for the next
server. Uses filesystem events, or polling on NFS/CIFS/FUSE/Lustre and other filesystems
whose changes may come from another machine; the first log line says which.`,
  options: [
    RELAY_DIR,
    { name: 'workdir', value: 'DIR', description: 'where commands run (default: the current directory)' },
    {
      name: 'grace',
      value: 'S',
      description: `seconds between SIGTERM and SIGKILL on cancel, 0 to 3600 (default ${DEFAULT_GRACE_MS / 1000})`,
      range: { unit: 'seconds', min: 0, max: 3600 },
    },
    POLL,
    {
      name: 'lease-timeout',
      value: 'S',
      description:
        'cancel a command whose client holds a lease and stopped refreshing it for S seconds, 2 to 86400 (default 10)',
      // A client refreshes its lease every second; less than 2 s would cancel the commands
      // of live clients on a loaded machine.
      range: { unit: 'seconds', min: 2, max: 86_400 },
    },
    {
      name: 'log-commands',
      description: 'print command texts in the log (default: ids only; texts may hold secrets)',
    },
  ],
  async run(args, io) {
    const grace = optionNumber(args, 'grace', 'seconds');
    const leaseTimeout = optionNumber(args, 'lease-timeout', 'seconds');
    const pollMs = optionNumber(args, 'poll', 'milliseconds');
    const workdir = optionString(args, 'workdir');
    const relayDir = relayDirOf(args);
    // Handlers first: a signal that arrives while the server claims the directory must still
    // end in a clean shutdown, not in the default action that leaves markers behind.
    let server: RelayServer | undefined;
    let stopRequested = false;
    const stop = (): void => {
      stopRequested = true;
      if (server) void server.stop();
    };
    // They stay until the process exits: a repeated signal during exit is not a crash.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
    try {
      const { RelayServer } = await import('../relay/server.js');
      server = await RelayServer.start({
        relayDir,
        ...(workdir !== undefined ? { workdir } : {}),
        ...(grace !== undefined ? { graceMs: grace * 1000 } : {}),
        ...(pollMs !== undefined ? { pollMs } : {}),
        ...(leaseTimeout !== undefined ? { leaseStaleMs: leaseTimeout * 1000 } : {}),
        logCommands: optionFlag(args, 'log-commands'),
        log: (line) => io.error(`${new Date().toISOString()} ${line}`),
      });
    } catch (error) {
      if (isRelayError(error)) return reportRelayError(error, io);
      io.error((error as Error).message);
      return EXIT_FAILURE;
    }
    if (stopRequested) void server.stop();
    const reason = await server.stopped;
    if (reason === 'stepped-down') io.error('stepped down: another relay server owns the directory now');
    return 0;
  },
};

const run: RelayCommandSpec = {
  name: 'run',
  synopsis: 'relay-dap run [--relay-dir DIR] [--timeout S] [--lease] [--file FILE] -- CMD…',
  summary: 'run a command through the relay, streaming its output',
  details: `Queues CMD, prints its output as it is written, and exits with its exit code.
One word is shell text as typed ('make test | tee log'); several words keep their boundaries
(run -- printf '%s\\n' "a   b"). --file FILE (or - for stdin) sends a file's bytes as the text.
Ctrl-C (or SIGTERM, or SIGHUP from a closed terminal) cancels the command; a second Ctrl-C
stops waiting. If whatever reads the output
goes away (run … | head) or it cannot be written (a full disk), the command is cancelled,
as SIGPIPE or the write error would end it locally.
A command queued behind others says so, with how many, once it has waited a second. A full
disk under the relay directory is reported as such; the command's exit code still comes through.
Exit status: the command's; 124 if --timeout ran out (the command is cancelled, its output
kept); 141 if the reader of the output went away, 1 if the output cannot be written (a full
disk): the command is cancelled; 3 if there is no relay server or it stopped answering; 125
if the relay lost the result.`,
  options: [
    RELAY_DIR,
    {
      name: 'timeout',
      value: 'S',
      description: 'cancel the command after S seconds of wall-clock time (exit 124)',
    },
    { name: 'file', value: 'FILE', description: 'read the command text from FILE (- for stdin)' },
    { name: 'lease', description: 'ask the server to cancel the command if this client dies' },
    POLL,
  ],
  takesCommandLine: true,
  async run(args, io) {
    const timeout = timeoutOption(args, 'timeout');
    const text = await commandTextOf(args, io);
    return withClient(args, io, async (client) => {
      const controller = new AbortController();
      const command = client.submit(text, { signal: controller.signal, lease: optionFlag(args, 'lease') });
      const stopQueueNotice = sayQueuePosition(client, command.id, io);
      let timedOut = false;
      let interrupts = 0;
      const timer =
        timeout === undefined
          ? undefined
          : longTimeout(() => {
              timedOut = true;
              io.error(`relay-dap: command ${command.id} timed out after ${timeout} s; cancelling it`);
              controller.abort();
            }, timeout * 1000);
      const interrupt = (): void => {
        if (++interrupts > 1) process.exit(130);
        io.error(`relay-dap: cancelling command ${command.id} (press Ctrl-C again to stop waiting)`);
        controller.abort();
      };
      // The output cannot be written: its reader went away (EPIPE: `run … | head`) or the
      // disk is full. A local command would die of it (SIGPIPE, a write error); so does this
      // one, rather than run on unseen with its output lost.
      let outputFailure: number | undefined;
      const outputFailed = (error: NodeJS.ErrnoException): void => {
        if (outputFailure !== undefined) return;
        const readerGone = error.code === 'EPIPE';
        outputFailure = readerGone ? EXIT_BROKEN_PIPE : EXIT_FAILURE;
        io.error(
          readerGone
            ? `relay-dap: the reader of the output went away; cancelling command ${command.id}`
            : `relay-dap: cannot write the output of command ${command.id} (${error.code ?? error.message}); cancelling it`,
        );
        command.output.unpipe(io.stdout);
        command.output.resume(); // drain the rest unread, so that the command's end is seen
        controller.abort();
      };
      // SIGHUP: the terminal was closed, which would end a local command too.
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const signal of signals) process.on(signal, interrupt);
      io.stdout.on('error', outputFailed);
      try {
        command.output.pipe(io.stdout, { end: false });
        const ended = once(command.output, 'end').catch(() => {});
        const outcome = await command.exit;
        await ended;
        if (outputFailure !== undefined) return outputFailure;
        return timedOut ? EXIT_TIMEOUT : outcome.exitCode;
      } catch (error) {
        return reportRelayError(error, io);
      } finally {
        timer?.clear();
        stopQueueNotice();
        for (const signal of signals) process.off(signal, interrupt);
        io.stdout.off('error', outputFailed);
      }
    });
  },
};

const cancel: RelayCommandSpec = {
  name: 'cancel',
  synopsis: 'relay-dap cancel [--relay-dir DIR] [ID]',
  summary: 'cancel the running command, or command ID (queued or running)',
  details: `Without ID, cancels the command that is running now. A queued command is removed
without running (exit code 130). Waits until the command has a result.`,
  options: [RELAY_DIR, POLL],
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError('cancel takes at most one command id', 'cancel');
    return withClientReporting(args, io, async (client) => {
      const id = args.positionals[0] ?? client.status().running?.id;
      if (id === undefined) {
        const queued = client.status().pending.length;
        throw new RelayError(
          'NOTHING_RUNNING',
          `nothing is running in ${client.layout.root}` +
            (queued ? ` (${queued} queued: cancel one with relay-dap cancel ID)` : ''),
        );
      }
      const server = client.serverLiveness();
      if (server.state !== 'alive') {
        throw new RelayError('SERVER_GONE', `${server.detail}: no server can carry out the cancel of ${id}.`);
      }
      const code = await client.cancel(id);
      io.error(`cancelled ${id}${code === undefined ? '' : ` (exit ${code})`}`);
      return 0;
    });
  },
};

const status: RelayCommandSpec = {
  name: 'status',
  synopsis: 'relay-dap status [--relay-dir DIR] [--json]',
  summary: 'show the server, handshake, running command, queue and open channels',
  details: `Prints four lines (Server:, Handshake:, Running:, Pending commands:), then Open channels:
and a line per channel (its id, age, process, its client and how fresh its lease is, bytes not
yet taken each way; never a command's text), or one JSON object with --json. Exit status 0 if a
live server is there, 3 if not (none, or one that stopped answering: a dead server's leftovers
are reported as such, not as healthy).`,
  options: [RELAY_DIR, { name: 'json', description: 'print one JSON object' }, POLL],
  async run(args, io) {
    return withClientReporting(args, io, (client) => {
      const s = client.status();
      if (optionFlag(args, 'json')) {
        io.stdout.write(JSON.stringify(s, null, 2) + '\n');
      } else {
        const server =
          s.server.state === 'alive'
            ? `running (${s.server.detail})`
            : s.server.state === 'gone'
              ? `gone (${s.server.detail})`
              : s.server.state === 'starting'
                ? `starting (${s.server.detail})`
                : `not running (${s.server.detail})`;
        const handshake =
          s.handshake === 'done'
            ? 'done'
            : s.handshake === 'requested'
              ? 'requested, not answered yet'
              : 'not done';
        const running = s.running
          ? `${s.running.id}${s.running.pgid ? ` (pgid ${s.running.pgid})` : ''}${s.server.state === 'alive' ? '' : ' (stale: its server is gone)'}`
          : 'none';
        // The four lines of Part A's status first, as they were: scripts read them.
        io.stdout.write(
          `Server: ${server}\nHandshake: ${handshake}\nRunning: ${running}\nPending commands: ${s.pending.length}\n` +
            `Open channels: ${s.channels.length}\n` +
            s.channels.map((channel) => `  ${describeChannel(channel)}\n`).join(''),
        );
      }
      return Promise.resolve(s.server.state === 'alive' ? 0 : EXIT_NO_SERVER);
    });
  },
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * `<id>: open 35 s, process 4567; client host:1234 (running), lease renewed 0.4 s ago; not yet
 * taken: 0 bytes to the process, 12 KiB from it` — what tells a stuck channel's side apart.
 */
function describeChannel(channel: ChannelStatus): string {
  const age = channel.ageMs === undefined ? '' : ` ${seconds(channel.ageMs)}`;
  const state =
    channel.state === 'waiting'
      ? `waiting${age} for the server to take it`
      : `${channel.state === 'ended' ? 'ended (its client has not read all of it yet), open' : 'open'}${age}` +
        (channel.pid === undefined ? '' : `, process ${channel.pid}`);
  const { client } = channel;
  const owner = client
    ? `client ${client.host}:${client.pid}${client.alive === undefined ? '' : client.alive ? ' (running)' : ' (gone)'}`
    : 'client unknown';
  const lease =
    channel.leaseAgeMs === undefined ? 'no lease' : `lease renewed ${seconds(channel.leaseAgeMs)} ago`;
  const { toProcess, fromProcess } = channel.pendingBytes;
  return `${channel.id}: ${state}; ${owner}, ${lease}; not yet taken: ${formatBytes(toProcess)} to the process, ${formatBytes(fromProcess)} from it`;
}

const flush: RelayCommandSpec = {
  name: 'flush',
  synopsis: 'relay-dap flush [--relay-dir DIR]',
  summary: 'clear the handshake, queued commands and results',
  details: `Refused while a live server runs a command. A running marker left by a dead server
does not block it.`,
  options: [RELAY_DIR, POLL],
  async run(args, io) {
    return withClientReporting(args, io, (client) => {
      const report = client.flush();
      io.error(
        `flushed ${client.layout.root}: ${report.removedCommands} queued command file(s), ${report.removedResults} result file(s)` +
          (report.staleRunning ? `; removed the stale running marker of ${report.staleRunning}` : ''),
      );
      return Promise.resolve(0);
    });
  },
};

const handshake: RelayCommandSpec = {
  name: 'handshake',
  synopsis: 'relay-dap handshake [--relay-dir DIR] [--timeout S]',
  summary: 'write client.ready and wait for the server to answer',
  details: `Part-A servers run nothing before a client has shaken hands; relay-dap run does it by
itself when needed. Exit status 3 if no server answers within --timeout (default 10 s).`,
  options: [RELAY_DIR, { name: 'timeout', value: 'S', description: 'seconds to wait (default 10)' }, POLL],
  async run(args, io) {
    const timeout = timeoutOption(args, 'timeout') ?? 10;
    return withClientReporting(args, io, async (client) => {
      const marker = await client.handshake(timeout * 1000);
      io.error(`handshake done (${marker})`);
      return 0;
    });
  },
};

/**
 * `--env NAME=VALUE`, or `--env NAME` for NAME's value here (as `docker run -e NAME`): a value
 * that must not stand on a command line (which every local user can read) comes through the
 * environment of relay-dap itself — how a debugger's runInTerminal passes a job's secrets.
 */
function environmentOf(args: ParsedArgs): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of optionList(args, 'env')) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    if (!/^[^=\0]+$/.test(name) || entry.includes('\0')) {
      throw new UsageError(
        `--env takes NAME=VALUE or NAME, not ${JSON.stringify(entry.slice(0, 40))}`,
        args.command,
      );
    }
    const value = eq < 0 ? process.env[name] : entry.slice(eq + 1);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/**
 * A terminal the debugger opened (`!!`) lasts as long as its debug session: once the session's
 * lease is gone (it ended, or its adapter died), the channel is cancelled, which stops the far
 * side's shell and everything it started.
 */
function closeWithSession(
  layout: RelayLayout,
  token: string,
  channel: RelayChannel,
  io: Console,
): NodeJS.Timeout {
  const clock = new ChangeClock();
  const check = (): void => {
    const reason = sessionEnded(layout, token, clock);
    if (reason === undefined) return;
    clearInterval(timer);
    // \r: the terminal is in raw mode, where a newline does not return the carriage.
    io.error(`\r\nrelay-dap shell: ${reason}: closing this terminal\r`);
    channel.cancel();
  };
  const timer = setInterval(check, 500);
  check();
  return timer;
}

const shell: RelayCommandSpec = {
  name: 'shell',
  synopsis: 'relay-dap shell [--relay-dir DIR] [--cwd DIR] [--env NAME=VALUE]… [--path DIR]… [-- COMMAND…]',
  summary: "open an interactive shell (or COMMAND) on the relay server's side, in a terminal",
  details: `Starts $SHELL (else bash), or COMMAND, on the relay server's side in a pseudo-terminal
and joins this terminal to it: what you type goes there, Ctrl-C and Ctrl-Z reach its
foreground job, the window size follows this terminal's, and full-screen programs (top, vim,
htop) work. It runs beside the server's queue, through a channel of the relay directory
(relay-dap serve opens them; a Part-A shell server does not, and this says so). The far side
needs python3 (its pty module gives the terminal). Closing this terminal (SIGHUP) or SIGTERM
hangs the far terminal up and stops everything it started.
--cwd DIR is relative to the server's --workdir; --env NAME=VALUE (repeatable) adds to the
server's environment (--env NAME: NAME's value here, if it is set, which keeps the value off
any command line); --path DIR (repeatable, first searched first) goes in front of the far
side's PATH; TERM is this terminal's. With RELAY_DAP_SESSION set (the debugger's !! sets it),
the shell closes when the debug session that opened it ends.
Exit status: the shell's (or COMMAND's); 127 if it cannot start there; 3 if there is no relay
server or it stopped answering; 1 if the server does not open channels.`,
  options: [
    RELAY_DIR,
    { name: 'cwd', value: 'DIR', description: "where the shell starts (default: the server's --workdir)" },
    {
      name: 'env',
      value: 'NAME=VALUE',
      description: "set NAME to VALUE in the shell; NAME alone: to NAME's value here (repeatable)",
      repeatable: true,
    },
    {
      name: 'path',
      value: 'DIR',
      description: "put DIR in front of the far side's PATH (repeatable; the first is searched first)",
      repeatable: true,
    },
    POLL,
  ],
  takesCommandLine: true,
  async run(args, io) {
    const env = environmentOf(args);
    const cwd = optionString(args, 'cwd');
    const pathPrepend = optionList(args, 'path');
    const session = process.env[SESSION_ENV];
    if (session !== undefined && !isSessionToken(session))
      throw new UsageError(`${SESSION_ENV} must be a debug session's token (32 hex digits)`, args.command);
    const [{ ptyShellRequest }, { joinRemoteTerminal, localWindowSize }] = await Promise.all([
      import('../relay/ptyShell.js'),
      import('./remoteTerminal.js'),
    ]);
    const terminal = { stdin: process.stdin, stdout: process.stdout };
    return withClientReporting(args, io, async (client) => {
      const ended =
        session === undefined ? undefined : sessionEnded(client.layout, session, new ChangeClock());
      if (ended !== undefined) {
        io.error(
          `relay-dap shell: ${ended}: open a terminal from a running session (!! in its debug console)`,
        );
        return EXIT_FAILURE;
      }
      const channel = await client.openChannel(
        ptyShellRequest({
          ...(args.positionals.length > 0 ? { argv: args.positionals } : {}),
          ...localWindowSize(terminal),
          ...(cwd !== undefined ? { cwd } : {}),
          env: { TERM: process.env.TERM || 'xterm-256color', ...env },
          pathPrepend,
        }),
      );
      const closing =
        session === undefined ? undefined : closeWithSession(client.layout, session, channel, io);
      try {
        return await joinRemoteTerminal(channel, terminal);
      } finally {
        if (closing) clearInterval(closing);
      }
    });
  },
};

export const RELAY_COMMANDS: readonly RelayCommandSpec[] = [
  serve,
  run,
  cancel,
  status,
  flush,
  handshake,
  shell,
];
