/**
 * The debug adapter as a real process, for the DAP tests: `relay-dap` over stdio, and
 * `relay-dap --server=0` over TCP, each driven by a transcript-keeping `DapClient`.
 *
 * Every test gets an `AdapterContext`: a private TMPDIR (so that the embedded relay's
 * `relay-dap-*` directory can be checked for without seeing other tests'), a workdir, and
 * unique markers. The adapter process carries `ctx.adapterMarker` in its environment, and every
 * relayed command text starts with `export <marker>=1;` (`ctx.mark`) so that a command
 * that outlives its job is found in /proc, whichever relay server ran it. `cleanup()` kills
 * what is left, and fails the test if anything marked was still running or if a client saw
 * anything that is not clean DAP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, expect } from 'vitest';
import { DapClient } from './dapClient.js';
import {
  reapMarked,
  processesWithMarker,
  relayDapBin,
  startServer,
  tempDir,
  uniqueMarker,
  waitUntil,
  type ServerProcess,
} from './relayHarness.js';

/** Waits in these tests are for real processes on a loaded 2-core machine: be generous. */
export const EVENT_TIMEOUT_MS = 30_000;

export interface AdapterExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedAdapter {
  child: ChildProcess;
  /** Everything the adapter wrote on stderr so far. */
  stderr(): string;
  /** Everything the adapter wrote on stdout so far (for TCP mode; over stdio the client reads it). */
  stdout(): string;
  exited: Promise<AdapterExit>;
  /** True once the process has exited. */
  readonly hasExited: boolean;
}

export interface StdioAdapter extends SpawnedAdapter {
  client: DapClient;
}

export interface TcpAdapter extends SpawnedAdapter {
  host: string;
  port: number;
  /** A new connection: one fresh debug session. */
  connect(): Promise<DapClient>;
}

export interface SocketAdapter extends SpawnedAdapter {
  /** The socket's path, as the adapter printed it. */
  socketPath: string;
  /** A new connection: one fresh debug session. */
  connect(): Promise<DapClient>;
}

export interface AdapterContext {
  /** Exported by every command `mark` builds. */
  readonly marker: string;
  /** In the environment of every adapter and relay server this context starts. */
  readonly adapterMarker: string;
  /** The adapters' TMPDIR (their os.tmpdir()): the embedded relay's directory appears here. */
  readonly tmp: string;
  /** The adapters' working directory, where the embedded relay runs commands. */
  readonly workdir: string;
  /** Environment for processes this context starts. */
  readonly env: NodeJS.ProcessEnv;
  /** `export <marker>=1; text`: the command text of a relayed command. */
  mark(text: string, marker?: string): string;
  /** Another marker, also checked at cleanup (for tests that tell sessions apart). */
  newMarker(): string;
  /** `prefix`: a command that starts the adapter (setpriv …), before node. */
  spawnStdio(args?: readonly string[], options?: SpawnOptions): StdioAdapter;
  /**
   * spawnStdio, then `initialize` with `caps` (default: adapterID only), which must succeed: ready
   * for launch (`initialized` comes once launch or attach has read the job). The initialize
   * response is kept as `initialize`.
   */
  spawnInitialized(
    caps?: DebugProtocol.InitializeRequestArguments,
  ): Promise<StdioAdapter & { initialize: DebugProtocol.InitializeResponse }>;
  /**
   * The setup most DAP tests start from: a new stdio adapter with its job launched (initialize →
   * launch → `initialized` → configurationDone; see `launchAndConfigure`, and
   * `launchWithFilters` for `filters`). The responses come with the adapter.
   */
  runJob(launchArgs: Record<string, unknown>, options?: RunJobOptions): Promise<StdioAdapter & Launched>;
  spawnTcp(args?: readonly string[], options?: SpawnOptions): Promise<TcpAdapter>;
  /** `relay-dap --socket PATH ARGS…`, once it listens. */
  spawnSocket(socketPath: string, args?: readonly string[]): Promise<SocketAdapter>;
  /** A real `relay-dap serve` with this context's environment, running commands in `workdir`. */
  startRelayServer(
    relayDir: string,
    options?: { workdir?: string; args?: readonly string[] },
  ): Promise<ServerProcess>;
  /** Clients whose violations are expected (a test that sends garbage); not checked at cleanup. */
  expectViolations(client: DapClient, why: string): void;
  /** `relay-dap-*` directories left in `tmp`. */
  embeddedRelayDirs(): string[];
  /** Kill what is left; throw if a marked process was still alive or a client saw bad DAP. */
  cleanup(): Promise<void>;
}

