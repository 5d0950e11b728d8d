/**
 * A `!debug` parent and its child session, driven as VS Code and nvim-dap drive them, for
 * test/dap/pythonChildSession.test.ts and the reliability suite. The program is a real Python
 * script run under Debian's debugpy.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { expect } from 'vitest';
import * as harness from './adapterHarness.js';
import type { AdapterContext } from './adapterHarness.js';
import { DapClient } from './dapClient.js';
import * as session from './jobSession.js';

const LIMIT = harness.EVENT_TIMEOUT_MS;

/**
 * An interpreter that imports debugpy. CI installs python3-debugpy (.ci/run); a machine without
 * it fails here, naming the package, rather than skipping.
 */
export function pythonWithDebugpy(): string {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import debugpy'], { stdio: 'ignore' }).status === 0) return python;
  }
  throw new Error('no python3 here imports debugpy: apt-get install python3-debugpy (see README)');
}

export const SCRIPT = [
  'def add(a, b):',
  '    total = a + b',
  '    doubled = total * 2',
  '    return doubled',
  '',
  'result = add(2, 40)',
  'print("result", result)',
  'raise SystemExit(7)',
  '',
].join('\n');
/** The parent's configuration `type` (as nvim-dap's `relay_server`): the child is asked for with the same. */
export const PARENT_TYPE = 'relay_under_test';
export const LINE_TOTAL = 2;
export const LINE_DOUBLED = 3;

export interface ParentOptions {
  /** Whether the client answers `startDebugging` (default) or is given an address. */
  startDebugging?: boolean;
  /** A relay server of its own with these arguments (`--poll 50`), instead of the embedded one. */
  server?: string[];
  /** More launch arguments (`cwd`, `localRoot`), over the parent's own (a `program` in place of its `command`). */
  launch?: Record<string, unknown>;
  /**
   * How the client reaches the adapter: a process on stdio (default), or a connection to
   * `relay-dap --server=0` or `--socket PATH`, where the child is a new connection to the same
   * server (as nvim-dap's server adapters open it); `debugServer`: over TCP as VS Code's
   * `debugServer` configurations are (the port in the launch arguments too), the child opened
   * where its configuration's `debugServer` says.
   */
  over?: 'stdio' | 'tcp' | 'socket' | 'debugServer';
}

/** A child session's connection, as the client opens it; `childAdapter` when it is a process of its own. */
type ChildConnection = { child: DapClient; childAdapter?: harness.StdioAdapter };
type ChildProcess = Required<ChildConnection>;

/** The child as a stdio client opens it (VS Code's extension, nvim-dap's `executable`): an adapter process of its own. */
function childProcess(ctx: AdapterContext): ChildProcess {
  const childAdapter = ctx.spawnStdio();
  return { child: childAdapter.client, childAdapter };
}

/** The parent: a job paused at entry. */
export async function pausedParent(
  ctx: AdapterContext,
  { startDebugging = true, server, launch, over = 'stdio' }: ParentOptions = {},
): Promise<{
  adapter: harness.SpawnedAdapter;
  client: DapClient;
  script: string;
  connectChild: (configuration: Record<string, unknown>) => Promise<ChildConnection>;
}> {
  const script = session.writeFile(ctx.workdir, 'add.py', SCRIPT);
  const relay: Record<string, unknown> = {};
  if (server) {
    relay.relayDir = path.join(ctx.workdir, 'relay');
    await ctx.startRelayServer(relay.relayDir as string, { args: server });
  }
  const args = {
    type: PARENT_TYPE,
    ...(launch?.program === undefined ? { command: ctx.mark('true') } : {}),
    cwd: ctx.workdir,
    ...relay,
    ...launch,
  };
  const caps = { supportsStartDebuggingRequest: startDebugging };
  if (over === 'stdio') {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', args, { caps });
    return { adapter, client, script, connectChild: () => Promise.resolve(childProcess(ctx)) };
  }
  if (over === 'debugServer') {
    const adapter = await ctx.spawnTcp();
    const client = await adapter.connect();
    await harness.launchAndConfigure(client, { ...args, debugServer: adapter.port }, caps);
    await session.stoppedAt(client, 'entry');
    // VS Code: a configuration with `debugServer` is DAP over TCP to that port on this machine.
    const connectChild = async (configuration: Record<string, unknown>): Promise<ChildConnection> => {
      expect(configuration.debugServer).toBe(adapter.port);
      return { child: await DapClient.connectTcp(configuration.debugServer as number) };
    };
    return { adapter, client, script, connectChild };
  }
  const adapter =
    over === 'tcp'
      ? await ctx.spawnTcp()
      : await ctx.spawnSocket(path.join(ctx.tmp, 'run', 'relay-dap', 'dap.sock'));
  const client = await adapter.connect();
  await harness.launchAndConfigure(client, args, caps);
  await session.stoppedAt(client, 'entry');
  return { adapter, client, script, connectChild: async () => ({ child: await adapter.connect() }) };
}

