/**
 * A per-test context for tests that start relay servers and clients as real processes: a
 * unique marker in the environment of everything started (so every command it runs can be
 * found), servers and clients stopped after each test, temporary directories removed, and
 * the test failed if a marked process outlived it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  reapMarked,
  readIf,
  relayDap,
  startServer,
  stopProcess,
  tempDir,
  tempRelayDir,
  tempRelayDirUntil,
  uniqueMarker,
  waitUntil,
  type Finished,
  type ServerProcess,
  type Spawned,
} from './relayHarness.js';
import { parseRunningMarker } from '../../src/relay/runningMarker.js';

export interface RelayTestContext {
  marker: string;
  /** In the environment of every process started (servers, clients, and so every command). */
  env: NodeJS.ProcessEnv;
  servers: ServerProcess[];
  spawned: Spawned[];
  cleanups: Array<() => void>;
}

/** Call at the top level of a test file: registers the hooks and returns the helpers. */
export function useRelayTestContext() {
  let ctx!: RelayTestContext;

  beforeEach(() => {
    const marker = uniqueMarker();
    ctx = { marker, env: { [marker]: '1', RELAY_DIR: undefined }, servers: [], spawned: [], cleanups: [] };
  });

  afterEach(async () => {
    for (const server of ctx.servers) await server.stop(10_000);
    for (const s of ctx.spawned) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    }
    const survivors = await reapMarked(ctx.marker, 15_000);
    for (const cleanup of ctx.cleanups.reverse()) cleanup();
    expect(survivors, 'processes that outlived the test').toEqual([]);
  });

  const relayDirs = () => tempRelayDirUntil(ctx.cleanups);

  function scratchDir(): string {
    const dir = tempDir('relay-scratch-');
    ctx.cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function serve(
    relayDir: string,
    workdir: string,
    args: readonly string[] = [],
  ): Promise<ServerProcess> {
    const server = await startServer(relayDir, ['--workdir', workdir, ...args], { env: ctx.env });
    ctx.servers.push(server);
    return server;
  }

  /** A new relay directory with `relay-dap serve` running in it (see `serve`). */
  async function servedRelay(args: readonly string[] = []): Promise<{ relayDir: string; workdir: string }> {
    const dirs = relayDirs();
    await serve(dirs.relayDir, dirs.workdir, args);
    return dirs;
  }

  /** A process the test started itself: killed after the test if it is still running. */
  function track<T extends Spawned>(spawned: T): T {
    ctx.spawned.push(spawned);
    return spawned;
  }

  function launch(
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer } = {},
  ): Spawned {
    return track(relayDap(args, { ...options, env: { ...ctx.env, ...options.env } }));
  }

  return { ctx: () => ctx, relayDirs, scratchDir, serve, servedRelay, launch, track };
}

/** A test's own relay directory (see `useOneRelayDir`). */
export interface OneRelayDir<Server extends { stop(): Promise<unknown> }> {
  readonly dirs: { root: string; relayDir: string; workdir: string };
  /** In the environment of what the test starts, so that every command it runs can be found. */
  readonly marker: string;
  /** Stopped first after the test. */
  readonly servers: Server[];
  /** Other processes the test started (clients, servers of other kinds): stopped after the servers. */
  readonly processes: Spawned[];
  /** A path in the relay directory. */
  readonly rel: (...parts: string[]) => string;
  /** A path in the workdir. */
  readonly work: (...parts: string[]) => string;
}

/**
 * Call at the top of a test file whose tests each use one relay directory: a fresh one, with a
 * workdir and a marker, before each test; after it, its servers and then its clients are
 * stopped, the test fails if a marked process outlived it, and the directories go. Returns a
 * view that always reads the current test's.
 */
export function useOneRelayDir<Server extends { stop(): Promise<unknown> }>(): OneRelayDir<Server> {
  let current: {
    dirs: ReturnType<typeof tempRelayDir>;
    marker: string;
    servers: Server[];
    processes: Spawned[];
  };
  beforeEach(() => {
    current = { dirs: tempRelayDir(), marker: uniqueMarker(), servers: [], processes: [] };
  });
  afterEach(async () => {
    try {
      for (const server of current.servers) await server.stop();
      for (const spawned of current.processes) await stopProcess(spawned);
      // Nothing the test started may outlive it: no server, no client, no command.
      const described = await reapMarked(current.marker, 10_000);
      expect(described, 'processes that outlived the test').toEqual([]);
    } finally {
      current.dirs.cleanup();
    }
  });
  return {
    get dirs() {
      return current.dirs;
    },
    get marker() {
      return current.marker;
    },
    get servers() {
      return current.servers;
    },
    get processes() {
      return current.processes;
    },
    rel: (...parts) => path.join(current.dirs.relayDir, ...parts),
    work: (...parts) => path.join(current.dirs.workdir, ...parts),
  };
}

/** Wait for a process to end; SIGKILL it (and fail) if it takes longer than `ms`. */
export async function finish(spawned: Spawned, ms = 30_000, what = 'process'): Promise<Finished> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    spawned.child.kill('SIGKILL');
  }, ms);
  const result = await spawned.finished;
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(
      `${what} did not end within ${ms} ms; stdout ${JSON.stringify(result.stdout.toString())}, stderr ${JSON.stringify(result.stderr)}`,
    );
  }
  return result;
}

export function runningId(relayDir: string): string | undefined {
  const text = readIf(path.join(relayDir, 'running'))?.trim();
  return text ? parseRunningMarker(text).id : undefined;
}

/**
 * Wait until `client` has printed `text` and `running` names a command, and return its id.
 * The command's first output may come before `running` is written (the server publishes it
 * right after the spawn, and a loaded machine may run bash first).
 */
export async function commandStarted(relayDir: string, client: Spawned, text: string): Promise<string> {
  let id: string | undefined;
  await waitUntil(
    () => client.stdout().toString().includes(text) && (id = runningId(relayDir)) !== undefined,
    `the command to print ${JSON.stringify(text)} and be named by running`,
  );
  return id!;
}

export function expectOneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, `stderr should be one line: ${JSON.stringify(stderr)}`).toHaveLength(1);
  return lines[0]!;
}
