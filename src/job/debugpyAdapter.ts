/**
 * What every debugpy adapter relay-dap starts on the far side shares (pythonProcessHub.ts starts
 * them, one per debugged Python process): the handshake line each writes before its DAP stream
 * (the far side's working directory, interpreter and debugpy version, or why debugpy cannot be
 * imported, so the parent can map paths and say "install debugpy" instead of waiting for DAP
 * that never comes), and the guard on its loopback ports.
 */
import type { RelayChannel } from '../relay/channel.js';
import { shellQuote } from '../workflow/shellQuote.js';

export interface DebugTarget {
  /** The interpreter as typed (`python`, `python3`, `/usr/bin/python3`). */
  python: string;
  /** `-m module`, or a script path (relative to the job's directory on the far side). */
  target: { module: string } | { program: string };
  args: string[];
}

/**
 * The shell text of a `!debug` program: its command line exactly as typed (`exec`: the program
 * is the channel's process), nothing of debugpy on it; the hub's bootstrap debugs it.
 */
export function programText(target: DebugTarget): string {
  const what = 'module' in target.target ? ['-m', target.target.module] : [target.target.program];
  return `exec ${[target.python, ...what, ...target.args].map(shellQuote).join(' ')}`;
}

/** The first line an adapter writes: `HANDSHAKE {json}`. */
export const HANDSHAKE = 'relay-dap-debugpy';
/** The exit code of an adapter, or of a `!debug` program, that cannot import debugpy. */
export const EXIT_NO_DEBUGPY = 86;

export interface Handshake {
  cwd: string;
  python: string;
  version: string;
}

/**
 * Python run in debugpy's adapter process before it listens: every loopback port it opens — for
 * the debugged process, its launcher, more DAP clients — closes another user's connection
 * before debugpy reads a byte of it. Loopback ports are open to every local user, and debugpy
 * 1.6 trusts them more than it should: its port for more clients takes no token (whoever
 * connects can `attach` to the program, or by `processId` inject code into any process of
 * ours), the first connection to its launcher port is sent the program's `launch` with the
 * adapter's access token, and a connection that failed the token check and sends a request
 * makes the whole adapter exit. The peer's owner is the uid of its own socket in
 * /proc/net/tcp (its local end is our remote end), as for the TCP adapter (io/tcpPeerOwner.ts);
 * an inode of 0 means no process holds that socket any more.
 */
export const SAME_USER_LISTENERS = String.raw`
def _relay_dap_same_user_listeners():
    import os, socket, sys
    from debugpy.common import sockets
    def peer_is_us(connection):
        def row(address):
            host, port = address[:2]
            return "%08X:%04X" % (int.from_bytes(socket.inet_aton(host), sys.byteorder), port)
        theirs, ours = row(connection.getpeername()), row(connection.getsockname())
        with open("/proc/net/tcp") as table:
            for line in table:
                fields = line.split()
                if len(fields) > 9 and fields[1] == theirs and fields[2] == ours:
                    return int(fields[7]) == os.getuid() and fields[9] != "0"
        return False
    serve = sockets.serve
    def same_user_serve(name, handler, *args, **kwargs):
        def accept(connection):
            try:
                ours = peer_is_us(connection)
            except OSError:
                ours = False
            if not ours:
                connection.close()
                return
            handler(connection)
        return serve(name, accept, *args, **kwargs)
    sockets.serve = same_user_serve
_relay_dap_same_user_listeners()
`;

/** The parsed handshake line, or why debugpy is not there (with how to install it). */
export function parseHandshake(line: string, python: string): Handshake {
  if (!line.startsWith(`${HANDSHAKE} `))
    throw new Error(
      `!debug: ${python} on the relay server's side did not start debugpy's adapter (it wrote ${JSON.stringify(line.slice(0, 80))}): check that ${python} runs there`,
    );
  const value = JSON.parse(line.slice(HANDSHAKE.length + 1)) as Partial<Handshake> & { missing?: string };
  if (value.missing !== undefined) throw new Error(missingDebugpy(python, value.python ?? python));
  return {
    cwd: value.cwd ?? '',
    python: value.python ?? python,
    version: value.version ?? '',
  };
}

export function missingDebugpy(python: string, executable: string): string {
  return `!debug: debugpy is not installed for ${python} (${executable}) on the relay server's side: install it there with \`${executable} -m pip install debugpy\` or \`apt-get install python3-debugpy\`, then try again`;
}

/**
 * The first line an adapter (or the hub) writes, with the stream paused right after it (what
 * follows is DAP, for whoever resumes it); undefined when the process ended before writing a whole line
 * and wrote nothing, so that nothing waits for DAP that never comes.
 */
export function readFirstLine(channel: RelayChannel): Promise<string | undefined> {
  return new Promise<string | undefined>((resolve, reject) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf(10);
      if (end < 0) return;
      channel.off('data', onData);
      channel.pause();
      const rest = seen.subarray(end + 1);
      if (rest.length > 0) channel.unshift(rest);
      resolve(seen.subarray(0, end).toString('utf8'));
    };
    channel.on('data', onData);
    channel.exit.then(
      () => setImmediate(() => resolve(seen.length > 0 ? seen.toString('utf8') : undefined)),
      reject,
    );
  });
}