/**
 * Answers `startDebugging` as VS Code and nvim-dap do: a new session (`connectChild`: a new
 * adapter process, or a new connection to the same server), initialize, then the configuration's
 * launch at once; breakpoints and configurationDone on `initialized`.
 */
export async function openChild<C extends ChildConnection = ChildProcess>(
  ctx: AdapterContext,
  parent: DapClient,
  breakpoints: { path: string; lines: number[] },
  connectChild: (configuration: Record<string, unknown>) => Promise<C> = () =>
    Promise.resolve(childProcess(ctx) as C),
): Promise<C & { launched: Promise<DebugProtocol.Response> }> {
  const start = await parent.waitForReverseRequest('startDebugging', undefined, LIMIT);
  expect(start.arguments).toMatchObject({ request: 'launch', configuration: { type: PARENT_TYPE } });
  parent.respond(start, {});
  const connection = await connectChild(start.arguments.configuration);
  const { child } = connection;
  const init = await child.request('initialize', harness.DEFAULT_CLIENT_CAPS);
  expect(init.success).toBe(true);
  const launched = child.request('launch', start.arguments.configuration, 60_000);
  // debugpy's `initialized`, once the launch reached it (the only one: see debugToTheEnd).
  await child.waitForEvent('initialized', undefined, LIMIT);
  await setBreakpointsAndConfigure(child, breakpoints);
  return { ...connection, launched };
}

export async function setBreakpointsAndConfigure(
  child: DapClient,
  breakpoints: { path: string; lines: number[] },
): Promise<void> {
  const set = await child.request('setBreakpoints', {
    source: { path: breakpoints.path },
    breakpoints: breakpoints.lines.map((line) => ({ line })),
  });
  expect(set.success, set.message).toBe(true);
  expect(
    (set.body as DebugProtocol.SetBreakpointsResponse['body']).breakpoints.map((b) => b.verified),
  ).toEqual(breakpoints.lines.map(() => true));
  const done = await child.request('configurationDone');
  expect(done.success, done.message).toBe(true);
}

/**
 * `!debug PYTHON add.py` (or another way to name it: `-m add`) typed in a paused parent, its
 * child opened with a breakpoint in add().
 */
export async function debugAddPy(ctx: AdapterContext, options: ParentOptions = {}, target = 'add.py') {
  const python = pythonWithDebugpy();
  const { adapter, client, script, connectChild } = await pausedParent(ctx, options);
  const debugging = client.request(
    'evaluate',
    { expression: `!debug ${python} ${target}`, context: 'repl' },
    120_000,
  );
  return {
    adapter,
    client,
    script,
    debugging,
    ...(await openChild(ctx, client, { path: script, lines: [LINE_TOTAL] }, connectChild)),
  };
}

/**
 * In the child, stopped at the breakpoint in add(): frames, locals, next, evaluate, continue
 * to the program's end (exit 7), disconnect; then the parent's `!debug` answers `exit 7`, and
 * the program's output was the parent's, as a `!CMD`'s is (masked there), not the child's.
 */
export async function debugToTheEnd(
  child: DapClient,
  script: string,
  debugging: Promise<DebugProtocol.Response>,
  parent: DapClient,
  /** The breakpoint's `stopped` event, when the caller has already waited for it. */
  stopped?: DebugProtocol.StoppedEvent,
): Promise<void> {
  const hit = stopped ?? (await child.waitForEvent('stopped', undefined, LIMIT));
  expect(hit.body.reason).toBe('breakpoint');
  const threadId = hit.body.threadId!;
  const frame = await topFrame(child, threadId);
  expect({ line: frame.line, path: frame.source?.path, name: frame.name }).toEqual({
    line: LINE_TOTAL,
    path: script,
    name: 'add',
  });
  expect(await locals(child, frame.id)).toMatchObject({ a: '2', b: '40' });

  expect((await child.request('next', { threadId })).success).toBe(true);
  const stepped = await child.waitForEvent('stopped', undefined, LIMIT);
  expect(stepped.body.reason).toBe('step');
  const after = await topFrame(child, threadId);
  expect(after.line).toBe(LINE_DOUBLED);
  expect(await locals(child, after.id)).toMatchObject({ total: '42' });
  const evaluated = await child.request('evaluate', {
    expression: 'total * 10 + b',
    frameId: after.id,
    context: 'repl',
  });
  expect(evaluated.body.result).toBe('460');

  expect((await child.request('continue', { threadId })).success).toBe(true);
  const exited = await child.waitForEvent('exited', undefined, LIMIT);
  expect(exited.body.exitCode).toBe(7);
  await child.waitForEvent('terminated', undefined, LIMIT);
  expect(child.output('stdout')).not.toContain('result 84');
  await child.request('disconnect', {});
  // As VS Code and nvim-dap do once a session is over: the child's adapter is let go.
  child.end();

  const answer = await debugging;
  expect(answer.success, answer.message).toBe(true);
  expect((answer.body as DebugProtocol.EvaluateResponse['body']).result).toBe('exit 7');
  // Exactly one `initialized` in the whole child session: VS Code, nvim-dap, dap-mode and
  // vimspector configure on each one, and VS Code ends a session whose second configurationDone
  // debugpy refuses ("only allowed during handling of a launch").
  expect(child.transcriptSummary().filter((line) => line === '← event initialized')).toEqual([
    '← event initialized',
  ]);
  expect(parent.output('stdout')).toContain('result 84\n');
}

