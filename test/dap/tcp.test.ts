// `relay-dap --server=PORT` (and `--port PORT [--host H]`): DAP over TCP, one fresh session
// per connection, many at once, each with its own job and output; SIGTERM ends them all.
// Only the adapter's own user gets in; `--socket PATH` serves the same over a Unix socket;
// `npm start` stops with the npm that started it.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  assertResponsesMatchRequests,
  EVENT_TIMEOUT_MS,
  freePort,
  launchAndConfigure,
  outputByCategory,
  waitForExit,
  type TcpAdapter,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { DapClient, encodeDapFrame } from '../support/dapClient.js';
import { OTHER_UID, otherUser } from '../support/otherUser.js';
import { connectAsOtherUser } from '../support/otherUserClient.js';
import { processesWithMarker, relayDap, repoRoot, waitUntil } from '../support/relayHarness.js';
import { expectOneLine, finish } from '../support/relayTestContext.js';

const ctx = useAdapterContext();

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

/** A new connection runs `echo <text>` as its job to exit 0 and prints it; then disconnects. */
async function echoSession(adapter: TcpAdapter, text: string): Promise<DapClient> {
  const client = await adapter.connect();
  await launchAndConfigure(client, { command: ctx.mark(`echo ${text}`), stopOnEntry: false });
  await expectEnd(client, 0);
  expect(outputByCategory(client).stdout).toBe(`${text}\n`);
  await client.request('disconnect', {});
  await client.closed;
  return client;
}

describe('DAP over TCP', () => {
  it('--server=0 picks a free port and prints it on stdout, which carries nothing else', async () => {
    const adapter = await ctx.spawnTcp(['--server=0']);
    expect(adapter.host).toBe('127.0.0.1');
    expect(adapter.port).toBeGreaterThan(0);
    expect(adapter.stdout()).toBe(`relay-dap: DAP server listening on 127.0.0.1:${adapter.port}\n`);
    const client = await echoSession(adapter, 'hello');
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

    const client = await echoSession(adapter, 'still-serving');
    client.assertClean();
    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  });
});

/** The adapter's log lines (stderr) that mention `text`. */
function logLines(adapter: { stderr(): string }, text: string): string[] {
  return adapter
    .stderr()
    .split('\n')
    .filter((line) => line.includes(text));
}

