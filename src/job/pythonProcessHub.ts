/**
 * The far side of a step marked to run under the Python debugger (`debug: python`,
 * `debugSteps`): three small Python programs, as shell text for relay channels.
 *
 * - The **hub**, one per step, on a channel: it makes a private directory (0700) holding a
 *   `sitecustomize.py` (the bootstrap) and a Unix socket, and says where on its first line. The
 *   step runs with that directory first on PYTHONPATH and the socket in RELAY_DAP_PYTHON_HUB,
 *   so every Python process the step starts — `python train.py` in its script, and whatever
 *   Python those start — runs the bootstrap before its own code.
 * - The **bootstrap** announces its process to the hub (pid, command line, directory) and
 *   waits for an answer: the port and access token of a debugpy adapter made for it alone.
 *   It connects there (debugpy.connect) and waits for the child session's configuration
 *   (breakpoints) before the program's first line. Without debugpy it tells the hub so, and
 *   the process runs on undebugged. Then it runs the interpreter's own sitecustomize, if any.
 * - The **adapter launcher**, one per process, on a channel of its own: debugpy's adapter with
 *   its DAP on the channel (stdio), listening on loopback for that one process.
 *
 * Why it is safe from another local user, who can reach any loopback port:
 * - debugpy's adapter, started normally, also listens on loopback for more DAP *clients*, and
 *   that port takes no token (debugpy 1.6): whoever connects can attach to its process, or to
 *   any process by pid (`attach` with `processId` injects code with gdb). The launcher never
 *   opens it (it starts the adapter's parts itself); the only client is the channel.
 * - The port it does open is for the debugged process (debugpy's "server" side). Another
 *   user's connection there is closed unread (SAME_USER_LISTENERS, debugpyAdapter.ts); and
 *   any connection must answer debugpy's `pydevdAuthorize` with the adapter's access token (32
 *   random bytes, made in the launcher) or it is dropped. The token travels from the launcher to the
 *   process through the hub's socket only: never on a command line (`ps` shows those to
 *   everyone), in the environment, or in the relay directory.
 * - The hub's socket and the bootstrap are in a directory only the step's user can enter.
 * - debugpy's own subprocess support is off (`subProcess: False`): it would pass the token to
 *   each child on its command line. Each child runs the bootstrap instead, and gets an adapter
 *   and a token of its own.
 *
 * A `!debug` program is started the same way (debugConsoleCommand.ts), so that it too carries
 * nothing of debugpy on its command line; it is marked (PROGRAM_VARIABLE) so that without
 * debugpy it does not run at all: the user asked to debug it, not to run it.
 */
import { shellQuote } from '../workflow/shellQuote.js';
import { EXIT_NO_DEBUGPY, HANDSHAKE, SAME_USER_LISTENERS } from './debugpyAdapter.js';

/** The environment variable naming the hub's socket (the bootstrap does nothing without it). */
export const HUB_VARIABLE = 'RELAY_DAP_PYTHON_HUB';
/**
 * Set for one process only: a `!debug` program. Without debugpy it tells the hub and exits with
 * EXIT_NO_DEBUGPY instead of running undebugged. The bootstrap takes the variable out of the
 * environment, so that its Python subprocesses run as a step's do.
 */
export const PROGRAM_VARIABLE = 'RELAY_DAP_PYTHON_PROGRAM';

/** What the hub writes, one JSON object a line. */
export type HubLine =
  | { hub: string; site: string }
  | {
      process: number;
      pid: number;
      ppid: number;
      python: string;
      argv: string[];
      cwd: string;
      debugpy: string;
    }
  | { missing: string; python: string; program: boolean }
  /** The answer to `{"sync": N}`: every line the hub wrote before it has been read. */
  | { synced: number };

const BOOTSTRAP = String.raw`# relay-dap: this step runs under the Python debugger (see relay-dap's pythonProcessHub.ts).
def _relay_dap_debug():
    import json, os, socket, sys
    program = os.environ.pop("${PROGRAM_VARIABLE}", None) is not None
    hub = os.environ.get("${HUB_VARIABLE}")
    if not hub:
        return
    def tell(message, answer):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(hub)
            connection.sendall((json.dumps(message) + "\n").encode())
            if answer:
                line = connection.makefile("rb").readline()
                return json.loads(line) if line else {}
    # pydevd's own switch for its warning about frozen modules (Python 3.11+), which would
    # otherwise be part of the step's output.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    try:
        import debugpy
    except ImportError as error:
        try:
            # Answered once the hub has said it, so that it is said before this process ends.
            tell({"missing": str(error), "python": sys.executable, "program": program}, True)
        except OSError:
            pass
        if program:
            os._exit(${EXIT_NO_DEBUGPY})
        return
    try:
        with open("/proc/self/cmdline", "rb") as file:
            argv = [word.decode("utf-8", "replace") for word in file.read().split(b"\0")[:-1]]
    except OSError:
        argv = [sys.executable]
    process = {
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "python": sys.executable,
        "argv": argv,
        "cwd": os.getcwd(),
        "debugpy": os.path.dirname(os.path.dirname(os.path.abspath(debugpy.__file__))),
    }
    try:
        answer = tell({"process": process}, True)
    except OSError:
        return
    if "port" not in answer:
        return
    debugpy.configure(subProcess=False)
    debugpy.connect(("127.0.0.1", answer["port"]), access_token=answer["token"])
    debugpy.wait_for_client()


def _relay_dap_next_sitecustomize():
    import os, sys
    here = os.path.dirname(os.path.abspath(__file__))
    del sys.modules["sitecustomize"]
    saved = sys.path[:]
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here]
    try:
        import sitecustomize
    except ModuleNotFoundError as error:
        if error.name != "sitecustomize":
            raise
    finally:
        sys.path[:] = saved


try:
    try:
        _relay_dap_debug()
    except Exception as error:
        import sys
        sys.stderr.write("relay-dap: this Python process runs without the debugger: %s\n" % error)
finally:
    _relay_dap_next_sitecustomize()
`;

