/**
 * Helpers for the end-to-end tests of jobs from files (`program`: job files and GitHub Actions
 * workflows) driven through the adapter as a real process: where the fixtures are, how to find
 * a step's line in a file, waiting for stops and for the end, reading what the console said
 * about each step, and ending a session with every check the harness offers.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { expect } from 'vitest';
import {
  assertResponsesMatchRequests,
  EVENT_TIMEOUT_MS,
  outputByCategory,
  waitForExit,
  type AdapterContext,
  type RunJobOptions,
  type StdioAdapter,
} from './adapterHarness.js';
import type { DapClient } from './dapClient.js';
import { processesWithMarker, repoRoot, waitUntil } from './relayHarness.js';

export const workflowsDir = path.join(repoRoot, 'test', 'fixtures', 'workflows');
export const jobsDir = path.join(repoRoot, 'test', 'fixtures', 'jobs');

export function workflowFixture(name: string): string {
  return path.join(workflowsDir, name);
}

export function jobFixture(name: string): string {
  return path.join(jobsDir, name);
}

/**
 * The 1-based line of the first line of `file` that contains `text` (after line `after`, if
 * given). Tests locate steps by their text so that each assertion says which step it means.
 */
export function lineOf(file: string, text: string, after = 0): number {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const index = lines.findIndex((line, i) => i >= after && line.includes(text));
  if (index < 0) throw new Error(`no line of ${file} holds ${JSON.stringify(text)}`);
  return index + 1;
}