export interface RunJobOptions {
  /** Capabilities of the client, over DEFAULT_CLIENT_CAPS. */
  caps?: Partial<DebugProtocol.InitializeRequestArguments>;
  /** Resolve with a failed launch instead of throwing. */
  allowLaunchFailure?: boolean;
  /** setExceptionBreakpoints with these filters before configurationDone (absent: none sent). */
  filters?: string[];
}

export interface SpawnOptions {
  /** Run the adapter through this command (e.g. setpriv with fewer capabilities). */
  prefix?: readonly string[];
}

function track(child: ChildProcess): SpawnedAdapter {
  let out = '';
  let err = '';
  let done = false;
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<AdapterExit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  return {
    child,
    stderr: () => err,
    stdout: () => out,
    exited,
    get hasExited() {
      return done;
    },
  };
}

/** The address a listening adapter printed (`host:port`, or a socket's path). */
async function listeningAddress(spawned: SpawnedAdapter): Promise<string> {
  const listening = /relay-dap: DAP server listening on (\S+)\n/;
  await waitUntil(
    () => {
      if (spawned.hasExited) throw new Error(`the adapter exited before listening:\n${spawned.stderr()}`);
      return listening.test(spawned.stdout());
    },
    'the adapter to print its address',
    EVENT_TIMEOUT_MS,
  );
  return listening.exec(spawned.stdout())![1]!;
}

