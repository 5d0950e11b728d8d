/**
 * A DAP client run as another local user (uid 65534): it connects to a listening adapter (TCP
 * or a Unix socket), sends `initialize` (and, if given, a `launch` of a command with
 * `configurationDone`, all at once, as an attacker would), and reports what came of it, so
 * that a test can tell a refused connection (nothing answered) from an accepted one.
 */
import { startAsOtherUser } from './otherUser.js';
import { finish } from './relayTestContext.js';

export type AdapterAddress = { host: string; port: number } | { path: string };

export interface OtherUserAttempt {
  /** Whether the connection was established at all. */
  connected: boolean;
  /** The client's own port (TCP), as the adapter sees it. */
  localPort?: number;
  /** Bytes the adapter sent back. */
  received: number;
  /** Whether an `initialize` response came back. */
  answered: boolean;
  /** Whether the session it launched ended (`terminated`): its command ran. */
  terminated: boolean;
  /** How it ended: `closed`, an error code (`ECONNRESET`, `EACCES`), or `timeout`. */
  end: string;
}

// Plain JavaScript for `node -e`: the target as JSON in argv[1], the command to launch (or
// '') in argv[2], 'exit' in argv[3] to close and exit right after sending; one JSON line on stdout.
const CLIENT = `
const net = require('net');
const target = JSON.parse(process.argv[1]);
const command = process.argv[2];
const exitAfterSending = process.argv[3] === 'exit';
const report = { connected: false, received: 0, answered: false, terminated: false, end: 'closed' };
let text = '';
const done = () => { process.stdout.write(JSON.stringify(report) + '\\n'); process.exit(0); };
const frame = (message) => {
  const body = JSON.stringify(message);
  return 'Content-Length: ' + Buffer.byteLength(body) + '\\r\\n\\r\\n' + body;
};
const socket = net.connect(target);
socket.on('connect', () => {
  report.connected = true;
  if (socket.localPort) report.localPort = socket.localPort;
  let out = frame({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'relay' } });
  if (command)
    out += frame({ seq: 2, type: 'request', command: 'launch', arguments: { command, stopOnEntry: false } }) +
      frame({ seq: 3, type: 'request', command: 'configurationDone' });
  socket.write(out);
  if (exitAfterSending) socket.end(done);
});
socket.on('data', (chunk) => {
  report.received += chunk.length;
  text += chunk.toString();
  report.answered = /"type":"response"/.test(text) && /"command":"initialize"/.test(text);
  report.terminated = /"event":"terminated"/.test(text);
  if (command ? report.terminated : report.answered) socket.destroy();
});
socket.on('error', (error) => { report.end = error.code || error.message; });
socket.on('close', done);
setTimeout(() => { report.end = 'timeout'; done(); }, 20000);
`;

/**
 * Connects as uid 65534 and returns what happened (only when `otherUser.ok`). `launch`: a
 * command to launch; `exitAfterSending`: close and exit at once, leaving the kernel to finish
 * the connection (its socket then has no owner process, and the kernel prints uid 0 for it).
 */
export async function connectAsOtherUser(
  target: AdapterAddress,
  options: { launch?: string; exitAfterSending?: boolean } = {},
): Promise<OtherUserAttempt> {
  const args = [JSON.stringify(target), options.launch ?? '', options.exitAfterSending ? 'exit' : ''];
  const result = await finish(
    startAsOtherUser(process.execPath, ['-e', CLIENT, ...args]),
    60_000,
    'the other user’s client',
  );
  const line = result.stdout.toString().trim();
  if (result.code !== 0 || line === '')
    throw new Error(`the other user's client failed (${result.code}): ${result.stderr}`);
  return JSON.parse(line) as OtherUserAttempt;
}
