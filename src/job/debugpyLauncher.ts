/**
 * The far side of `!debug`: the shell text of a launcher that runs debugpy's own adapter
 * (`python -m debugpy.adapter`) on its stdio, so debugpy's DAP stream is the channel itself:
 * no port to open or bridge on the far side for DAP (debugpy's adapter still talks to the
 * program it starts over loopback there, as it always does, with its own access token).
 * Debian's python3-debugpy 1.6 speaks DAP on stdio when started without --port. Before
 * handing stdio over, the launcher writes one line — the far side's working directory and
 * interpreter, or why debugpy cannot be imported — so the parent can map paths and say
 * "install debugpy" instead of waiting for DAP that never comes.
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

/** The first line the launcher writes: `HANDSHAKE {json}`. */
export const HANDSHAKE = 'relay-dap-debugpy';
/** The launcher's exit code when debugpy cannot be imported. */
export const EXIT_NO_DEBUGPY = 86;

export interface Handshake {
  cwd: string;
  python: string;
  version: string;
  /** PYTHONPATH there ('' when unset): a `!debug` program gets the hub's bootstrap before it. */
  pythonPath: string;
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

const LAUNCHER = `
import json, os, sys
try:
    import debugpy
except ImportError as error:
    sys.stdout.write("${HANDSHAKE} " + json.dumps({"missing": str(error), "python": sys.executable}) + "\\n")
    sys.exit(${EXIT_NO_DEBUGPY})
sys.stdout.write("${HANDSHAKE} " + json.dumps({"cwd": os.getcwd(), "python": sys.executable, "version": debugpy.__version__, "pythonPath": os.environ.get("PYTHONPATH", "")}) + "\\n")
sys.stdout.flush()
${SAME_USER_LISTENERS}
import runpy
sys.argv = ["debugpy.adapter"]
runpy.run_module("debugpy.adapter", run_name="__main__", alter_sys=True)
`;

/**
 * Shell text for the channel. `-X frozen_modules=off` keeps Python 3.11+ from warning that
 * breakpoints may be missed (older interpreters ignore unknown -X options).
 */
export function launcherText(target: DebugTarget): string {
  return `exec ${shellQuote(target.python)} -X frozen_modules=off -c ${shellQuote(LAUNCHER)}`;
}

/** The parsed handshake line, or why debugpy is not there (with how to install it). */
export function parseHandshake(line: string, python: string): Handshake {
  if (!line.startsWith(`${HANDSHAKE} `))
    throw new Error(
      `!debug: ${python} on the relay server's side did not start debugpy's launcher (it wrote ${JSON.stringify(line.slice(0, 80))}): check that ${python} runs there`,
    );
  const value = JSON.parse(line.slice(HANDSHAKE.length + 1)) as Partial<Handshake> & { missing?: string };
  if (value.missing !== undefined) throw new Error(missingDebugpy(python, value.python ?? python));
  return {
    cwd: value.cwd ?? '',
    python: value.python ?? python,
    version: value.version ?? '',
    pythonPath: value.pythonPath ?? '',
  };
}

export function missingDebugpy(python: string, executable: string): string {
  return `!debug: debugpy is not installed for ${python} (${executable}) on the relay server's side: install it there with \`${executable} -m pip install debugpy\` or \`apt-get install python3-debugpy\`, then try again`;
}

/**
 * The first line a launcher writes, with the stream paused right after it (what follows is
 * DAP, for whoever resumes it); undefined when the process ended before writing a whole line
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
