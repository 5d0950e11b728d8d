// The adapter driven by @vscode/debugadapter-testsupport's DebugClient, the client most
// adapter test suites use. DebugClient itself validates nothing (it parses whatever JSON comes
// and matches responses by request_seq), which is why the exact-transcript tests exist too;
// here every message it dispatches is also passed through `validateDapMessage`, so that a
// schema violation fails these tests as well.
import type { ChildProcess } from 'node:child_process';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAdapterContext, EVENT_TIMEOUT_MS, type AdapterContext } from '../support/adapterHarness.js';
import { validateDapMessage } from '../support/dapSchema.js';
import { processesWithMarker, relayDapBin, waitUntil } from '../support/relayHarness.js';

interface Validated {
  dc: DebugClient;
  /** Every message the adapter sent, in order. */
  received: DebugProtocol.ProtocolMessage[];
  /** Schema problems found in them. */
  problems: string[];
  adapterProcess: () => ChildProcess;
}

/** A DebugClient that starts `node dist/relay-dap.cjs` and validates every message it dispatches. */
function validatingDebugClient(context: AdapterContext): Validated {
  const dc = new DebugClient(process.execPath, relayDapBin, 'relay', {
    cwd: context.workdir,
    env: context.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  dc.defaultTimeout = EVENT_TIMEOUT_MS;
  const received: DebugProtocol.ProtocolMessage[] = [];
  const problems: string[] = [];
  // `dispatch(body)` is ProtocolClient's private hook for each framed body; wrapping it is the
  // one place that sees every message, events and responses alike.
  const internals = dc as unknown as { dispatch(body: string): void; _adapterProcess: ChildProcess };
  const dispatch = internals.dispatch.bind(dc);
  internals.dispatch = (body: string) => {
    const message = JSON.parse(body) as DebugProtocol.ProtocolMessage;
    received.push(message);
    for (const problem of validateDapMessage(message))
      problems.push(`${JSON.stringify(message).slice(0, 300)}: ${problem}`);
    dispatch(body);
  };
  return { dc, received, problems, adapterProcess: () => internals._adapterProcess };
}

let ctx: AdapterContext;
let validated: Validated | undefined;

beforeEach(() => {
  ctx = createAdapterContext();
  validated = undefined;
});

afterEach(async () => {
  // stop() sends disconnect (which ends the session and its job) and then kills the adapter. It
  // waits for the disconnect response without a time limit, so only while the adapter is alive.
  const child = validated?.adapterProcess();
  if (validated && child && child.exitCode === null && child.signalCode === null) await validated.dc.stop();
  await ctx.cleanup();
});

async function startAndStopAtEntry(launchArgs: Record<string, unknown>): Promise<Validated> {
  validated = validatingDebugClient(ctx);
  const { dc } = validated;
  await dc.start();
  await Promise.all([
    dc.configurationSequence(),
    dc.launch(launchArgs),
    // The first step stands at line 4 of the synthesized listing.
    dc.assertStoppedLocation('entry', { line: 4, column: 1 }),
  ]);
  return validated;
}

describe('with @vscode/debugadapter-testsupport', () => {
  it('configurationSequence + launch stops at entry on the first step, with a served source', async () => {
    const { dc, problems } = await startAndStopAtEntry({
      steps: [
        { name: 'build', run: ctx.mark('echo building') },
        { name: 'test', run: ctx.mark('echo testing') },
      ],
    });
    const threads = await dc.threadsRequest();
    expect(threads.body.threads).toEqual([{ id: 1, name: 'job: steps' }]);
    const stack = await dc.stackTraceRequest({ threadId: 1 });
    const frame = stack.body.stackFrames[0]!;
    expect(frame.name).toBe('next: build');
    const source = await dc.sourceRequest({
      source: frame.source!,
      sourceReference: frame.source!.sourceReference!,
    });
    const lines = source.body.content.split('\n');
    expect(lines[frame.line - 1]).toBe('  - name: "build"');
    expect(problems).toEqual([]);
  });

  it('continue runs the job to `terminated`, with its output and exit code', async () => {
    const { dc, received, problems } = await startAndStopAtEntry({
      command: ctx.mark('echo from-the-job; exit 0'),
    });
    const output = dc.assertOutput('stdout', 'from-the-job\n', EVENT_TIMEOUT_MS);
    const exited = dc.waitForEvent('exited', EVENT_TIMEOUT_MS);
    const terminated = dc.waitForEvent('terminated', EVENT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    await output;
    expect((await exited).body).toEqual({ exitCode: 0 });
    await terminated;
    const events = received.filter((m) => m.type === 'event').map((m) => (m as DebugProtocol.Event).event);
    expect(events.slice(-2)).toEqual(['exited', 'terminated']);
    expect(problems).toEqual([]);
  });

  it('a failing step pauses with reason `exception` at its line; continue ends the job with its code', async () => {
    const { dc, problems } = await startAndStopAtEntry({
      steps: [
        { name: 'ok', run: ctx.mark('true') },
        { name: 'broken', run: ctx.mark('exit 7') },
        { name: 'never', run: ctx.mark('echo never') },
      ],
    });
    // The listing: `- name: "ok"` at line 4, its `run: |` and text, then `- name: "broken"` at line 7.
    const stoppedThere = dc.assertStoppedLocation('exception', { line: 7 });
    await dc.continueRequest({ threadId: 1 });
    const stack = await stoppedThere;
    expect(stack.body.stackFrames[0]!.name).toMatch(/^✗ broken: failed, exit 7/);
    const exited = dc.waitForEvent('exited', EVENT_TIMEOUT_MS);
    const terminated = dc.waitForEvent('terminated', EVENT_TIMEOUT_MS);
    await dc.continueRequest({ threadId: 1 });
    expect((await exited).body).toEqual({ exitCode: 7 });
    await terminated;
    expect(problems).toEqual([]);
  });

  it('evaluate: a `!` command in the REPL and a job path for hover; a non-path is refused', async () => {
    const { dc, problems } = await startAndStopAtEntry({
      env: { WHO: 'debugclient' },
      command: ctx.mark('true'),
    });
    const output = dc.assertOutput('stdout', 'hi debugclient\n', EVENT_TIMEOUT_MS);
    const shell = await dc.evaluateRequest({ expression: '!echo "hi $WHO"', context: 'repl' });
    await output;
    expect(shell.body.result).toBe('exit 0');
    const hover = await dc.evaluateRequest({ expression: 'env.WHO', context: 'hover' });
    expect(hover.body.result).toBe('debugclient');
    await expect(dc.evaluateRequest({ expression: 'echo hi', context: 'repl' })).rejects.toThrow('!echo hi');
    expect(problems).toEqual([]);
  });

  it('disconnect while a step runs ends the job and the adapter process, and cleans up', async () => {
    const { dc, problems, adapterProcess } = await startAndStopAtEntry({ command: ctx.mark('sleep 300') });
    const child = adapterProcess();
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await dc.continueRequest({ threadId: 1 });
    await waitUntil(() => processesWithMarker(ctx.marker).length > 0, 'the step to start', EVENT_TIMEOUT_MS);
    const exited = dc.waitForEvent('exited', EVENT_TIMEOUT_MS);
    await dc.disconnectRequest({ terminateDebuggee: true });
    expect((await exited).body).toEqual({ exitCode: 130 });
    expect(await exit).toBe(0);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
