import { spawn } from 'node:child_process';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebugSession, Event, InitializedEvent, OutputEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DapClient, DapFrameParser, encodeDapFrame, type DapFrameItem } from './dapClient.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A stand-in DAP peer for testing the test client only: a minimal session built on
 * @vscode/debugadapter, run in-process. It is not relay-dap's adapter, whose tests drive the real one.
 */
class StubSession extends DebugSession {
  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      ...response.body,
      supportsConfigurationDoneRequest: true,
      supportsTerminateRequest: true,
    };
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  protected override launchRequest(response: DebugProtocol.LaunchResponse): void {
    this.sendResponse(response);
    this.sendEvent(new OutputEvent('hello\n', 'stdout'));
    this.sendEvent(new OutputEvent('oops\n', 'stderr'));
    this.sendEvent(new OutputEvent('second\n', 'stdout'));
    this.sendEvent(new TerminatedEvent());
  }

  protected override customRequest(command: string, response: DebugProtocol.Response, args: unknown): void {
    switch (command) {
      case 'askClient':
        this.runInTerminalRequest({ kind: 'integrated', cwd: '/tmp', args: ['bash'] }, 5000, (reply) => {
          response.body = { processId: reply.body.processId };
          this.sendResponse(response);
        });
        return;
      case 'hang':
        return;
      case 'misbehave':
        // A stopped event without its required `reason`.
        this.sendEvent(new Event('stopped', { threadId: 1 }));
        this.sendResponse(response);
        return;
      default:
        super.customRequest(command, response, args);
    }
  }
}

interface StubServer {
  port: number;
  /** Server-side sockets, one per connection. */
  sockets: net.Socket[];
  close(): Promise<void>;
}