describe(`only the adapter's own user gets in over TCP`, () => {
  it.skipIf(!otherUser.ok)(
    `a connection from another local user (uid ${OTHER_UID}) is refused unanswered with one log line; the same user's session goes on${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const adapter = await ctx.spawnTcp();
      const own = await adapter.connect();
      expect((await own.request('initialize', { adapterID: 'relay' })).success).toBe(true);

      const attempt = await connectAsOtherUser({ host: adapter.host, port: adapter.port });
      expect(attempt).toMatchObject({ connected: true, received: 0, answered: false });
      const refused = logLines(adapter, 'refused');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toContain(`[connection from 127.0.0.1:${attempt.localPort}] refused: `);
      expect(refused[0]).toContain(`it belongs to another user (uid ${OTHER_UID}`);
      expect(refused[0]).toContain('--allow-other-users');
      expect(adapter.stderr()).not.toContain(`:${attempt.localPort}] connected`);

      expect((await own.request('threads')).success).toBe(true);
      await own.close();
      own.assertClean();
    },
  );

  it.skipIf(!otherUser.ok)(
    `a client of uid ${OTHER_UID} that sends a launch and is gone before the adapter looks: its orphaned socket, which the kernel lists as uid 0, is not taken for root's${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const adapter = await ctx.spawnTcp();
      const proof = path.join(ctx.workdir, 'ran-as-the-adapter-user');
      const tries = 3;
      // A busy adapter, modelled by a stopped one: the kernel completes the connections, the
      // client sends its launch and exits, and only then does the adapter accept and look.
      adapter.child.kill('SIGSTOP');
      try {
        for (let i = 0; i < tries; i++)
          await connectAsOtherUser(
            { host: adapter.host, port: adapter.port },
            { launch: `touch ${proof}`, exitAfterSending: true },
          );
      } finally {
        adapter.child.kill('SIGCONT');
      }
      const seen = () => [...logLines(adapter, '] refused: '), ...logLines(adapter, '] connected')];
      await waitUntil(() => seen().length === tries, 'every connection to be refused or served', 30_000);
      expect(logLines(adapter, '] connected')).toEqual([]);
      const refusals = logLines(adapter, '] refused: ');
      for (const line of refusals)
        expect(line).toContain('refused: its socket was closed before its owner could be checked');
      expect(fs.existsSync(proof)).toBe(false);
    },
  );

  it.skipIf(!otherUser.ok)(
    `IPv6 loopback (--host ::1) and an IPv4-mapped listener: the same user gets in, uid ${OTHER_UID} does not${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      // ::ffff:127.0.0.1: an IPv6 socket whose clients are IPv4 sockets (found in /proc/net/tcp,
      // not tcp6) or IPv6 sockets with the mapped address.
      for (const [host, connectTo] of [
        ['::1', '::1'],
        ['::ffff:127.0.0.1', '127.0.0.1'],
        ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
      ] as const) {
        const adapter = await ctx.spawnTcp(['--server=0', '--host', host]);
        expect(adapter.host).toBe(host);
        expect(adapter.stderr()).not.toMatch(/warning/);
        const client = await DapClient.connectTcp(adapter.port, connectTo);
        expect((await client.request('initialize', { adapterID: 'relay' })).success, connectTo).toBe(true);
        await client.close();
        client.assertClean();
        const attempt = await connectAsOtherUser({ host: connectTo, port: adapter.port });
        expect(attempt, `uid ${OTHER_UID} through ${connectTo}`).toMatchObject({
          received: 0,
          answered: false,
        });
        expect(logLines(adapter, `refused: it belongs to another user (uid ${OTHER_UID}`)).toHaveLength(1);
        adapter.child.kill('SIGTERM');
        expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
      }
    },
  );

  it.skipIf(!otherUser.ok)(
    `--allow-other-users lets uid ${OTHER_UID} in, and says so loudly at start${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const adapter = await ctx.spawnTcp(['--server=0', '--allow-other-users']);
      const uid = process.geteuid!();
      expect(logLines(adapter, 'warning')).toEqual([
        expect.stringContaining(
          `warning: --allow-other-users: the same-user check is off: any local user who connects can run commands as uid ${uid}`,
        ),
      ]);
      const attempt = await connectAsOtherUser({ host: adapter.host, port: adapter.port });
      expect(attempt).toMatchObject({ connected: true, answered: true });
      expect(adapter.stderr()).not.toContain('refused');
    },
  );

  it('a non-loopback --host warns at start, naming the exposure and what to use instead; loopback hosts do not', async () => {
    const exposed = await ctx.spawnTcp(['--server=0', '--host', '0.0.0.0']);
    const warnings = logLines(exposed, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(
      'warning: listening on 0.0.0.0, which is not a loopback address: any host that can reach it can connect. ' +
        'Connections from other machines are refused (the same-user check knows only sockets on this machine), but the port is exposed; ' +
        'to debug from another machine, keep the default --host and use an SSH tunnel (ssh -L PORT:127.0.0.1:PORT), or --socket PATH',
    );
    // The same user, through loopback, still gets in: the check finds its socket.
    const client = await DapClient.connectTcp(exposed.port, '127.0.0.1');
    expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
    await client.close();
    client.assertClean();
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost']) {
      const quiet = await ctx.spawnTcp(['--server=0', '--host', host]);
      expect(quiet.stderr(), host).not.toMatch(/warning/);
    }
  });
});

