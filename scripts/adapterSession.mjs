// The adapter as a process, and a DAP client for it, for npm run demo and npm run bench. The
// client is @vscode/debugadapter-testsupport's DebugClient (pinned in package.json), so that
// no script writes DAP framing of its own; the tests use their stricter client, which also
// validates every message (test/support/dapClient.ts).
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DebugClient } from '@vscode/debugadapter-testsupport';

const bin = fileURLToPath(new URL('../dist/relay-dap.cjs', import.meta.url));

/** Long enough for 100 MB of output on a loaded machine: a bench fails on a wrong answer, not a slow one. */
const EVENT_TIMEOUT_MS = 10 * 60_000;

export function spawnAdapter(args = []) {
  return spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * A DebugClient on the stdio of an adapter process started here: its own start() would spawn
 * one whose exit and memory the caller could not see. (connect() is what start() calls.)
 */
export function clientOverStdio(child) {
  const client = new DebugClient(process.execPath, bin, 'relay');
  client.defaultTimeout = EVENT_TIMEOUT_MS;
  client.connect(child.stdout, child.stdin);
  return client;
}

/**
 * A DebugClient connected to the adapter listening on 127.0.0.1:`port` (one new session), and
 * `close()` to drop the connection (after a disconnect request: a second one, as DebugClient's
 * stop() sends, could meet a closed socket).
 */
export async function connectTcp(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.setNoDelay(true);
  const client = new DebugClient(process.execPath, bin, 'relay');
  client.defaultTimeout = EVENT_TIMEOUT_MS;
  client.connect(socket, socket);
  return { client, close: () => socket.destroy() };
}

/**
 * The next `name` event for which `predicate` holds. Call it before the request that causes
 * the event: a `stopped` often arrives in the same packet as that request's response, before
 * an `await` on the response ends.
 */
export function nextEvent(client, name, predicate = () => true) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (!predicate(event)) return;
      client.off(name, listener);
      resolve(event);
    };
    client.on(name, listener);
  });
}

/** initialize; resolves with its response (`initialized` comes once launch has read the job). */
export async function initialize(client, args = {}) {
  return client.initializeRequest({ adapterID: 'relay', linesStartAt1: true, ...args });
}

/**
 * launch and configurationDone, after `initialize` (launch first, as VS Code does: the adapter
 * holds the launch until configurationDone); `configure` runs on `initialized` (breakpoints).
 * Resolves with the launch response.
 */
export async function launch(client, args, configure = async () => {}) {
  const initialized = nextEvent(client, 'initialized');
  const launched = client.launchRequest(args);
  // A launch refused (a wrong argument) is answered without `initialized`: its error is thrown.
  await Promise.race([initialized, launched]);
  await configure();
  await client.configurationDoneRequest();
  return launched;
}

export async function startTcpAdapter() {
  const child = spawnAdapter(['--server=0']);
  child.stderr.resume();
  // A script that exits early (Ctrl-C, process.exit) must not leave its adapter behind.
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  child.once('exit', () => process.off('exit', stopOnExit));
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      const match = /listening on [^:]+:(\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', () => reject(new Error('the TCP adapter exited before listening')));
  });
  return {
    child,
    port,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export const now = () => performance.now();