async function startStubServer(): Promise<StubServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const session = new StubSession();
    session.setRunAsServer(true);
    session.start(socket, socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

/** A connected TCP pair: the client under test on one end, a hand-driven peer on the other. */
async function socketPair(): Promise<{ client: DapClient; peer: net.Socket; clientSocket: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const clientSocket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  await new Promise<void>((resolve) => clientSocket.once('connect', () => resolve()));
  const peer = await accepted;
  server.close();
  cleanups.push(() => {
    peer.destroy();
    clientSocket.destroy();
  });
  peer.setNoDelay(true);
  return { client: DapClient.overSocket(clientSocket), peer, clientSocket };
}

async function writeByteByByte(socket: net.Socket, bytes: Buffer): Promise<void> {
  for (const byte of bytes) {
    await new Promise<void>((resolve, reject) =>
      socket.write(Buffer.from([byte]), (error) => (error ? reject(error) : resolve())),
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const initializeArgs: DebugProtocol.InitializeRequestArguments = {
  adapterID: 'stub',
  clientID: 'relay-dap-tests',
  linesStartAt1: true,
  columnsStartAt1: true,
  pathFormat: 'path',
};

async function connectedClient(): Promise<{ client: DapClient; server: StubServer }> {
  const server = await startStubServer();
  cleanups.push(() => server.close());
  const client = await DapClient.connectTcp(server.port);
  return { client, server };
}

describe('DapClient against an in-process DebugSession over TCP', () => {
  it('numbers requests, matches responses and keeps an exact transcript', async () => {
    const { client } = await connectedClient();
    const terminated = client.waitForEvent('terminated');

    const init = await client.request('initialize', initializeArgs);
    expect(init).toMatchObject({ type: 'response', request_seq: 1, command: 'initialize', success: true });
    expect(init.body?.supportsConfigurationDoneRequest).toBe(true);
    await client.waitForEvent('initialized');

    const launch = await client.request('launch', { program: '/bin/true', noDebug: true });
    expect(launch).toMatchObject({ request_seq: 2, success: true });
    await terminated;

    const unknown = await client.request('frobnicate');
    expect(unknown).toMatchObject({ request_seq: 3, success: false, message: 'unrecognized request' });

    expect(client.transcript.filter((e) => e.direction === 'sent').map((e) => e.message.seq)).toEqual([
      1, 2, 3,
    ]);
    expect(client.transcript.filter((e) => e.direction === 'received').map((e) => e.message.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect(client.transcriptSummary()).toEqual([
      '→ request 1 initialize',
      '← response 1 initialize ok',
      '← event initialized',
      '→ request 2 launch',
      '← response 2 launch ok',
      '← event output [stdout] "hello\\n"',
      '← event output [stderr] "oops\\n"',
      '← event output [stdout] "second\\n"',
      '← event terminated',
      '→ request 3 frobnicate',
      '← response 3 frobnicate failed "unrecognized request"',
    ]);
    expect(client.output()).toBe('hello\noops\nsecond\n');
    expect(client.output('stdout')).toBe('hello\nsecond\n');
    expect(client.output('console')).toBe('');
    client.assertClean();
    await client.close();
  });

  it('queues events per name so each wait takes the next unconsumed match', async () => {
    const { client } = await connectedClient();
    await client.request('initialize', initializeArgs);
    await client.request('launch', { program: '/bin/true' });
    await client.waitForEvent('terminated');

    // All outputs arrived before these waits began.
    const stderr = await client.waitForEvent('output', (e) => e.body.category === 'stderr');
    expect(stderr.body.output).toBe('oops\n');
    expect((await client.waitForEvent('output')).body.output).toBe('hello\n');
    expect((await client.waitForEvent('output')).body.output).toBe('second\n');

    const error = await client.waitForEvent('output', undefined, 100).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^no event 'output' within 100 ms\nevents received so far:\n {2}← event initialized\n {2}← event output \[stdout\] "hello\\n"\n[^]*← event terminated$/,
    );
    await client.close();
  });

  it('answers reverse requests', async () => {
    const { client } = await connectedClient();
    await client.request('initialize', initializeArgs);
    const asked = client.request('askClient');
    const runInTerminal = await client.waitForReverseRequest('runInTerminal');
    expect(runInTerminal.arguments.args).toEqual(['bash']);
    client.respond(runInTerminal, { processId: 4242 });
    expect((await asked).body).toEqual({ processId: 4242 });
    expect(client.transcriptSummary().slice(-4)).toEqual([
      '→ request 2 askClient',
      `← request ${runInTerminal.seq} runInTerminal`,
      `→ response ${runInTerminal.seq} runInTerminal ok`,
      '← response 2 askClient ok',
    ]);
    expect(client.transcript.filter((e) => e.direction === 'sent').map((e) => e.message.seq)).toEqual([
      1, 2, 3,
    ]);
    client.assertClean();
    await client.close();
  });

  it('rejects a pending request, naming its command, when the connection closes', async () => {
    const { client, server } = await connectedClient();
    const hanging = client.request('hang');
    const stopped = client.waitForEvent('stopped');
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.sockets.forEach((socket) => socket.destroy());
    await expect(hanging).rejects.toThrow(
      /^the connection closed before the response to request 'hang' \(seq 1\)/,
    );
    await expect(stopped).rejects.toThrow(/^the connection closed before event 'stopped' arrived/);
    await client.closed;
    await expect(client.request('threads')).rejects.toThrow(/request 'threads': the connection is closed/);
  });

  it('times out a request, naming its command', async () => {
    const { client } = await connectedClient();
    await expect(client.request('hang', undefined, 100)).rejects.toThrow(
      /^no response to request 'hang' \(seq 1\) within 100 ms\ntranscript \(last 1 of 1\):\n {2}→ request 1 hang$/,
    );
    await client.close();
  });

  it('reports connection failures clearly', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(DapClient.connectTcp(port)).rejects.toThrow(
      new RegExp(`^cannot connect to the DAP server at 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  });
});

describe('DapClient schema checks', () => {
  it('refuses to send a request that fails the schema, without using up its seq', async () => {
    const { client } = await connectedClient();
    await expect(client.request('launch')).rejects.toThrow(
      /^refusing to send request 'launch' \(seq 1\): invalid DAP message[^]*required property 'arguments'/,
    );
    expect(client.transcript).toEqual([]);
    expect((await client.request('initialize', initializeArgs)).request_seq).toBe(1);
    expect(() =>
      client.respond({ seq: 9, type: 'request', command: 'runInTerminal' }, { processId: 'x' }),
    ).toThrow(/\/body\/processId must be integer/);
    client.assertClean();
    await client.close();
  });

  it('records received messages that fail the schema', async () => {
    const { client } = await connectedClient();
    const response = await client.request('misbehave');
    expect(response.success).toBe(true);
    expect(() => client.assertClean()).toThrow(
      /the DAP peer sent 1 invalid thing\(s\):\n {2}- \[schema\] ← event stopped \(undefined\): \[StoppedEvent\] \/body must have required property 'reason'\ntranscript/,
    );
    await client.close();
  });
});

describe('DapClient framing', () => {
  it('parses a frame written one byte at a time through a socket', async () => {
    const { client, peer, clientSocket } = await socketPair();
    let chunks = 0;
    clientSocket.on('data', () => chunks++);
    const event = {
      seq: 1,
      type: 'event',
      event: 'output',
      body: { category: 'stdout', output: 'héllo ✓ 🎉\n' },
    };
    const waiting = client.waitForEvent('output');
    await writeByteByByte(peer, encodeDapFrame(event));
    expect(await waiting).toEqual(event);
    expect(chunks).toBeGreaterThan(1);
    client.assertClean();
  });

  it('detects stray bytes between frames, fails pending waits, and still reads the frames', async () => {
    const { client, peer } = await socketPair();
    const first = { seq: 1, type: 'event', event: 'initialized' };
    const second = { seq: 2, type: 'event', event: 'output', body: { output: 'after\n' } };
    const pending = client.waitForEvent('stopped');
    peer.write(
      Buffer.concat([encodeDapFrame(first), Buffer.from('console.log leaked\n'), encodeDapFrame(second)]),
    );
    await expect(pending).rejects.toThrow(
      /^while waiting for event 'stopped': the DAP stream from the TCP peer .* is corrupt \(an adapter's output must carry DAP frames only\): bytes outside any frame at byte \d+: "console\.log leaked\\n" \(19 bytes\)/,
    );
    await expect(client.waitForEvent('initialized')).rejects.toThrow(
      /waiting for event 'initialized': .*corrupt/,
    );
    expect(client.transcriptSummary()).toEqual([
      '← event initialized',
      '← event output [console] "after\\n"',
    ]);
    expect(client.violations.map((v) => `${v.kind}: ${v.detail}`)).toEqual([
      'framing: bytes outside any frame at byte 68: "console.log leaked\\n" (19 bytes)',
    ]);
    expect(() => client.assertClean()).toThrow(/\[framing\] bytes outside any frame/);
  });

  it('flags out-of-order seqs and second responses', async () => {
    const { client, peer } = await socketPair();
    const done = client.waitForEvent('terminated');
    peer.write(
      Buffer.concat([
        encodeDapFrame({ seq: 1, type: 'event', event: 'initialized' }),
        encodeDapFrame({
          seq: 3,
          type: 'response',
          request_seq: 7,
          command: 'threads',
          success: true,
          body: { threads: [] },
        }),
        encodeDapFrame({
          seq: 4,
          type: 'response',
          request_seq: 7,
          command: 'threads',
          success: true,
          body: { threads: [] },
        }),
        encodeDapFrame({ seq: 5, type: 'event', event: 'terminated' }),
      ]),
    );
    await done;
    expect(client.violations.map((v) => `${v.kind}: ${v.detail}`)).toEqual([
      expect.stringMatching(/^protocol: ← response 7 threads ok: seq 3 follows seq 1/),
      'protocol: ← response 7 threads ok: a second response to request 7',
    ]);
    // The first response to a request sent with sendRaw is kept for waitForResponse.
    expect(await client.waitForResponse(7)).toMatchObject({ seq: 3, request_seq: 7 });
  });

  it('sends raw bytes unchecked and unrecorded', async () => {
    const { client, peer } = await socketPair();
    const received: Buffer[] = [];
    peer.on('data', (chunk: Buffer) => received.push(chunk));
    const seq = client.allocateSeq();
    client.sendRaw(encodeDapFrame({ seq, type: 'request', command: 'launch' }));
    client.sendRaw('garbage');
    const threads = client.request('threads');
    client.end();
    await new Promise((resolve) => peer.once('end', resolve));
    peer.end();
    await expect(threads).rejects.toThrow(
      /^the connection closed before the response to request 'threads' \(seq 2\)/,
    );
    const text = Buffer.concat(received).toString();
    expect(text).toMatch(
      /^Content-Length: 45\r\n\r\n\{"seq":1,"type":"request","command":"launch"\}garbageContent-Length: \d+\r\n\r\n\{"seq":2,"type":"request","command":"threads"\}$/,
    );
    expect(client.transcriptSummary()).toEqual(['→ request 2 threads']);
    expect(() => client.sendRaw('more')).toThrow(/write side of the connection is already closed/);
  });
});

describe('DapFrameParser', () => {
  const messages = [
    { seq: 1, type: 'event', event: 'output', body: { output: 'ünïcödé ✓ 🎉\r\n\r\nContent-Length: 3' } },
    { seq: 2, type: 'response', request_seq: 1, command: 'x', success: true },
  ];
  const stream = Buffer.concat(messages.map((m) => encodeDapFrame(m)));

  function parseChunks(chunks: Buffer[]): DapFrameItem[] {
    const parser = new DapFrameParser();
    return [...chunks.flatMap((chunk) => parser.push(chunk)), ...parser.end()];
  }

  /** [reason, text] of each violation, merging pieces that follow each other in the stream. */
  function violations(items: DapFrameItem[]): Array<[string, string]> {
    const merged: Array<{ reason: string; end: number; text: string }> = [];
    for (const item of items) {
      if (item.kind !== 'violation') continue;
      const last = merged[merged.length - 1];
      if (last !== undefined && last.reason === item.reason && last.end === item.offset) {
        last.text += item.bytes.toString();
        last.end += item.bytes.length;
      } else {
        merged.push({
          reason: item.reason,
          end: item.offset + item.bytes.length,
          text: item.bytes.toString(),
        });
      }
    }
    return merged.map(({ reason, text }) => [reason, text]);
  }

  it('reassembles frames split at every possible byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const items = parseChunks([stream.subarray(0, cut), stream.subarray(cut)]);
      expect(items, `cut at ${cut}`).toEqual(messages.map((message) => ({ kind: 'message', message })));
    }
    const oneByOne = parseChunks([...stream].map((byte) => Buffer.from([byte])));
    expect(oneByOne).toEqual(messages.map((message) => ({ kind: 'message', message })));
  });

  it('accepts a Content-Type header', () => {
    const frame = Buffer.from(
      'Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}',
    );
    expect(parseChunks([frame])).toEqual([{ kind: 'message', message: {} }]);
  });

  it('isolates stray bytes before, between and after frames, even when split', () => {
    const dirty = Buffer.concat([
      Buffer.from('boot\n'),
      stream,
      Buffer.from('Debugger attached.\n'),
      stream,
      Buffer.from('bye'),
    ]);
    for (const chunkSize of [1, 3, 7, dirty.length]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < dirty.length; i += chunkSize) chunks.push(dirty.subarray(i, i + chunkSize));
      const items = parseChunks(chunks);
      expect(items.filter((item) => item.kind === 'message')).toHaveLength(4);
      expect(violations(items), `chunks of ${chunkSize}`).toEqual([
        ['bytes outside any frame', 'boot\n'],
        ['bytes outside any frame', 'Debugger attached.\n'],
        ['bytes outside any frame', 'bye'],
      ]);
    }
  });

  it('keeps a header that starts right after garbage in the same chunk boundary', () => {
    const items = parseChunks([Buffer.from('junk Cont'), Buffer.from('ent-Length: 2\r\n\r\n{}')]);
    expect(items).toEqual([
      { kind: 'violation', offset: 0, bytes: Buffer.from('junk '), reason: 'bytes outside any frame' },
      { kind: 'message', message: {} },
    ]);
  });

  it('reports malformed headers, bodies that are not JSON and truncated frames', () => {
    expect(violations(parseChunks([Buffer.from('Content-Length: x\r\n\r\n')]))).toEqual([
      ['malformed header', 'Content-Length: x\r\n\r\n'],
    ]);
    expect(violations(parseChunks([Buffer.from('Content-Length: 3\r\n\r\n{"a')]))).toEqual([
      [expect.stringMatching(/^frame body is not JSON \(.+\)$/), '{"a'],
    ]);
    expect(violations(parseChunks([Buffer.from('Content-Length: 12\r\n\r\nCont')]))).toEqual([
      ['stream ended inside a frame (body has 4 of 12 bytes)', 'Content-Length: 12\r\n\r\nCont'],
    ]);
    expect(violations(parseChunks([Buffer.from('Content-Len')]))).toEqual([
      ['stream ended inside a header', 'Content-Len'],
    ]);
    const badUtf8 = Buffer.concat([
      Buffer.from('Content-Length: 3\r\n\r\n"'),
      Buffer.from([0xff]),
      Buffer.from('"'),
    ]);
    expect(violations(parseChunks([badUtf8])).map(([reason]) => reason)).toEqual([
      'frame body is not valid UTF-8',
    ]);
    expect(violations(parseChunks([Buffer.from('Content-Length: 10\r\n\r\n{}')]))).toEqual([
      ['stream ended inside a frame (body has 2 of 10 bytes)', 'Content-Length: 10\r\n\r\n{}'],
    ]);
    expect(violations(parseChunks([Buffer.from('X-Header: 1\r\nContent-Length: 2\r\n\r\n{}')]))).toEqual([
      ['bytes outside any frame', 'X-Header: 1\r\n'],
    ]);
  });
});

describe('DapClient over stdio', () => {
  // A throwaway adapter process built on @vscode/debugadapter, standing in for relay-dap.
  const script = `
    const { DebugSession, InitializedEvent, OutputEvent } = require('@vscode/debugadapter');
    class Stub extends DebugSession {
      initializeRequest(response) { this.sendResponse(response); this.sendEvent(new InitializedEvent()); }
      launchRequest(response) {
        if (process.env.STUB_STRAY) console.log('debug: launching');
        this.sendEvent(new OutputEvent('hi\\n', 'stdout'));
        this.sendResponse(response);
      }
    }
    DebugSession.run(Stub);`;

  function startStub(stray: boolean): DapClient {
    const child = spawn(process.execPath, ['-e', script], {
      cwd: repoRoot,
      env: { ...process.env, STUB_STRAY: stray ? '1' : '' },
      stdio: 'pipe',
    });
    cleanups.push(() => child.kill());
    return DapClient.overStdio(child);
  }

  it('drives a process over stdin/stdout and sees it exit when input ends', async () => {
    const client = startStub(false);
    await client.request('initialize', initializeArgs);
    await client.request('launch', { noDebug: true });
    expect(client.output()).toBe('hi\n');
    await client.close();
    client.assertClean();
  });

  it('fails fast when the process writes something else to stdout', async () => {
    const client = startStub(true);
    await client.request('initialize', initializeArgs);
    await expect(client.request('launch', { noDebug: true })).rejects.toThrow(
      /^while waiting for the response to request 'launch' \(seq 2\): the DAP stream from the adapter process \d+ over stdio is corrupt[^]*"debug: launching\\n"/,
    );
    expect(() => client.assertClean()).toThrow(
      /\[framing\] bytes outside any frame at byte \d+: "debug: launching\\n"/,
    );
    await client.close();
  });
});