/** Writes `text` (a workflow or job file) under `dir`, creating directories; returns its path. */
export function writeFile(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

/**
 * Writes a one-job workflow (`on: push`, job `j` on ubuntu-latest) under `dir`: `jobLines` are
 * the job's own lines after `runs-on:` (a `timeout-minutes:`, then `    steps:` and the steps).
 */
export function writeOneJobWorkflow(dir: string, name: string, jobLines: readonly string[]): string {
  return writeFile(
    dir,
    name,
    ['on: push', 'jobs:', '  j:', '    runs-on: ubuntu-latest', ...jobLines, ''].join('\n'),
  );
}

/**
 * The workflow fixture `name` (its `program`) run past its entry pause to its end with
 * `exitCode`, and its step results (`results`, see stepResultsAtEnd).
 */
export async function workflowToEnd(
  ctx: AdapterContext,
  name: string,
  exitCode: number,
  options?: RunJobOptions,
  /** More launch arguments (an `env`, say), over the ones that run it past its entry pause. */
  launch: Record<string, unknown> = {},
) {
  const program = workflowFixture(name);
  const adapter = await ctx.runJob({ ...pastEntry(ctx, program), ...launch }, options);
  return {
    adapter,
    client: adapter.client,
    program,
    results: await stepResultsAtEnd(adapter.client, exitCode),
  };
}

/**
 * writeOneJobWorkflow in `ctx.workdir`, launched past the entry pause (`pastEntry`, with `launch`
 * added to its arguments; `options` as for ctx.runJob).
 */
export async function runOneJobWorkflow(
  ctx: AdapterContext,
  name: string,
  jobLines: readonly string[],
  { launch = {}, options }: { launch?: Record<string, unknown>; options?: RunJobOptions } = {},
): Promise<{ adapter: Awaited<ReturnType<AdapterContext['runJob']>>; client: DapClient; program: string }> {
  const program = writeOneJobWorkflow(ctx.workdir, name, jobLines);
  const adapter = await ctx.runJob({ ...pastEntry(ctx, program), ...launch }, options);
  return { adapter, client: adapter.client, program };
}

/**
 * Copies a fixture (a job file or workflow) into `ctx.workdir` under its own name and returns the
 * copy's path. With `markCommands`, every one-line `run:` is marked (`ctx.mark`), so that a
 * step's process that outlives its job is found at cleanup (step names and lines stay as in the
 * fixture; the `run:` texts change).
 */
export function copyToWorkdir(ctx: AdapterContext, fixture: string, { markCommands = false } = {}): string {
  let text = fs.readFileSync(fixture, 'utf8');
  if (markCommands)
    text = text.replace(
      /^(\s*(?:- )?run: )(?![|>])(.+)$/gm,
      (_line, key: string, command: string) => key + ctx.mark(command),
    );
  return writeFile(ctx.workdir, path.basename(fixture), text);
}

/** The `output` event whose text is exactly `text` (one line a step or command printed). */
export async function printed(client: DapClient, text: string): Promise<DebugProtocol.OutputEvent> {
  return client.waitForEvent('output', (e) => e.body.output === text, EVENT_TIMEOUT_MS);
}

export async function stoppedAt(client: DapClient, reason: string): Promise<DebugProtocol.StoppedEvent> {
  return client.waitForEvent('stopped', (e) => e.body.reason === reason, EVENT_TIMEOUT_MS);
}

/**
 * A launch's `steps`, one per entry of `commands` (step name → command), each command marked
 * (`ctx.mark`) so that a process it leaves behind is found at cleanup.
 */
export function markedSteps(
  ctx: AdapterContext,
  commands: Record<string, string>,
): Array<{ name: string; run: string }> {
  return Object.entries(commands).map(([name, command]) => ({ name, run: ctx.mark(command) }));
}

/** Launch arguments that run `program` from `ctx.workdir` without the pause on entry. */
export function pastEntry(ctx: AdapterContext, program: string): Record<string, unknown> {
  return { program, cwd: ctx.workdir, stopOnEntry: false };
}

/**
 * Copies the job fixture `name` (under test/fixtures/jobs) into the workdir with its commands
 * marked (`copyToWorkdir`) and launches the copy (`program`) past the entry pause (`pastEntry`).
 */
export async function runMarkedCopy(
  ctx: AdapterContext,
  name: string,
): Promise<{ adapter: Awaited<ReturnType<AdapterContext['runJob']>>; client: DapClient; program: string }> {
  const program = copyToWorkdir(ctx, jobFixture(name), { markCommands: true });
  const adapter = await ctx.runJob(pastEntry(ctx, program));
  return { adapter, client: adapter.client, program };
}

/**
 * Launches a job (`ctx.runJob(launchArgs, options)`) and waits for its first `stopped` event with
 * `reason`: the opening of most tests, in one call so that each test starts with what it checks.
 */
export async function runUntilStop(
  ctx: AdapterContext,
  reason: string,
  launchArgs: Record<string, unknown>,
  options?: RunJobOptions,
): Promise<{
  adapter: Awaited<ReturnType<AdapterContext['runJob']>>;
  client: DapClient;
  stop: DebugProtocol.StoppedEvent;
}> {
  const adapter = await ctx.runJob(launchArgs, options);
  const stop = await stoppedAt(adapter.client, reason);
  return { adapter, client: adapter.client, stop };
}

export async function frames(client: DapClient): Promise<DebugProtocol.StackFrame[]> {
  const response = await client.request('stackTrace', { threadId: 1 });
  expect(response.success, response.message).toBe(true);
  return response.body.stackFrames;
}

/**
 * The paused job's frames, which must be named `names` (see frameNames), top first, each shown
 * plainly (presentationHint `normal`: no frame a client would fold away).
 */
export async function expectFrames(client: DapClient, names: string[]): Promise<DebugProtocol.StackFrame[]> {
  const stack = await frames(client);
  expect(frameNames(stack)).toEqual(names);
  expect(stack.map((frame) => frame.presentationHint)).toEqual(names.map(() => 'normal'));
  return stack;
}

/** Frame names with durations (`0.03 s`) replaced by `T s`. */
export function frameNames(stack: readonly DebugProtocol.StackFrame[]): string[] {
  return stack.map((frame) => frame.name.replace(/\d+\.\d+ s\b/, 'T s'));
}

/** `next`, then the `stopped` event (reason `step`) before the following step. */
export async function nextStep(client: DapClient): Promise<void> {
  await client.request('next', { threadId: 1 });
  await stoppedAt(client, 'step');
}

/** A console command typed in the debug console (`!CMD`, a `repl` evaluate): its result text. */
export async function consoleResult(client: DapClient, expression: string): Promise<string> {
  return (await client.request('evaluate', { expression, context: 'repl' })).body.result;
}

export async function continueJob(client: DapClient): Promise<void> {
  const response = await client.request('continue', { threadId: 1 });
  expect(response.success, response.message).toBe(true);
}

/** `exited` with this code, then `terminated`. */
export async function runToEnd(client: DapClient, exitCode: number): Promise<void> {
  const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
  // On a mismatch, show what the job printed (console and stdout, in order): it says why.
  expect(exited.body.exitCode, `the job's exit code; its output:\n${client.output()}`).toBe(exitCode);
  await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
}

/** `continue`, then `stepResultsAtEnd`: the job runs on from a pause to its end with `exitCode`. */
export async function continueToEnd(client: DapClient, exitCode: number): Promise<string[]> {
  await continueJob(client);
  return stepResultsAtEnd(client, exitCode);
}

/** `runToEnd`, then the results of the steps that ran (`stepResults`), for the test to check. */
export async function stepResultsAtEnd(client: DapClient, exitCode: number): Promise<string[]> {
  await runToEnd(client, exitCode);
  return stepResults(client);
}

/**
 * The first `stopped` or `exited` event received after transcript position `from` (default: the
 * start), whichever comes first: for tests where a pause is expected but the job might end
 * instead, so that the test fails at once, saying which, rather than waiting out a timeout.
 * Does not consume events (later `waitForEvent` calls still see them).
 */
export async function nextStopOrEnd(
  client: DapClient,
  from = 0,
): Promise<DebugProtocol.StoppedEvent | DebugProtocol.ExitedEvent> {
  let found: DebugProtocol.StoppedEvent | DebugProtocol.ExitedEvent | undefined;
  await waitUntil(
    () => {
      found = client.transcript
        .slice(from)
        .filter(({ direction, message }) => direction === 'received' && message.type === 'event')
        .map(({ message }) => message as DebugProtocol.Event)
        .find((event) => event.event === 'stopped' || event.event === 'exited') as typeof found;
      return found !== undefined;
    },
    'a stopped or exited event',
    EVENT_TIMEOUT_MS,
  );
  return found!;
}

/** Reasons of every `stopped` event so far, in order. */
export function stopReasons(client: DapClient): string[] {
  return client.transcript
    .filter(({ direction, message }) => direction === 'received' && message.type === 'event')
    .map(({ message }) => message as DebugProtocol.Event)
    .filter((event) => event.event === 'stopped')
    .map((event) => (event as DebugProtocol.StoppedEvent).body.reason);
}

/**
 * The console's one-line result of every step that ended, in order, durations as `T s`:
 * `✓ Build: exit 0, T s`, `✗ Test: failed, exit 3, T s`, `– Deploy: skipped (if: … is false)`.
 */
export function stepResults(client: DapClient): string[] {
  return client
    .output('console')
    .split('\n')
    .filter((line) => /^[✓✗–] /.test(line))
    .map((line) => line.replace(/\b\d+\.\d+ s\b/g, 'T s'));
}

/** Console lines other than step headers and results (messages of relay-dap, log points). */
export function consoleLines(client: DapClient): string[] {
  return client
    .output('console')
    .split('\n')
    .filter((line) => line !== '' && !/^[✓✗–▶] /.test(line));
}

/**
 * Disconnect, then check what a finished session must leave behind: the adapter exited 0, no
 * embedded relay or job temp directory is left in the context's TMPDIR, no marked process
 * runs, every request was answered once, and the DAP stream was clean.
 */
export async function finish(ctx: AdapterContext, adapter: StdioAdapter): Promise<void> {
  const response = await adapter.client.request('disconnect', {});
  expect(response.success, response.message).toBe(true);
  expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  expect(ctx.embeddedRelayDirs()).toEqual([]);
  expect(processesWithMarker(ctx.marker)).toEqual([]);
  assertResponsesMatchRequests(adapter.client);
  adapter.client.assertClean();
}

/**
 * Checks what a job left in its client once it has ended (with `exitCode`, when given: waited
 * for here, see runToEnd): the results of its steps in order (`steps`, see stepResults), all it
 * printed on stdout (`stdout`), its console lines (`console`, see consoleLines) and the reasons
 * of its stops in order (`stops`), each if given; then `finish`.
 */
export async function finishWith(
  ctx: AdapterContext,
  adapter: StdioAdapter,
  expected: { exitCode?: number; steps?: string[]; stdout?: string; console?: string[]; stops?: string[] },
): Promise<void> {
  const { client } = adapter;
  if (expected.exitCode !== undefined) await runToEnd(client, expected.exitCode);
  if (expected.steps) expect(stepResults(client)).toEqual(expected.steps);
  if (expected.stdout !== undefined) expect(outputByCategory(client).stdout).toBe(expected.stdout);
  if (expected.console) expect(consoleLines(client)).toEqual(expected.console);
  if (expected.stops) expect(stopReasons(client)).toEqual(expected.stops);
  await finish(ctx, adapter);
}

/** `continue` from a pause (which must succeed), then `finishWith`. */
export async function continueToFinish(
  ctx: AdapterContext,
  adapter: StdioAdapter,
  expected: Parameters<typeof finishWith>[2],
): Promise<void> {
  await continueJob(adapter.client);
  await finishWith(ctx, adapter, expected);
}

/** Whether any of `names` can run here (on PATH, executable): the embedded relay runs the steps here. */
export function onPath(...names: string[]): boolean {
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  return dirs.some((dir) =>
    names.some((name) => {
      try {
        fs.accessSync(path.join(dir, name), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** Whether `python` or `python3` can run here (the workflow `shell: python` needs one). */
export function hasPython(): boolean {
  return onPath('python', 'python3');
}

/**
 * The session's own events in order, one line each: `thread started N`, `stopped REASON N`
 * (its thread), `exited CODE`, `terminated`. For runs of several jobs, where each is a thread.
 */
export function runEvents(client: DapClient): string[] {
  return client.transcript
    .filter(({ direction, message }) => direction === 'received' && message.type === 'event')
    .map(({ message }) => message as DebugProtocol.Event)
    .flatMap((event) => {
      const body = (event.body ?? {}) as Record<string, unknown>;
      switch (event.event) {
        case 'thread':
          return [`thread ${String(body.reason)} ${String(body.threadId)}`];
        case 'stopped':
          return [`stopped ${String(body.reason)} ${String(body.threadId)}`];
        case 'exited':
          return [`exited ${String(body.exitCode)}`];
        case 'terminated':
          return ['terminated'];
        default:
          return [];
      }
    });
}

/**
 * Waits until a step has printed `text` and at least two processes carry `ctx.marker` (give it
 * in the launch's `env`), then disconnects, and checks that the session ends as a cancelled job
 * leaving nothing: `exited 130` then `terminated`, the adapter exiting 0, no embedded relay or
 * job folder, no marked process, every request answered once, a clean DAP stream. Returns the
 * milliseconds from the disconnect to `terminated`.
 */
export async function disconnectWhileRunning(
  ctx: AdapterContext,
  adapter: StdioAdapter,
  text: string,
): Promise<number> {
  const { client } = adapter;
  const printed = (): string => client.output('stdout');
  await waitUntil(() => printed().includes(text), JSON.stringify(text), EVENT_TIMEOUT_MS);
  await waitUntil(
    () => processesWithMarker(ctx.marker).length >= 2,
    'the step’s processes',
    EVENT_TIMEOUT_MS,
  );
  const began = performance.now();
  const response = await client.request('disconnect', {});
  expect(response.success, response.message).toBe(true);
  await runToEnd(client, 130);
  const took = performance.now() - began;
  expect(runEvents(client).slice(-2)).toEqual(['exited 130', 'terminated']);
  expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  expect(ctx.embeddedRelayDirs()).toEqual([]);
  expect(processesWithMarker(ctx.marker)).toEqual([]);
  assertResponsesMatchRequests(client);
  client.assertClean();
  return took;
}
