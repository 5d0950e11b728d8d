// A minimal DAP client for scripts: framing, requests, and waiting for events.
// Used by npm run demo and npm run bench; the tests use the fuller, validating client in
// test/support/dapClient.ts.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../dist/relay-dap.cjs', import.meta.url));

export class DapWire {
  constructor(input, output) {
    this.output = output;
    this.seq = 1;
    this.buffer = Buffer.alloc(0);
    this.pending = new Map();
    this.listeners = new Set();
    /** Every event received, so that one that came with a response is not missed (nextEvent). */
    this.events = [];
    this.eventsTaken = 0;
    input.on('data', (chunk) => this.receive(chunk));
  }

  static stdio(child) {
    return new DapWire(child.stdout, child.stdin);
  }

  static async tcp(port) {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    const wire = new DapWire(socket, socket);
    wire.socket = socket;
    return wire;
  }

  receive(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString())[1]);
      if (this.buffer.length < end + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(end + 4, end + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 4 + length);
      if (message.type === 'response') this.pending.get(message.request_seq)?.(message);
      if (message.type === 'event') this.events.push(message);
      for (const listener of [...this.listeners]) listener(message);
    }
  }

  request(command, args) {
    const seq = this.seq++;
    const body = JSON.stringify({ seq, type: 'request', command, arguments: args });
    this.output.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return new Promise((resolve) => this.pending.set(seq, resolve));
  }

  /** Resolves with the first message for which `predicate` holds, from now on. */
  waitFor(predicate) {
    return new Promise((resolve) => {
      const listener = (message) => {
        if (!predicate(message)) return;
        this.listeners.delete(listener);
        resolve(message);
      };
      this.listeners.add(listener);
    });
  }

  /**
   * Resolves with the first event matching `predicate` after the last one this returned,
   * including events that have already arrived: a `stopped` often comes in the same packet
   * as the response to the request that caused it, before an `await` on that response ends.
   */
  async nextEvent(predicate) {
    const taken = (index) => {
      this.eventsTaken = index + 1;
      return this.events[index];
    };
    const index = this.events.findIndex((m, i) => i >= this.eventsTaken && predicate(m));
    if (index >= 0) return taken(index);
    const event = await this.waitFor((m) => m.type === 'event' && predicate(m));
    return taken(this.events.lastIndexOf(event));
  }

  onMessage(listener) {
    this.listeners.add(listener);
  }

  /** initialize → initialized → launch + configurationDone; resolves with the launch response. */
  async launch(args, clientArgs = {}) {
    const initialized = this.waitFor((m) => m.event === 'initialized');
    await this.request('initialize', { adapterID: 'relay', linesStartAt1: true, ...clientArgs });
    await initialized;
    const launched = this.request('launch', args);
    await this.request('configurationDone');
    return launched;
  }
}

export function spawnAdapter(args = []) {
  return spawn(process.execPath, [bin, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
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
