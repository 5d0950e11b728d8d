/**
 * A terminal on the server's side, carried by a channel (Part D): what `relay-dap shell`
 * opens, and what the debugger's `!!` (runInTerminal) runs. The far side gets its
 * pseudo-terminal from Python's `pty` module, run by python3 — present on nearly every image,
 * where a native Node module (node-pty) needs a compiler or a prebuilt binary for that exact
 * libc and Node, and may not build in the containers this runs in; `script(1)` would give a
 * pty too, but no way to pass a window size after the start.
 *
 * The channel's client → server bytes are frames, so that a resize travels beside what is
 * typed: a type byte (`d` data, `r` resize), a 4-byte big-endian length, the payload (for
 * `r`: rows and columns, 2 bytes each). Server → client is the terminal's output as it is.
 * The helper's exit code is the shell's (128+N if a signal N ended it); when the channel's
 * input ends (the client went away), it hangs the terminal up (SIGHUP), as closing a
 * terminal window does.
 */
import type { ChannelRequest } from './channelSession.js';

/** Environment names that carry the helper's parameters; the helper removes them before the shell starts. */
const ROWS_ENV = 'RELAY_PTY_ROWS';
const COLS_ENV = 'RELAY_PTY_COLS';
const ARGV_ENV = 'RELAY_PTY_ARGV';
const PATH_ENV = 'RELAY_PTY_PATH';

// Held in single quotes in the bash text below: it must contain none.
const HELPER = String.raw`
import errno, fcntl, json, os, select, signal, struct, sys, termios, pty
rows = int(os.environ.pop("${ROWS_ENV}", "24"))
cols = int(os.environ.pop("${COLS_ENV}", "80"))
argv = json.loads(os.environ.pop("${ARGV_ENV}", "[]"))
prepend = json.loads(os.environ.pop("${PATH_ENV}", "[]"))
if prepend:
    os.environ["PATH"] = ":".join(prepend + [os.environ.get("PATH", "")])
if not argv:
    shell = os.environ.get("SHELL", "")
    argv = [shell if shell and os.access(shell, os.X_OK) else "/bin/bash"]
def set_size(fd, r, c):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", r, c, 0, 0))
pid, master = pty.fork()
if pid == 0:
    try:
        set_size(0, rows, cols)
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ("relay-dap shell: cannot run %s: %s\r\n" % (argv[0], e.strerror)).encode())
    os._exit(127)
os.set_blocking(master, False)
frames = b""
to_pty = b""
stdin_open = True
status = None
def drain():
    global frames, to_pty
    while len(frames) >= 5:
        kind = frames[0:1]
        size = struct.unpack(">I", frames[1:5])[0]
        if len(frames) < 5 + size:
            return
        body = frames[5:5 + size]
        frames = frames[5 + size:]
        if kind == b"d":
            to_pty += body
        elif kind == b"r" and size == 4:
            r, c = struct.unpack(">HH", body)
            set_size(master, r, c)
while True:
    readable = [master]
    if stdin_open and len(to_pty) < 65536:
        readable.append(0)
    try:
        r, w, _ = select.select(readable, [master] if to_pty else [], [], 0.5)
    except InterruptedError:
        continue
    if master in r:
        try:
            data = os.read(master, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            break
        if not data:
            break
        while data:
            data = data[os.write(1, data):]
    if 0 in r:
        data = os.read(0, 65536)
        if not data:
            stdin_open = False
            try:
                os.killpg(pid, signal.SIGHUP)
            except OSError:
                pass
            break
        frames += data
        drain()
    if master in w:
        try:
            to_pty = to_pty[os.write(master, to_pty):]
        except BlockingIOError:
            pass
    if not r:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        status = None
if status is None:
    status = os.waitpid(pid, 0)[1]
os.close(master)
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`;

if (HELPER.includes("'")) throw new Error('ptyShell: the helper must hold no single quote');

/** The channel request for a terminal of `rows`×`cols` running `argv` (default: $SHELL on the server's side, else bash). */
export function ptyShellRequest(options: {
  argv?: readonly string[];
  rows: number;
  cols: number;
  cwd?: string;
  env?: Record<string, string>;
  /**
   * Directories put in front of the far side's PATH, first searched first (a job's
   * GITHUB_PATH): done there, where that PATH is known, once python3 has been found on the
   * server's own.
   */
  pathPrepend?: readonly string[];
}): ChannelRequest {
  // \r\n: the local terminal is in raw mode, where a bare newline does not return the carriage.
  const text =
    `command -v python3 >/dev/null 2>&1 || { printf '%s\\r\\n' "relay-dap shell: python3 is not installed on the relay server's side, and it gives the terminal its pseudo-terminal: install python3 there"; exit 127; }\n` +
    `exec python3 -c '${HELPER}'`;
  return {
    text,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    env: {
      ...options.env,
      [ROWS_ENV]: String(options.rows),
      [COLS_ENV]: String(options.cols),
      [ARGV_ENV]: JSON.stringify(options.argv ?? []),
      [PATH_ENV]: JSON.stringify(options.pathPrepend ?? []),
    },
  };
}

function frame(kind: 'd' | 'r', body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(kind, 0, 'latin1');
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** What was typed, as a frame for the terminal's channel. */
export function terminalInput(data: Buffer): Buffer {
  return frame('d', data);
}

/** A new window size, as a frame for the terminal's channel (the shell's foreground job gets SIGWINCH). */
export function terminalResize(rows: number, cols: number): Buffer {
  const body = Buffer.alloc(4);
  body.writeUInt16BE(Math.max(1, Math.min(rows, 0xffff)), 0);
  body.writeUInt16BE(Math.max(1, Math.min(cols, 0xffff)), 2);
  return frame('r', body);
}