const HUB = String.raw`import json, os, shutil, signal, socket, sys, tempfile, threading
BOOTSTRAP = ${JSON.stringify(BOOTSTRAP)}
root = tempfile.mkdtemp(prefix="relay-dap-py-")
def end(*_):
    shutil.rmtree(root, ignore_errors=True)
    os._exit(0)
for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(signum, end)
try:
    with open(os.path.join(root, "sitecustomize.py"), "w") as file:
        file.write(BOOTSTRAP)
    hub = os.path.join(root, "hub")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(hub)
    listener.listen(64)
except BaseException:
    shutil.rmtree(root, ignore_errors=True)
    raise
lock = threading.Lock()
waiting = {}
count = [0]
def say(message):
    with lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()
say({"hub": hub, "site": root})
def serve(connection):
    try:
        message = json.loads(connection.makefile("rb").readline() or b"null")
        if not isinstance(message, dict):
            pass
        elif isinstance(message.get("process"), dict):
            with lock:
                count[0] += 1
                key = count[0]
                waiting[key] = connection
            say(dict(message["process"], process=key))
            return
        elif "adapter" in message:
            with lock:
                process = waiting.pop(message["adapter"], None)
            if process is not None:
                process.sendall((json.dumps({"port": message["port"], "token": message["token"]}) + "\n").encode())
                process.close()
        elif "missing" in message:
            say({"missing": str(message["missing"]), "python": str(message.get("python")), "program": message.get("program") is True})
            connection.sendall(b"{}\n")
    except Exception:
        pass
    connection.close()
def commands():
    # {"release": N}: process N runs on without the debugger. {"sync": N}: answered with
    # {"synced": N} after every line said before. End of input: the step ended.
    for line in sys.stdin:
        try:
            command = json.loads(line)
            key = command.get("release")
        except Exception:
            continue
        if "sync" in command:
            say({"synced": command["sync"]})
            continue
        with lock:
            process = waiting.pop(key, None)
        if process is not None:
            process.sendall(b"{}\n")
            process.close()
    end()
threading.Thread(target=commands, daemon=True).start()
while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
`;

const ADAPTER = String.raw`import json, os, secrets, socket, sys
hub, key, where = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sys.path.insert(0, where)
try:
    import debugpy
    from debugpy import adapter
    from debugpy.adapter import clients, servers, sessions
except ImportError as error:
    sys.stdout.write("${HANDSHAKE} " + json.dumps({"missing": str(error), "python": sys.executable}) + "\n")
    sys.exit(86)

${SAME_USER_LISTENERS}
# What debugpy's adapter main does, without its listener for more clients (see pythonProcessHub.ts).
adapter.access_token = secrets.token_hex(32)
servers.access_token = None
host, port = servers.serve("127.0.0.1", 0)
with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
    connection.connect(hub)
    connection.sendall((json.dumps({"adapter": key, "port": port, "token": adapter.access_token}) + "\n").encode())
sys.stdout.write("${HANDSHAKE} " + json.dumps({"cwd": os.getcwd(), "python": sys.executable, "version": debugpy.__version__}) + "\n")
sys.stdout.flush()
sys.stderr = open(os.devnull, "w")
clients.Client("stdio")
servers.wait_until_disconnected()
sessions.wait_until_ended()
`;

/** The hub's channel text: any python3 (or python) there will do, it needs only the standard library. */
export function hubText(): string {
  return `exec "$(command -v python3 || command -v python || echo python3)" -c ${shellQuote(HUB)}`;
}

/**
 * The launcher of debugpy's adapter for process `key` of the hub, with the interpreter that
 * process runs and the debugpy it imported. `-E -s`: PYTHONPATH (the bootstrap) and the user's
 * site do not apply to the adapter itself.
 */
export function adapterText(hub: string, key: number, python: string, debugpy: string): string {
  return `exec ${shellQuote(python)} -E -s -c ${shellQuote(ADAPTER)} ${[hub, String(key), debugpy].map(shellQuote).join(' ')}`;
}
