// `relay-dap --server=PORT` (and `--port PORT [--host H]`): DAP over TCP, one fresh session
// per connection, many at once, each with its own job and output; SIGTERM ends them all.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  assertResponsesMatchRequests,
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  outputByCategory,
  waitForExit,
  type TcpAdapter,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { encodeDapFrame, type DapClient } from '../support/dapClient.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = useAdapterContext();

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A session whose job's only step is running `text` (marked with `marker`) when this resolves. */
async function sessionRunning(adapter: TcpAdapter, marker: string, text = 'sleep 300'): Promise<DapClient> {
  const client = await adapter.connect();
  await launchAndConfigure(client, { command: ctx.mark(text, marker), stopOnEntry: false });
  await waitUntil(
    () => processesWithMarker(marker).length > 0,
    `the step marked ${marker}`,
    EVENT_TIMEOUT_MS,
  );
  return client;
}

async function expectEnd(client: DapClient, exitCode: number): Promise<void> {
  const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
  expect(exited.body.exitCode).toBe(exitCode);
  await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
}

describe('DAP over TCP', () => {
  it('--server=0 picks a free port and prints it on stdout, which carries nothing else', async () => {
    const adapter = await ctx.spawnTcp(['--server=0']);
    expect(adapter.host).toBe('127.0.0.1');
    expect(adapter.port).toBeGreaterThan(0);
    expect(adapter.stdout()).toBe(`relay-dap: DAP server listening on 127.0.0.1:${adapter.port}\n`);
    const client = await adapter.connect();
    await launchAndConfigure(client, { command: ctx.mark('echo hello'), stopOnEntry: false });
    await expectEnd(client, 0);
    expect(outputByCategory(client).stdout).toBe('hello\n');
    await client.request('disconnect', {});
    await client.closed;
    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(adapter.stdout()).toBe(`relay-dap: DAP server listening on 127.0.0.1:${adapter.port}\n`);
    client.assertClean();
  });

  it('--port PORT --host H, and --port 0, listen where asked', async () => {
    const port = await freePort();
    for (const args of [
      ['--port', String(port), '--host', '127.0.0.1'],
      ['--port', '0'],
    ]) {
      const adapter = await ctx.spawnTcp(args);
      expect(adapter.host).toBe('127.0.0.1');
      if (args[1] !== '0') expect(adapter.port).toBe(port);
      else expect(adapter.port).toBeGreaterThan(0);
      const client = await adapter.connect();
      const init = await client.request('initialize', { adapterID: 'relay' });
      expect(init.success).toBe(true);
      await client.close();
      adapter.child.kill('SIGTERM');
      expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
      client.assertClean();
    }
  });

  it('three concurrent sessions each run their own job; none sees another’s output', async () => {
    const adapter = await ctx.spawnTcp();
    const sessions = [0, 1, 2].map((index) => ({ index, marker: ctx.newMarker() }));
    const clients = await Promise.all(
      sessions.map(async ({ index, marker }) => {
        const client = await adapter.connect();
        await launchAndConfigure(client, {
          stopOnEntry: false,
          env: { SESSION: `s${index}` },
          steps: [1, 2, 3].map((line) => ({
            name: `line ${line}`,
            run: ctx.mark(`echo "$SESSION line ${line}"; sleep 0.1`, marker),
          })),
        });
        return client;
      }),
    );
    await Promise.all(clients.map((client) => expectEnd(client, 0)));
    clients.forEach((client, index) => {
      expect(outputByCategory(client).stdout).toBe(`s${index} line 1\ns${index} line 2\ns${index} line 3\n`);
    });
    // A new connection gets a fresh session: no job until it launches one.
    const fresh = await adapter.connect();
    await fresh.request('initialize', { adapterID: 'relay' });
    expect((await fresh.request('threads')).body.threads).toEqual([]);
    for (const client of [...clients, fresh]) {
      await client.request('disconnect', {});
      await client.closed;
      assertResponsesMatchRequests(client);
      client.assertClean();
    }
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  });

  // SIGHUP: the terminal running `npm start` was closed.
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s ends every session (exited 130, terminated), cancels their jobs, and exits 0',
    async (signal) => {
      const adapter = await ctx.spawnTcp();
      const markers = [ctx.newMarker(), ctx.newMarker()];
      const clients = await Promise.all(markers.map((marker) => sessionRunning(adapter, marker)));
      adapter.child.kill(signal);
      await Promise.all(clients.map((client) => expectEnd(client, 130)));
      expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
      await Promise.all(clients.map((client) => client.closed));
      for (const marker of markers) expect(processesWithMarker(marker)).toEqual([]);
      expect(ctx.embeddedRelayDirs()).toEqual([]);
      clients.forEach((client) => client.assertClean());
    },
  );

  it('a second SIGTERM during shutdown (the group’s and the one npm start forwards) does not cut the cleanup short', async () => {
    const adapter = await ctx.spawnTcp();
    const marker = ctx.newMarker();
    // A step that ignores SIGTERM keeps the shutdown busy for the relay's grace period.
    const client = await sessionRunning(adapter, marker, "trap '' TERM; sleep 300");
    adapter.child.kill('SIGTERM');
    await waitUntil(
      () => adapter.stderr().includes('stopping: ending 1 session(s)'),
      'the shutdown to begin',
    );
    adapter.child.kill('SIGTERM');
    await expectEnd(client, 130);
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(processesWithMarker(marker)).toEqual([]);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    client.assertClean();
  });

  it('a connection that closes mid-step cancels its own job only; the other session and the server go on', async () => {
    const adapter = await ctx.spawnTcp();
    const [closing, staying] = [ctx.newMarker(), ctx.newMarker()];
    const leaver = await sessionRunning(adapter, closing);
    const stayer = await sessionRunning(adapter, staying);

    leaver.end();
    await leaver.closed;
    await waitUntil(() => processesWithMarker(closing).length === 0, 'the closed session’s step to end');
    expect(processesWithMarker(staying).length).toBeGreaterThan(0);

    const stack = await stayer.request('stackTrace', { threadId: 1 });
    expect(stack.body.stackFrames.map((f) => f.name)).toEqual(['running: command']);
    expect(outputByCategory(stayer).console ?? '').not.toContain('cancelling');
    await stayer.request('terminate', {});
    await expectEnd(stayer, 130);
    await stayer.request('disconnect', {});
    await stayer.closed;
    expect(processesWithMarker(staying)).toEqual([]);
    expect(adapter.hasExited).toBe(false);
    leaver.assertClean();
    stayer.assertClean();

    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(ctx.embeddedRelayDirs()).toEqual([]);
  });

  it('a half-closed connection still hears exited 130 and terminated, as over stdio', async () => {
    // The client ends its side (as DapClient.close() does) but still reads: the adapter can
    // and should tell it how the session ended, exactly as it does when stdin ends.
    const adapter = await ctx.spawnTcp();
    const marker = ctx.newMarker();
    const client = await sessionRunning(adapter, marker);
    client.end();
    await expectEnd(client, 130);
    await client.closed;
    await waitUntil(() => processesWithMarker(marker).length === 0, 'the step to end');
    client.assertClean();
  });

  it('a client that vanishes (connection reset) mid-step: its job is cancelled, the server goes on', async () => {
    const adapter = await ctx.spawnTcp();
    const marker = ctx.newMarker();
    // A raw socket, so that it can be reset rather than closed politely.
    const socket = net.connect({ port: adapter.port, host: adapter.host });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const requests = [
      { command: 'initialize', arguments: { adapterID: 'relay' } },
      { command: 'launch', arguments: { command: ctx.mark('sleep 300', marker), stopOnEntry: false } },
      { command: 'configurationDone' },
    ];
    requests.forEach((request, index) =>
      socket.write(encodeDapFrame({ seq: index + 1, type: 'request', ...request })),
    );
    await waitUntil(() => processesWithMarker(marker).length > 0, 'the step to start', EVENT_TIMEOUT_MS);
    socket.resetAndDestroy();
    await waitUntil(
      () => processesWithMarker(marker).length === 0,
      'the reset session’s step to end',
      EVENT_TIMEOUT_MS,
    );
    await waitUntil(
      () => ctx.embeddedRelayDirs().length === 0,
      'its embedded relay to be removed',
      EVENT_TIMEOUT_MS,
    );

    const client = await adapter.connect();
    await launchAndConfigure(client, { command: ctx.mark('echo still-serving'), stopOnEntry: false });
    await expectEnd(client, 0);
    expect(outputByCategory(client).stdout).toBe('still-serving\n');
    await client.request('disconnect', {});
    await client.closed;
    client.assertClean();
    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  });
});
