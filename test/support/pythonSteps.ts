/**
 * Steps run under the Python debugger (`debug: python`, `debugSteps`), for
 * test/dap/pythonSteps.test.ts and the reliability suite: a real bash step that runs a real
 * Python script under Debian's debugpy, each Python process a child session the client opens
 * when asked by `startDebugging` (pythonChild.ts answers it as VS Code and nvim-dap do).
 */
import fs from 'node:fs';
import type * as harness from './adapterHarness.js';
import type { AdapterContext } from './adapterHarness.js';
import type { DapClient } from './dapClient.js';
import * as session from './jobSession.js';
import { startAsOtherUser } from './otherUser.js';
import { finish } from './relayTestContext.js';
import {
  breakpointHitThenContinue,
  childEnds,
  openChild,
  PARENT_TYPE,
  pythonWithDebugpy,
} from './pythonChild.js';

/** train.py: `python3 train.py child` also runs itself as a Python subprocess (without `child`). */
export const TRAIN = [
  'import subprocess, sys',
  '',
  'def step(x):',
  '    loss = x * 3',
  '    return loss',
  '',
  'print("loss", step(14 if len(sys.argv) > 1 else 5), flush=True)',
  'if len(sys.argv) > 1:',
  '    subprocess.run([sys.executable, __file__])',
  'sys.exit(3)',
  '',
].join('\n');
export const LINE_LOSS = 4;

/** A job file whose step `Train` (marked `debug: python`) runs `run`, with train.py beside it. */
export function writeTrainJob(
  ctx: AdapterContext,
  run: string,
  debug = true,
): { job: string; script: string } {
  const script = session.writeFile(ctx.workdir, 'train.py', TRAIN);
  const job = session.writeFile(
    ctx.workdir,
    'train.yml',
    [
      'name: train',
      'steps:',
      '  - name: Prepare',
      '    run: echo preparing',
      '  - name: Train',
      ...(debug ? ['    debug: python'] : []),
      `    run: ${JSON.stringify(run)}`,
      '',
    ].join('\n'),
  );
  return { job, script };
}

/** `PYTHON train.py ARGS` with the python that imports debugpy, the step's processes marked. */
export function trainCommand(ctx: AdapterContext, args = ''): string {
  return ctx.mark(`echo "before"; ${pythonWithDebugpy()} train.py${args ? ` ${args}` : ''}`);
}

/** The job launched past its entry (the client answers startDebugging unless told not to). */
export async function launchTrain(
  ctx: AdapterContext,
  launch: Record<string, unknown>,
  startDebugging = true,
): Promise<harness.StdioAdapter & harness.Launched> {
  return ctx.runJob(
    { type: PARENT_TYPE, cwd: ctx.workdir, stopOnEntry: false, ...launch },
    { caps: { supportsStartDebuggingRequest: startDebugging } },
  );
}

/** The child session of the next Python process, with a breakpoint at the loss line. */
export function nextChild(ctx: AdapterContext, parent: DapClient, script: string) {
  return openChild(ctx, parent, { path: script, lines: [LINE_LOSS] });
}

/**
 * In a child stopped at the breakpoint: the frame (train.py, line 4, in step) and the local x;
 * then it continues.
 */
export async function hitAndGoOn(child: DapClient, script: string, x: string): Promise<void> {
  await breakpointHitThenContinue(child, { line: LINE_LOSS, path: script, name: 'step' }, { x });
}

export async function hitAndContinue(child: DapClient, script: string, x: string): Promise<void> {
  await hitAndGoOn(child, script, x);
  await childEnds(child);
}

/** Loopback TCP ports these processes listen on (/proc/net/tcp, matched to their sockets). */
export function listeningPorts(pids: readonly number[]): number[] {
  const portOf = new Map<string, number>();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    // local address, state 0A (LISTEN), inode
    if (fields.length > 9 && fields[3] === '0A')
      portOf.set(fields[9]!, parseInt(fields[1]!.split(':')[1]!, 16));
  }
  const ports = new Set<number>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const inode = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`))?.[1];
      const port = inode === undefined ? undefined : portOf.get(inode);
      if (port !== undefined) ports.add(port);
    }
  }
  return [...ports];
}

function safeReadlink(file: string): string {
  try {
    return fs.readlinkSync(file);
  } catch {
    return '';
  }
}

/** A value of a process's environment (root reads any process's). */
export function environmentOf(pid: number, name: string): string | undefined {
  const entries = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  return entries.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

export interface HostileAttempt {
  /** What became of each port: whether anything answered `initialize` or accepted a made-up token. */
  ports: { port: number; answered: boolean; authorized: boolean; closed: boolean }[];
  /** Connecting to the hub's socket: the error (EACCES), or `connected`. */
  hub: string;
}

// As another user: DAP `initialize` to each port; a debugpy `pydevdAuthorize` request (the
// adapter asking a debuggee for its token) answered with a made-up one; then the hub's socket.
const HOSTILE = String.raw`
import json, socket, sys
ports, hub = json.loads(sys.argv[1]), sys.argv[2]
def frame(message):
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body
def messages(s):
    buffer = b""
    while True:
        while b"\r\n\r\n" in buffer:
            header, rest = buffer.split(b"\r\n\r\n", 1)
            length = int(header.split(b":")[1])
            if len(rest) < length:
                break
            yield json.loads(rest[:length])
            buffer = rest[length:]
        chunk = s.recv(65536)
        if not chunk:
            return
        buffer += chunk
report = {"ports": [], "hub": ""}
for port in ports:
    result = {"port": port, "answered": False, "authorized": False, "closed": False}
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(15)
    try:
        s.sendall(frame({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "x"}}))
        for message in messages(s):
            if message.get("type") == "response" and message.get("command") == "initialize" and message.get("success"):
                result["answered"] = True
                break
            if message.get("type") == "request" and message.get("command") == "pydevdAuthorize":
                s.sendall(frame({"seq": 2, "type": "response", "request_seq": message["seq"], "success": True, "command": "pydevdAuthorize", "body": {"clientAccessToken": "0" * 64}}))
            elif message.get("type") == "request":
                # Asked anything after the made-up token (pydevdSystemInfo): it was taken.
                result["authorized"] = True
                break
        else:
            result["closed"] = True
    except socket.timeout:
        pass
    except ConnectionError:
        result["closed"] = True
    report["ports"].append(result)
    s.close()
try:
    if hub:
        with socket.socket(socket.AF_UNIX) as h:
            h.connect(hub)
            report["hub"] = "connected"
except OSError as error:
    report["hub"] = type(error).__name__
print(json.dumps(report))
`;

/** Another local user (uid 65534) tries every port, and the hub if given (only when `otherUser.ok`). */
export async function hostileAttempt(ports: readonly number[], hub = ''): Promise<HostileAttempt> {
  const result = await finish(
    startAsOtherUser(pythonWithDebugpy(), ['-c', HOSTILE, JSON.stringify(ports), hub]),
    60_000,
    'the other user’s attempt',
  );
  const line = result.stdout.toString().trim();
  if (result.code !== 0 || line === '') throw new Error(`the other user's attempt failed: ${result.stderr}`);
  return JSON.parse(line) as HostileAttempt;
}