/** Where a child stopped: its top frame's line, file and function. */
export interface FrameAt {
  line: number;
  path: string;
  name: string;
}

/**
 * In a child stopped at a breakpoint: the top frame is `at`, and its locals include `vars`
 * (values as debugpy shows them); then it continues.
 */
export async function breakpointHitThenContinue(
  child: DapClient,
  at: FrameAt,
  vars: Record<string, string>,
): Promise<void> {
  const hit = await child.waitForEvent('stopped', undefined, LIMIT);
  expect(hit.body.reason).toBe('breakpoint');
  const frame = await topFrame(child, hit.body.threadId!);
  expect({ line: frame.line, path: frame.source?.path, name: frame.name }).toEqual(at);
  expect(await locals(child, frame.id)).toMatchObject(vars);
  expect((await child.request('continue', { threadId: hit.body.threadId! })).success).toBe(true);
}

/** The child's process ended: its session ends (`terminated`), and the client lets it go. */
export async function childEnds(child: DapClient): Promise<void> {
  await child.waitForEvent('terminated', undefined, LIMIT);
  await child.request('disconnect', {});
  child.end();
}

/**
 * A client given an address (no `startDebugging`) attaches as a Python "attach" with "connect"
 * does: DAP straight to the address, debugpy's all the way; initialize, attach, breakpoints and
 * configurationDone on `initialized`. `debug` goes on with the session and its pending attach;
 * whatever happens, every message the session saw is checked.
 */
export async function attachDirectly(
  port: number,
  breakpoints: { path: string; lines: number[] },
  debug: (child: DapClient, attached: Promise<DebugProtocol.Response>) => Promise<void>,
): Promise<void> {
  const child = await DapClient.connectTcp(port, '127.0.0.1');
  try {
    expect((await child.request('initialize', harness.DEFAULT_CLIENT_CAPS)).success).toBe(true);
    const attached = child.request('attach', { connect: { host: '127.0.0.1', port } }, 60_000);
    await child.waitForEvent('initialized', undefined, LIMIT);
    await setBreakpointsAndConfigure(child, breakpoints);
    await debug(child, attached);
  } finally {
    child.assertClean();
  }
}

/**
 * The user stops a parent (terminateDebuggee) while its `!debug` is under way: the `!debug`
 * answers `cancelled`, the parent's adapter exits, and so does every child's (a child's
 * connection ends with its parent's channel); no far-side process is left.
 */
export async function cancelParent(
  ctx: AdapterContext,
  parent: { adapter: harness.SpawnedAdapter; client: DapClient; debugging: Promise<DebugProtocol.Response> },
  childAdapters: readonly harness.SpawnedAdapter[],
): Promise<void> {
  await parent.client.request('disconnect', { terminateDebuggee: true });
  const answer = await parent.debugging;
  expect(answer.success).toBe(false);
  expect(answer.message).toBe('cancelled');
  parent.client.end();
  await harness.waitForExit(parent.adapter);
  for (const childAdapter of childAdapters) await harness.waitForExit(childAdapter);
  await harness.assertNoMarkedProcess(ctx.adapterMarker, 30_000);
}

export async function topFrame(child: DapClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  const stack = await child.request('stackTrace', { threadId });
  expect(stack.success, stack.message).toBe(true);
  return stack.body.stackFrames[0]!;
}

export async function locals(child: DapClient, frameId: number): Promise<Record<string, string>> {
  const scopes = await child.request('scopes', { frameId });
  const local = scopes.body.scopes.find((scope) => scope.name === 'Locals')!;
  const vars = await child.request('variables', { variablesReference: local.variablesReference });
  return Object.fromEntries(vars.body.variables.map((v) => [v.name, v.value]));
}

export function commandLines(pids: readonly number[]): string[] {
  return pids.map((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  });
}