describe(`--socket PATH: DAP on a Unix domain socket`, () => {
  const modeOf = (file: string): string => '0' + (fs.lstatSync(file).mode & 0o777).toString(8);
  const adapterRun = (args: readonly string[]) =>
    finish(relayDap(args, { env: ctx.env, cwd: ctx.workdir }), 30_000, `relay-dap ${args.join(' ')}`);

  it('a whole session over the socket: its directory is created 0700, the socket is 0600, removed at exit', async () => {
    const dir = path.join(ctx.tmp, 'run', 'relay-dap');
    const socketPath = path.join(dir, 'dap.sock');
    const adapter = await ctx.spawnSocket(socketPath);
    expect(adapter.stdout()).toBe(`relay-dap: DAP server listening on ${socketPath}\n`);
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);
    expect(modeOf(socketPath)).toBe('0600');
    expect(modeOf(dir)).toBe('0700');

    const clients = await Promise.all([adapter.connect(), adapter.connect()]);
    await Promise.all(
      clients.map((client, index) =>
        launchAndConfigure(client, { command: ctx.mark(`echo hello ${index}`), stopOnEntry: false }),
      ),
    );
    await Promise.all(clients.map((client) => expectEnd(client, 0)));
    for (const [index, client] of clients.entries()) {
      expect(outputByCategory(client).stdout).toBe(`hello ${index}\n`);
      await client.request('disconnect', {});
      await client.closed;
      assertResponsesMatchRequests(client);
      client.assertClean();
    }
    expect(adapter.stderr()).toContain('[session 1 on the socket] connected');

    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(socketPath)).toBe(false);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
  });

  it.skipIf(!otherUser.ok)(
    `uid ${OTHER_UID} cannot connect (EACCES), and a directory of theirs is refused${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const dir = path.join(ctx.tmp, 'private');
      const adapter = await ctx.spawnSocket(path.join(dir, 'dap.sock'));
      const attempt = await connectAsOtherUser({ path: adapter.socketPath });
      expect(attempt).toMatchObject({ connected: false, received: 0, answered: false, end: 'EACCES' });
      expect(adapter.stderr()).not.toContain('connected');

      // A directory someone else owns, even private to them: not ours to serve in.
      const theirs = path.join(ctx.tmp, 'theirs');
      fs.mkdirSync(theirs, { mode: 0o700 });
      fs.chownSync(theirs, OTHER_UID, OTHER_UID);
      const refused = await adapterRun(['--socket', path.join(theirs, 'dap.sock')]);
      expect(refused.code).toBe(1);
      expect(expectOneLine(refused.stderr)).toBe(
        `relay-dap: --socket: the directory ${theirs} is owned by uid ${OTHER_UID} with mode 0700; it must be yours (uid ${process.geteuid!()}) and private: choose a directory of your own (for example under $XDG_RUNTIME_DIR)`,
      );
      expect(fs.readdirSync(theirs)).toEqual([]);
    },
  );

  it('refuses, in one line and leaving things as they were: an open directory, an open one above it, a file in the way, a live socket', async () => {
    const uid = process.geteuid!();
    const open = path.join(ctx.tmp, 'open');
    fs.mkdirSync(open, { mode: 0o755 });
    fs.chmodSync(open, 0o755);
    let result = await adapterRun(['--socket', path.join(open, 'dap.sock')]);
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toBe(
      `relay-dap: --socket: the directory ${open} is owned by uid ${uid} with mode 0755; it must be yours (uid ${uid}) and private: chmod 700 ${open}, or name a directory that does not exist yet (relay-dap creates it 0700)`,
    );
    expect(fs.readdirSync(open)).toEqual([]);

    const shared = path.join(ctx.tmp, 'shared');
    fs.mkdirSync(path.join(shared, 'mine'), { recursive: true, mode: 0o700 });
    fs.chmodSync(shared, 0o777);
    result = await adapterRun(['--socket', path.join(shared, 'mine', 'dap.sock')]);
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toContain(
      `${shared}, above the socket's directory, is owned by uid ${uid} with mode 0777: another user could replace what is inside it`,
    );

    const dir = path.join(ctx.tmp, 'private');
    fs.mkdirSync(dir, { mode: 0o700 });
    const file = path.join(dir, 'notes.txt');
    fs.writeFileSync(file, 'keep me\n');
    result = await adapterRun(['--socket', file]);
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toBe(
      `relay-dap: --socket: ${file} exists and is a regular file; relay-dap replaces only a stale socket: remove it, or choose another path`,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me\n');

    const live = await ctx.spawnSocket(path.join(dir, 'dap.sock'));
    result = await adapterRun(['--socket', live.socketPath]);
    expect(result.code).toBe(1);
    expect(expectOneLine(result.stderr)).toBe(
      `relay-dap: --socket: ${live.socketPath} is in use (an adapter is listening on it): connect to that one, stop it, or choose another path`,
    );
    const client = await live.connect();
    expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
    await client.close();

    result = await adapterRun(['--socket', live.socketPath, '--port', '0']);
    expect(result.code).toBe(2);
    expect(expectOneLine(result.stderr)).toMatch(/--socket and --server\/--port are two ways to listen/);
  });

  it('a stale socket left by an adapter that was killed is replaced, and the log says so', async () => {
    const socketPath = path.join(ctx.tmp, 'private', 'dap.sock');
    const killed = await ctx.spawnSocket(socketPath);
    killed.child.kill('SIGKILL');
    await waitForExit(killed);
    expect(fs.lstatSync(socketPath).isSocket()).toBe(true);

    const next = await ctx.spawnSocket(socketPath);
    expect(logLines(next, 'stale')).toEqual([
      expect.stringContaining(
        `removed the stale socket ${socketPath} (nothing was listening on it: an adapter that did not exit cleanly)`,
      ),
    ]);
    const client = await next.connect();
    expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
    await client.close();
    client.assertClean();
  });
});

describe('npm start', () => {
  /** `npm start -- --port 0` (in its own process group), once it says it is ready. */
  async function npmStart(): Promise<{ npm: ChildProcess; port: number }> {
    const npm = spawn('npm', ['start', '--', '--port', '0'], {
      cwd: repoRoot,
      env: ctx.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => /ready on 127\.0\.0\.1:\d+/.test(output), 'npm start to be ready', 120_000);
    return { npm, port: Number(/ready on 127\.0\.0\.1:(\d+)/.exec(output)![1]) };
  }

  function connectOutcome(port: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
  }

  // SIGKILL: npm cannot forward anything; what it started must notice that it is gone.
  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)(
    '%s to the npm process alone (not its group) stops the adapter and frees its port',
    async (signal) => {
      const { npm, port } = await npmStart();
      expect(await connectOutcome(port)).toBe('connected');
      const started = processesWithMarker(ctx.adapterMarker);
      expect(started.length).toBeGreaterThan(1); // npm and what it runs
      process.kill(npm.pid!, signal);
      await waitUntil(
        () => processesWithMarker(ctx.adapterMarker).length === 0,
        `npm and every process it started to end after ${signal} (were ${started.join(', ')})`,
        30_000,
      );
      expect(await connectOutcome(port)).toBe('ECONNREFUSED');
    },
    180_000,
  );
});