export function createAdapterContext(): AdapterContext {
  const root = tempDir('relay-dap-test-');
  const tmp = path.join(root, 'tmp');
  const workdir = path.join(root, 'work');
  fs.mkdirSync(tmp);
  fs.mkdirSync(workdir);
  const marker = uniqueMarker();
  const adapterMarker = uniqueMarker();
  const markers = [marker, adapterMarker];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [adapterMarker]: '1',
    TMPDIR: tmp,
    RELAY_DIR: undefined,
  };
  delete env.RELAY_DIR;
  const adapters: SpawnedAdapter[] = [];
  const clients: DapClient[] = [];
  const servers: ServerProcess[] = [];
  const excused = new Map<DapClient, string>();

  const spawnAdapter = (args: readonly string[], { prefix = [] }: SpawnOptions = {}): SpawnedAdapter => {
    const [command, ...before] = [...prefix, process.execPath];
    const child = spawn(command, [...before, relayDapBin, ...args], {
      cwd: workdir,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const spawned = track(child);
    adapters.push(spawned);
    return spawned;
  };

  return {
    marker,
    adapterMarker,
    tmp,
    workdir,
    env,
    mark: (text, which = marker) => `export ${which}=1; ${text}`,
    newMarker() {
      const another = uniqueMarker();
      markers.push(another);
      return another;
    },
    spawnStdio(args = [], options = {}) {
      // Both the client and `track` listen on stdout: each sees every chunk.
      const spawned = spawnAdapter(args, options);
      const client = DapClient.overStdio(spawned.child);
      clients.push(client);
      return Object.assign(spawned, { client });
    },
    async spawnInitialized(caps = { adapterID: 'relay' }) {
      const adapter = this.spawnStdio();
      const initialize = await adapter.client.request('initialize', caps);
      expect(initialize.success, initialize.message).toBe(true);
      return Object.assign(adapter, { initialize });
    },
    async runJob(launchArgs, { caps = {}, allowLaunchFailure = false, filters } = {}) {
      const adapter = this.spawnStdio();
      const launched = filters
        ? await launchWithFilters(adapter.client, launchArgs, filters)
        : await launchAndConfigure(adapter.client, launchArgs, caps, { allowLaunchFailure });
      return Object.assign(adapter, launched);
    },
    async spawnTcp(args = ['--server=0'], options = {}) {
      const spawned = spawnAdapter(args, options);
      const address = await listeningAddress(spawned);
      const [, host, port] = /^(\S+):(\d+)$/.exec(address)!;
      return Object.assign(spawned, {
        host: host!,
        port: Number(port),
        async connect() {
          const client = await DapClient.connectTcp(Number(port), host);
          clients.push(client);
          return client;
        },
      });
    },
    async spawnSocket(socketPath, args = []) {
      const spawned = spawnAdapter(['--socket', socketPath, ...args]);
      const address = await listeningAddress(spawned);
      return Object.assign(spawned, {
        socketPath: address,
        async connect() {
          const client = await DapClient.connectUnix(address);
          clients.push(client);
          return client;
        },
      });
    },
    async startRelayServer(relayDir, options = {}) {
      const serverWorkdir = options.workdir ?? workdir;
      const server = await startServer(relayDir, ['--workdir', serverWorkdir, ...(options.args ?? [])], {
        env,
        cwd: serverWorkdir,
      });
      servers.push(server);
      return server;
    },
    expectViolations(client, why) {
      excused.set(client, why);
    },
    embeddedRelayDirs: () => fs.readdirSync(tmp).filter((name) => name.startsWith('relay-dap-')),
    async cleanup() {
      const problems: string[] = [];
      for (const client of clients) {
        if (excused.has(client)) continue;
        try {
          client.assertClean();
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
      // Give adapters that were told to stop a chance to clean up, then make sure.
      for (const adapter of adapters) {
        if (adapter.hasExited) continue;
        adapter.child.stdin?.end();
        adapter.child.kill('SIGTERM');
      }
      for (const adapter of adapters) {
        if (adapter.hasExited) continue;
        const timer = setTimeout(() => adapter.child.kill('SIGKILL'), 15_000);
        await adapter.exited;
        clearTimeout(timer);
      }
      for (const server of servers) await server.stop(15_000);
      for (const m of markers) {
        // A command that ignores SIGTERM is killed after the relay's grace period (5 s).
        const survivors = await reapMarked(m, 15_000);
        if (survivors.length > 0)
          problems.push(`processes marked ${m} outlived the test: ${survivors.join(', ')}`);
      }
      fs.rmSync(root, { recursive: true, force: true });
      if (problems.length > 0) throw new Error(problems.join('\n\n'));
    },
  };
}

/** Process ids still carrying `marker`, waiting (up to `timeoutMs`) for them to go. */
/**
 * Call at the top of a test file or describe: a fresh context before each test, cleaned up
 * (and checked) after it. Returns a view that always reads the current test's context, so a
 * file can hold one `const ctx` instead of re-creating it in its own hooks.
 */
export function useAdapterContext(): AdapterContext {
  let current: AdapterContext | undefined;
  beforeEach(() => {
    current = createAdapterContext();
  });
  afterEach(async () => {
    const ending = current;
    current = undefined;
    await ending?.cleanup();
  });
  return new Proxy({} as AdapterContext, {
    get(_target, key) {
      if (!current) throw new Error('the adapter context exists only while a test runs');
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

export async function assertNoMarkedProcess(marker: string, timeoutMs = 15_000): Promise<void> {
  let survivors: number[] = [];
  await waitUntil(
    () => (survivors = processesWithMarker(marker)).length === 0,
    `every process marked ${marker} to end`,
    timeoutMs,
  ).catch(() => {
    throw new Error(`processes marked ${marker} are still running: ${survivors.join(', ')}`);
  });
}

export const DEFAULT_CLIENT_CAPS: DebugProtocol.InitializeRequestArguments = {
  clientID: 'relay-dap-tests',
  clientName: 'relay-dap tests',
  adapterID: 'relay',
  linesStartAt1: true,
  columnsStartAt1: true,
  pathFormat: 'path',
};

export interface Launched {
  initialize: DebugProtocol.InitializeResponse;
  configurationDone: DebugProtocol.ConfigurationDoneResponse;
  launch: DebugProtocol.LaunchResponse;
}

/**
 * After launch: its `initialized` (the job is read, configuration may begin), or its answer if
 * it failed before that (a job that does not load is refused without `initialized`).
 */
async function launchReadJob(client: DapClient, launching: Promise<DebugProtocol.Response>): Promise<void> {
  const initialized = client.waitForEvent('initialized', undefined, EVENT_TIMEOUT_MS);
  // After a refused launch this wait ends on its own (timeout, or the connection closing).
  initialized.catch(() => undefined);
  await Promise.race([initialized, launching]);
}

/**
 * initialize → launch → `initialized` → configurationDone, as VS Code, nvim-dap, dap-mode and
 * vimspector do: launch at once on the initialize response, configuration on `initialized` (the
 * adapter holds the launch until configurationDone). Throws on a failed initialize or
 * configurationDone; a failed launch is thrown unless `allowLaunchFailure`.
 */
export async function launchAndConfigure(
  client: DapClient,
  launchArgs: Record<string, unknown>,
  clientCaps: Partial<DebugProtocol.InitializeRequestArguments> = {},
  options: { allowLaunchFailure?: boolean } = {},
): Promise<Launched> {
  const initialize = await client.request('initialize', { ...DEFAULT_CLIENT_CAPS, ...clientCaps });
  if (!initialize.success) throw new Error(`initialize failed: ${initialize.message}`);
  const launching = client.request('launch', launchArgs, 60_000);
  await launchReadJob(client, launching);
  const configurationDone = await client.request('configurationDone');
  if (!configurationDone.success) throw new Error(`configurationDone failed: ${configurationDone.message}`);
  const launch = await launching;
  if (!launch.success && !options.allowLaunchFailure)
    throw new Error(`launch failed: ${launch.message} (${JSON.stringify(launch.body)})`);
  return { initialize, configurationDone, launch };
}

/**
 * initialize → launch → `initialized` → setExceptionBreakpoints with `filters`, configurationDone
 * (the order VS Code uses); fails the test if any of them fails.
 */
export async function launchWithFilters(
  client: DapClient,
  launchArgs: Record<string, unknown>,
  filters: string[],
): Promise<Launched> {
  const initialize = await client.request('initialize', DEFAULT_CLIENT_CAPS);
  expect(initialize.success, initialize.message).toBe(true);
  const launching = client.request('launch', launchArgs, 60_000);
  await launchReadJob(client, launching);
  const set = await client.request('setExceptionBreakpoints', { filters });
  expect(set.success, set.message).toBe(true);
  const configurationDone = await client.request('configurationDone');
  expect(configurationDone.success, configurationDone.message).toBe(true);
  const launch = await launching;
  expect(launch.success, launch.message).toBe(true);
  return { initialize, configurationDone, launch };
}

/** The text of every `output` event, concatenated per category (absent category: `console`). */
export function outputByCategory(client: DapClient): Record<string, string> {
  const byCategory: Record<string, string> = {};
  for (const { direction, message } of client.transcript) {
    if (direction !== 'received' || message.type !== 'event') continue;
    const event = message as DebugProtocol.Event;
    if (event.event !== 'output') continue;
    const body = (event as DebugProtocol.OutputEvent).body;
    const category = body.category ?? 'console';
    byCategory[category] = (byCategory[category] ?? '') + body.output;
  }
  return byCategory;
}

/** Every `output` event the client received, in order. */
export function outputEvents(client: DapClient): DebugProtocol.OutputEvent[] {
  return client.transcript
    .filter(({ direction, message }) => direction === 'received' && message.type === 'event')
    .map(({ message }) => message as DebugProtocol.Event)
    .filter((event): event is DebugProtocol.OutputEvent => event.event === 'output');
}

/** Every response's request_seq names a request this client sent with that command, exactly once. */
export function assertResponsesMatchRequests(client: DapClient): void {
  const sent = new Map<number, string>();
  const answered = new Set<number>();
  for (const { direction, message } of client.transcript) {
    if (direction === 'sent' && message.type === 'request') {
      sent.set(message.seq, (message as DebugProtocol.Request).command);
    } else if (direction === 'received' && message.type === 'response') {
      const response = message as DebugProtocol.Response;
      const command = sent.get(response.request_seq);
      if (command === undefined)
        throw new Error(`response ${response.seq} answers request ${response.request_seq}, never sent`);
      if (command !== response.command)
        throw new Error(
          `response to request ${response.request_seq} says command ${response.command}, the request was ${command}`,
        );
      if (answered.has(response.request_seq))
        throw new Error(`request ${response.request_seq} was answered twice`);
      answered.add(response.request_seq);
    }
  }
  const unanswered = [...sent.keys()].filter((seq) => !answered.has(seq));
  if (unanswered.length > 0) throw new Error(`requests never answered: ${unanswered.join(', ')}`);
}

/** Resolves with the adapter's exit, or rejects after `timeoutMs`. */
export async function waitForExit(
  adapter: SpawnedAdapter,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<AdapterExit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the adapter did not exit within ${timeoutMs} ms; stderr:\n${adapter.stderr().slice(-2000)}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([adapter.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The seq of the request the client sent last (call right after `client.request(...)`). */
export function lastRequestSeq(client: DapClient): number {
  for (let i = client.transcript.length - 1; i >= 0; i--) {
    const { direction, message } = client.transcript[i]!;
    if (direction === 'sent' && message.type === 'request') return message.seq;
  }
  throw new Error('no request sent yet');
}

/** The stable error id of a failed response (`body.error.id`). */
export function errorId(response: DebugProtocol.Response): number | undefined {
  return (response.body as { error?: DebugProtocol.Message } | undefined)?.error?.id;
}

/** Transcript summary lines with step durations (`0.03 s`) replaced by `T s`, which vary run to run. */
export function stableSummary(client: DapClient): string[] {
  return client.transcriptSummary().map((line) => line.replace(/\b\d+\.\d+ s\b/g, 'T s'));
}

/**
 * Sends the console `expression` while a step runs, and waits for the adapter to say the command
 * is queued behind that step. Returns the pending evaluate and its request's seq.
 */
export async function evaluateQueued(
  client: DapClient,
  expression: string,
): Promise<{ evaluating: Promise<DebugProtocol.EvaluateResponse>; evaluateSeq: number }> {
  const evaluating = client.request('evaluate', { expression, context: 'repl' });
  const evaluateSeq = lastRequestSeq(client);
  await client.waitForEvent(
    'output',
    (e) => e.body.output.startsWith('relay-dap: queued behind the running step'),
    EVENT_TIMEOUT_MS,
  );
  return { evaluating, evaluateSeq };
}

/**
 * The end of a session's stable transcript (`stableSummary`) after a disconnect while paused, as
 * its fourth request: answered before `terminated`, which makes nvim-dap close the session unread.
 */
export const DISCONNECTED_WHILE_PAUSED = [
  '→ request 4 disconnect',
  '← event output [console] "relay-dap: cancelling: disconnect request\\n"',
  '← response 4 disconnect ok',
  '← event exited (exitCode 130)',
  '← event terminated',
];

/** Whether a request with this seq has been answered yet. */
export function isAnswered(client: DapClient, seq: number): boolean {
  return client.transcript.some(
    ({ direction, message }) =>
      direction === 'received' &&
      message.type === 'response' &&
      (message as DebugProtocol.Response).request_seq === seq,
  );
}

/** A TCP port on 127.0.0.1 that nothing listens on now (as nvim-dap picks one for `${port}`). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a listener could take `port` on 127.0.0.1 now (no adapter holds it any more). */
export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
