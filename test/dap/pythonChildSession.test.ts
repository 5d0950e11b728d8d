/**
 * `!debug python script.py` in the debug console: a real Python program, run on the far side
 * under Debian's debugpy, debugged through a child session the client opens when asked by
 * `startDebugging` (as VS Code and nvim-dap do: a second adapter process, given the
 * configuration). Every message of both sessions, debugpy's included, is checked against
 * the DAP schema by the test client.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { processesWithMarker } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

/**
 * An interpreter that imports debugpy. CI installs python3-debugpy (.ci/run); a machine without
 * it fails here, naming the package, rather than skipping.
 */
function pythonWithDebugpy(): string {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import debugpy'], { stdio: 'ignore' }).status === 0) return python;
  }
  throw new Error('no python3 here imports debugpy: apt-get install python3-debugpy (see README)');
}

const SCRIPT = [
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
const LINE_TOTAL = 2;
const LINE_DOUBLED = 3;

interface ParentOptions {
  /** Whether the client answers `startDebugging` (default) or is given an address. */
  startDebugging?: boolean;
  /** A relay server of its own with these arguments (`--poll 50`), instead of the embedded one. */
  server?: string[];
}

/** The parent: a job paused at entry. */
async function pausedParent({ startDebugging = true, server }: ParentOptions = {}): Promise<{
  adapter: harness.StdioAdapter;
  client: DapClient;
  script: string;
}> {
  const script = session.writeFile(ctx.workdir, 'add.py', SCRIPT);
  const relay: Record<string, unknown> = {};
  if (server) {
    relay.relayDir = path.join(ctx.workdir, 'relay');
    await ctx.startRelayServer(relay.relayDir as string, { args: server });
  }
  const { adapter, client } = await session.runUntilStop(
    ctx,
    'entry',
    { command: ctx.mark('true'), cwd: ctx.workdir, ...relay },
    { caps: { supportsStartDebuggingRequest: startDebugging } },
  );
  return { adapter, client, script };
}

/**
 * Answers `startDebugging` as VS Code does: a new adapter process, initialize, then the
 * configuration's launch at once; breakpoints and configurationDone on `initialized`.
 */
async function openChild(
  parent: DapClient,
  breakpoints: { path: string; lines: number[] },
): Promise<{
  child: DapClient;
  childAdapter: harness.StdioAdapter;
  launched: Promise<DebugProtocol.Response>;
}> {
  const start = await parent.waitForReverseRequest('startDebugging', undefined, LIMIT);
  expect(start.arguments).toMatchObject({ request: 'launch', configuration: { type: 'relay' } });
  parent.respond(start, {});
  const childAdapter = ctx.spawnStdio();
  const child = childAdapter.client;
  const init = await child.request('initialize', harness.DEFAULT_CLIENT_CAPS);
  expect(init.success).toBe(true);
  const launched = child.request('launch', start.arguments.configuration, 60_000);
  // The adapter's own `initialized` (it answered initialize before knowing it was a child) …
  await child.waitForEvent('initialized', undefined, LIMIT);
  // … then debugpy's, once the launch reached it: configuration goes to debugpy.
  await child.waitForEvent('initialized', undefined, LIMIT);
  await setBreakpointsAndConfigure(child, breakpoints);
  return { child, childAdapter, launched };
}

async function setBreakpointsAndConfigure(
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

/** `!debug PYTHON add.py` typed in a paused parent, its child opened with a breakpoint in add(). */
async function debugAddPy(options: ParentOptions = {}) {
  const python = pythonWithDebugpy();
  const { adapter, client, script } = await pausedParent(options);
  const debugging = client.request(
    'evaluate',
    { expression: `!debug ${python} add.py`, context: 'repl' },
    120_000,
  );
  return {
    adapter,
    client,
    script,
    debugging,
    ...(await openChild(client, { path: script, lines: [LINE_TOTAL] })),
  };
}

/**
 * In the child, stopped at the breakpoint in add(): frames, locals, next, evaluate, continue
 * to the program's end (exit 7), disconnect; then the parent's `!debug` answers `exit 7`.
 */
async function debugToTheEnd(
  child: DapClient,
  script: string,
  debugging: Promise<DebugProtocol.Response>,
): Promise<void> {
  const hit = await child.waitForEvent('stopped', undefined, LIMIT);
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
  expect(child.output('stdout')).toContain('result 84\n');
  await child.request('disconnect', {});
  // As VS Code and nvim-dap do once a session is over: the child's adapter is let go.
  child.end();

  const answer = await debugging;
  expect(answer.success, answer.message).toBe(true);
  expect((answer.body as DebugProtocol.EvaluateResponse['body']).result).toBe('exit 7');
}

async function topFrame(child: DapClient, threadId: number): Promise<DebugProtocol.StackFrame> {
  const stack = await child.request('stackTrace', { threadId });
  expect(stack.success, stack.message).toBe(true);
  return stack.body.stackFrames[0]!;
}

async function locals(child: DapClient, frameId: number): Promise<Record<string, string>> {
  const scopes = await child.request('scopes', { frameId });
  const local = scopes.body.scopes.find((scope) => scope.name === 'Locals')!;
  const vars = await child.request('variables', { variablesReference: local.variablesReference });
  return Object.fromEntries(vars.body.variables.map((v) => [v.name, v.value]));
}

function commandLines(pids: readonly number[]): string[] {
  return pids.map((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      return '';
    }
  });
}

describe('!debug python: a Python program debugged in a child session', { timeout: 240_000 }, () => {
  it('stops at a breakpoint in the script, shows its locals, steps, evaluates, and the parent answers the exit code', async () => {
    const { adapter, client, script, debugging, child, launched } = await debugAddPy();
    expect((await launched).success).toBe(true);

    await debugToTheEnd(child, script, debugging);
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
    client.end();
    await harness.waitForExit(adapter);
  });

  it('the same through a relay server of its own that polls (as on a network filesystem)', async () => {
    const { client, script, debugging, child, launched } = await debugAddPy({ server: ['--poll', '50'] });
    expect((await launched).success).toBe(true);
    await debugToTheEnd(child, script, debugging);
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
  });

  it('a client without startDebugging is given a loopback address to attach to, and debugs through it', async () => {
    const python = pythonWithDebugpy();
    const { client, script } = await pausedParent({ startDebugging: false });
    const debugging = client.request(
      'evaluate',
      { expression: `!debug ${python} add.py`, context: 'repl' },
      120_000,
    );
    const attachTo = /attach a Python debugger to 127\.0\.0\.1:(\d+) /;
    const said = await client.waitForEvent('output', (event) => attachTo.test(event.body.output), LIMIT);
    const port = Number(attachTo.exec(said.body.output)![1]);
    // As a Python "attach" with "connect" does: DAP straight to the address, debugpy's all the way.
    const child = await DapClient.connectTcp(port, '127.0.0.1');
    try {
      expect((await child.request('initialize', harness.DEFAULT_CLIENT_CAPS)).success).toBe(true);
      const attached = child.request('attach', { connect: { host: '127.0.0.1', port } }, 60_000);
      await child.waitForEvent('initialized', undefined, LIMIT);
      await setBreakpointsAndConfigure(child, { path: script, lines: [LINE_TOTAL] });
      const answer = await attached;
      expect({ success: answer.success, command: answer.command }).toEqual({
        success: true,
        command: 'attach',
      });
      await debugToTheEnd(child, script, debugging);
    } finally {
      child.assertClean();
    }
  });

  it('a parent ended while its child is stopped at a breakpoint leaves no Python or debugpy process behind', async () => {
    const { adapter, client, debugging, child, childAdapter } = await debugAddPy();
    await child.waitForEvent('stopped', undefined, LIMIT);
    // Far-side processes carry the adapter's marker (the embedded relay server runs them).
    expect(
      commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) => line.includes('add.py')),
    ).not.toEqual([]);

    await client.request('disconnect', { terminateDebuggee: true });
    const answer = await debugging;
    expect(answer.success).toBe(false);
    expect(answer.message).toBe('cancelled');
    client.end();
    await harness.waitForExit(adapter);
    // The child's connection ends with its parent's channel, and its adapter with it.
    await harness.waitForExit(childAdapter);
    await harness.assertNoMarkedProcess(ctx.adapterMarker, 30_000);
  });

  it('debugpy missing on the far side: the console says so and how to install it, and nothing hangs', async () => {
    const python = pythonWithDebugpy();
    const { client } = await pausedParent();
    // The same interpreter without its site directories, where Debian's debugpy lives.
    const bin = path.join(ctx.workdir, 'bare');
    fs.mkdirSync(bin);
    const bare = path.join(bin, 'python3');
    fs.writeFileSync(bare, `#!/bin/sh\nexec ${python} -S "$@"\n`, { mode: 0o755 });
    const answer = await client.request(
      'evaluate',
      { expression: '!debug bare/python3 add.py', context: 'repl' },
      60_000,
    );
    expect(answer.success).toBe(false);
    expect(answer.message).toMatch(
      /^!debug: debugpy is not installed for bare\/python3 \(.*\) on the relay server's side: install it there with `.* -m pip install debugpy` or `apt-get install python3-debugpy`, then try again$/,
    );
    // The session goes on: a plain command still runs.
    const after = await client.request('evaluate', { expression: '!true', context: 'repl' });
    expect(after.body.result).toBe('exit 0');
  });
});
