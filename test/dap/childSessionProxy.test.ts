/**
 * The parent's end of a child session, between a client and debugpy's adapter, driven through
 * its real private socket. The debugpy side is a stand-in here, and only here: debugpy's
 * adapter writes from several threads and sometimes puts its seqs out of order on the wire,
 * which a real debugpy does not do on demand. The stand-in does it every time, and sends a
 * reverse request, so the numbering the client sees is checked deterministically.
 */
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildSessionProxy } from '../../src/dap/childSessionProxy.js';
import { DapConnection } from '../../src/dap/dapConnection.js';
import { DapClient } from '../support/dapClient.js';

type Message = Record<string, unknown>;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A debugpy stand-in on the proxy's channel: what it received, and a way to write to the proxy. */
function debugpyStandIn(): {
  channel: Duplex;
  received: Message[];
  write(message: Message): void;
  next(): Promise<Message>;
} {
  const output = new PassThrough();
  const input = new PassThrough();
  const received: Message[] = [];
  const waiting: ((message: Message) => void)[] = [];
  const connection = new DapConnection(input, output, {
    message: (message) => {
      received.push(message);
      waiting.shift()?.(message);
    },
    invalid: () => {},
    inputClosed: () => {},
  });
  return {
    channel: Duplex.from({ readable: output, writable: input }),
    received,
    write: (message) => connection.send(message),
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

describe('child session proxy', () => {
  it("gives the client debugpy's messages numbered 1, 2, 3… in the order they arrive, and its answer to a reverse request reaches debugpy under debugpy's seq", async () => {
    const debugpy = debugpyStandIn();
    const proxy = new ChildSessionProxy(
      debugpy.channel,
      'train.py',
      { localRoot: '/here/job', remoteRoot: '/far/job' },
      'unix',
      () => {},
    );
    closers.push(() => proxy.close());
    const address = await proxy.address;
    const client = await DapClient.connectUnix(address.socket!);
    closers.push(() => client.end());

    const initialized = debugpy.next();
    const answer = client.request('initialize', { adapterID: 'python', clientID: 'test' });
    const initialize = await initialized;
    // Out of order, as debugpy's threads sometimes write them: seq 9 before seq 4.
    debugpy.write({
      seq: 9,
      type: 'event',
      event: 'output',
      body: { category: 'console', output: 'first\n' },
    });
    debugpy.write({
      seq: 4,
      type: 'response',
      request_seq: initialize.seq,
      command: 'initialize',
      success: true,
      body: { supportsConfigurationDoneRequest: true },
    });
    debugpy.write({
      seq: 12,
      type: 'request',
      command: 'runInTerminal',
      arguments: { kind: 'integrated', cwd: '/far/job', args: ['python3', 'train.py'] },
    });
    expect((await answer).success).toBe(true);
    const reverse = await client.waitForReverseRequest('runInTerminal');
    const answered = debugpy.next();
    client.respond(reverse, { processId: 4242 });

    expect(await answered).toMatchObject({
      type: 'response',
      request_seq: 12,
      command: 'runInTerminal',
      success: true,
    });
    expect(
      client.transcript.filter((entry) => entry.direction === 'received').map((entry) => entry.message.seq),
    ).toEqual([1, 2, 3]);
    client.assertClean();
  });
});
