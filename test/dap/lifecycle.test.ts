// How a session ends, and the edge cases around it, with the adapter as a real process over
// stdio and real relayed commands: EOF without disconnect; terminate while paused, while a step
// runs and while a `!CMD` runs; signals; the job timeout; requests before launch; a relay
// directory with no server; a step that ignores SIGTERM; unknown requests and failing handlers;
// pause while a step runs.
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import { encodeDapFrame, type DapClient } from '../support/dapClient.js';
import { ERR } from '../support/errorIds.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();

async function markedProcessRuns(marker = ctx.marker): Promise<void> {
  await waitUntil(
    () => processesWithMarker(marker).length > 0,
    `a process marked ${marker}`,
    harness.EVENT_TIMEOUT_MS,
  );
}

/** A session whose only step runs `text` (already started when this resolves). */
async function startRunningStep(
  text: string,
  extra: Record<string, unknown> = {},
): Promise<harness.StdioAdapter> {
  const adapter = await ctx.runJob({ command: ctx.mark(text), stopOnEntry: false, ...extra });
  await adapter.client.waitForEvent(
    'output',
    (e) => e.body.output.startsWith('▶ step 1/1'),
    harness.EVENT_TIMEOUT_MS,
  );
  await markedProcessRuns();
  return adapter;
}

/** A session whose only step runs `text` (marked), paused at its entry stop. */
async function pausedAtEntry(text: string): Promise<harness.StdioAdapter> {
  const adapter = await ctx.runJob({ command: ctx.mark(text) });
  await adapter.client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
  return adapter;
}

/** `exited` with this code, then `terminated`, as the last two events. */
async function expectEnd(client: DapClient, exitCode: number): Promise<void> {
  const exited = await client.waitForEvent('exited', undefined, harness.EVENT_TIMEOUT_MS);
  expect(exited.body.exitCode).toBe(exitCode);
  await client.waitForEvent('terminated', undefined, harness.EVENT_TIMEOUT_MS);
  const events = harness.stableSummary(client).filter((line) => line.startsWith('← event '));
  expect(events.filter((line) => /exited|terminated/.test(line))).toEqual([
    `← event exited (exitCode ${exitCode})`,
    '← event terminated',
  ]);
}

/** After the adapter has exited: its embedded relay directory and every marked process are gone. */
function expectCleanedUp(): void {
  expect(ctx.embeddedRelayDirs()).toEqual([]);
  expect(processesWithMarker(ctx.marker)).toEqual([]);
  expect(processesWithMarker(ctx.adapterMarker)).toEqual([]);
}

async function disconnectAndExit(adapter: harness.StdioAdapter): Promise<void> {
  const response = await adapter.client.request('disconnect', {});
  expect(response.success).toBe(true);
  expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
  expectCleanedUp();
}

/** `disconnectAndExit`, then every request was answered once and the DAP stream was clean. */
async function endsCleanly(adapter: harness.StdioAdapter): Promise<void> {
  await disconnectAndExit(adapter);
  harness.assertResponsesMatchRequests(adapter.client);
  adapter.client.assertClean();
}

describe('session lifecycle', () => {
  it.each([
    ['paused at entry', true],
    ['while a step runs', false],
  ])(
    'EOF without disconnect %s ends the job: exited 130, terminated, exit 0, cleaned up',
    async (_when, paused) => {
      const adapter = await ctx.runJob({
        command: ctx.mark('touch ran; echo started; sleep 300'),
        stopOnEntry: paused,
      });
      const { client } = adapter;
      if (paused) await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
      else
        await client.waitForEvent('output', (e) => e.body.output === 'started\n', harness.EVENT_TIMEOUT_MS);
      client.end();
      await expectEnd(client, 130);
      expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
      expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(!paused);
      expectCleanedUp();
      client.assertClean();
    },
  );

  it('the adapter SIGKILLed mid-step: its embedded relay’s watchdog stops the step’s processes and removes the relay’s directory', async () => {
    const adapter = await ctx.runJob({ command: ctx.mark('echo started; sleep 300'), stopOnEntry: false });
    const { client } = adapter;
    ctx.expectViolations(client, 'the adapter is killed mid-session: no exited or terminated');
    await client.waitForEvent('output', (e) => e.body.output === 'started\n', harness.EVENT_TIMEOUT_MS);
    expect(ctx.embeddedRelayDirs()).toHaveLength(1);
    adapter.child.kill('SIGKILL');
    expect(await harness.waitForExit(adapter)).toEqual({ code: null, signal: 'SIGKILL' });
    await waitUntil(
      () => processesWithMarker(ctx.marker).length === 0,
      'the orphaned step’s processes to be stopped',
      15_000,
    );
    await waitUntil(
      () => ctx.embeddedRelayDirs().length === 0,
      'the relay’s directory to be removed',
      15_000,
    );
  });

  it('EOF without disconnect before any launch: the adapter exits at once, sending nothing more', async () => {
    const adapter = ctx.spawnStdio();
    const init = await adapter.client.request('initialize', { adapterID: 'relay' });
    expect(init.success).toBe(true);
    adapter.client.end();
    expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(harness.stableSummary(adapter.client)).toEqual([
      '→ request 1 initialize',
      '← response 1 initialize ok',
    ]);
    expectCleanedUp();
    adapter.client.assertClean();
  });

  it('terminate while paused at entry releases the pause: exited 130, terminated, nothing ran', async () => {
    const adapter = await ctx.runJob({ command: ctx.mark('touch ran') });
    const { client } = adapter;
    await client.waitForEvent('stopped', (e) => e.body.reason === 'entry', harness.EVENT_TIMEOUT_MS);
    const response = await client.request('terminate', {});
    expect(response.success).toBe(true);
    await expectEnd(client, 130);
    expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
    await disconnectAndExit(adapter);
    client.assertClean();
  });

  it('terminate while a step runs cancels it through the relay: exited 130, terminated, no process left', async () => {
    const adapter = await startRunningStep('echo started; sleep 300');
    const { client } = adapter;
    const response = await client.request('terminate', {});
    expect(response.success).toBe(true);
    await expectEnd(client, 130);
    // The job ended because its command ended: the step's processes are gone already.
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(harness.outputByCategory(client).console).toMatch(/✗ command: cancelled, exit 130/);
    await endsCleanly(adapter);
  });

  it('terminate while a `!CMD` runs: its last output, then the evaluate answered as cancelled, then exited 130, terminated, with none of its processes left', async () => {
    const adapter = await pausedAtEntry('true');
    const { client } = adapter;
    // What it prints when cancelled (SIGTERM) is its last output, which the user must still see.
    const evaluating = client.request('evaluate', {
      expression: `!${ctx.mark("trap 'echo console-ending; exit 7' TERM; echo console-started; sleep 300 & wait")}`,
      context: 'repl',
    });
    await client.waitForEvent(
      'output',
      (e) => e.body.output === 'console-started\n',
      harness.EVENT_TIMEOUT_MS,
    );
    await markedProcessRuns();
    const response = await client.request('terminate', {});
    expect(response.success).toBe(true);
    const exited = await client.waitForEvent('exited', undefined, harness.EVENT_TIMEOUT_MS);
    expect(exited.body.exitCode).toBe(130);
    // When the session says the job has exited, nothing of the console command runs any more.
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    await client.waitForEvent('terminated', undefined, harness.EVENT_TIMEOUT_MS);
    const evaluate = await evaluating;
    expect(evaluate.success).toBe(false);
    expect(evaluate.message).toBe('cancelled');
    // In this order (output may come in any chunks): its last words, its answer, the end.
    const seen = harness.stableSummary(client);
    const first = (pattern: RegExp): number => seen.findIndex((line) => pattern.test(line));
    const order = [
      first(/← event output \[stdout\] .*console-ending/),
      first(/← response \d+ evaluate failed "cancelled"/),
      first(/← event exited \(exitCode 130\)/),
      first(/← event terminated/),
    ];
    expect(
      order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)),
      seen.join('\n'),
    ).toBe(true);
    await endsCleanly(adapter);
  });

  it('requests after terminate are answered "the session has ended", never with the relay client\'s internals', async () => {
    const adapter = await pausedAtEntry('true');
    const { client } = adapter;
    expect((await client.request('terminate', {})).success).toBe(true);
    await expectEnd(client, 130);
    const late = [
      await client.request('evaluate', {
        expression: `!${ctx.mark('touch ran-after-end')}`,
        context: 'repl',
      }),
      await client.request('evaluate', { expression: 'env', context: 'watch' }),
      await client.request('next', { threadId: 1 }),
      await client.request('stackTrace', { threadId: 1 }),
    ];
    for (const response of late) {
      expect(response.success, response.command).toBe(false);
      expect(harness.errorId(response), response.command).toBe(ERR.SessionEnded);
      expect(response.message).toBe(
        'the session has ended (terminate request): start a new debug session to run the job again',
      );
    }
    expect(adapter.stderr()).not.toMatch(/RelayClient|closed|at .*\.js:\d+/);
    expect(fs.existsSync(path.join(ctx.workdir, 'ran-after-end'))).toBe(false);
    await endsCleanly(adapter);
  });

  it('a step that ignores SIGTERM: terminate still ends with exited 130 and no process left', async () => {
    // The embedded relay's grace period is 5 s: SIGTERM, then SIGKILL.
    const adapter = await startRunningStep("trap '' TERM; echo trapped; sleep 300");
    const { client } = adapter;
    await client.waitForEvent('output', (e) => e.body.output === 'trapped\n', harness.EVENT_TIMEOUT_MS);
    const response = await client.request('terminate', {});
    expect(response.success).toBe(true);
    await expectEnd(client, 130);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    await disconnectAndExit(adapter);
    client.assertClean();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the stdio adapter while a step runs: exited 130, terminated, exit 0, cleaned up',
    async (signal) => {
      const adapter = await startRunningStep('sleep 300');
      adapter.child.kill(signal);
      await expectEnd(adapter.client, 130);
      expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
      expectCleanedUp();
      adapter.client.assertClean();
    },
  );

  it('SIGTERM to the stdio adapter while paused releases the pause: exited 130, terminated, exit 0', async () => {
    const adapter = await ctx.runJob({ command: ctx.mark('touch ran') });
    await adapter.client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    adapter.child.kill('SIGTERM');
    await expectEnd(adapter.client, 130);
    expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
    expectCleanedUp();
    adapter.client.assertClean();
  });

  it('the job timeout cancels a running step: exited 130, terminated, with a console note', async () => {
    const adapter = await startRunningStep('sleep 300', { timeout: 1 });
    await expectEnd(adapter.client, 130);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(harness.outputByCategory(adapter.client).console).toContain('the job timed out after 1 s');
    await disconnectAndExit(adapter);
    adapter.client.assertClean();
  });

  it('the job timeout releases a pause: exited 130, terminated, the step never ran', async () => {
    const adapter = await ctx.runJob({ command: ctx.mark('touch ran'), timeout: 1 });
    await adapter.client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    await expectEnd(adapter.client, 130);
    expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
    await disconnectAndExit(adapter);
    adapter.client.assertClean();
  });

  it('requests before launch: threads is empty, job requests fail with NoJob, and the session goes on', async () => {
    const adapter = await ctx.spawnInitialized({ adapterID: 'relay' });
    const { client } = adapter;

    const threads = await client.request('threads');
    expect(threads.success).toBe(true);
    expect(threads.body.threads).toEqual([]);
    for (const [command, args] of [
      ['stackTrace', { threadId: 1 }],
      ['scopes', { frameId: 1 }],
      ['variables', { variablesReference: 1 }],
      ['continue', { threadId: 1 }],
      ['next', { threadId: 1 }],
      ['evaluate', { expression: 'exitCode', context: 'watch' }],
      ['evaluate', { expression: '!echo too early', context: 'repl' }],
    ] as const) {
      const response = await client.request(command, args);
      expect(response.success, `${command} before launch`).toBe(false);
      expect(harness.errorId(response), `${command} before launch`).toBe(ERR.NoJob);
      expect(response.message).toMatch(/launch/);
    }
    // The session is not harmed: a job launches and runs to its end.
    const launching = client.request('launch', { command: ctx.mark('echo late'), stopOnEntry: false });
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await expectEnd(client, 0);
    expect(harness.outputByCategory(client).stdout).toBe('late\n');
    expect(harness.outputByCategory(client).stdout).not.toContain('too early');
    await endsCleanly(adapter);
  });

  it('a relayDir with no server fails launch within connectTimeout, naming the directory and `relay-dap serve`', async () => {
    const relayDir = path.join(ctx.workdir, 'nobody-serves-here');
    const adapter = await ctx.spawnInitialized();
    const { client } = adapter;
    const launching = client.request('launch', {
      command: ctx.mark('echo never'),
      relayDir,
      connectTimeout: 1,
    });
    // The launch waits for configurationDone, so its wait for a server begins after this point.
    const began = performance.now();
    await client.request('configurationDone');
    const launch = await launching;
    const elapsed = performance.now() - began;
    expect(launch.success).toBe(false);
    expect(harness.errorId(launch)).toBe(ERR.RelayUnavailable);
    expect(launch.message).toContain(relayDir);
    expect(launch.message).toContain(`relay-dap serve --relay-dir ${relayDir}`);
    // Only a server creates a relay directory (issue 9, item 13): a mistyped path leaves no litter.
    expect(fs.existsSync(relayDir)).toBe(false);
    // connectTimeout is 1 s: the launch waited that long, and says so. (No upper bound: on a
    // loaded machine a wait can run long; a launch that never gives up fails by the test timeout.)
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(launch.message).toContain('after waiting 1 s');
    expect(harness.stableSummary(client).some((line) => /event (stopped|exited)/.test(line))).toBe(false);
    await disconnectAndExit(adapter);
    client.assertClean();
  });

  it('an unknown request gets an error response and the session goes on', async () => {
    const adapter = await pausedAtEntry('echo still-works');
    const { client } = adapter;
    const unknown = await client.request('frobnicate', { please: true });
    expect(unknown.success).toBe(false);
    expect(unknown.command).toBe('frobnicate');
    expect(harness.errorId(unknown)).toBe(ERR.Unsupported);
    expect(unknown.message).toContain('frobnicate');
    const stepBack = await client.request('stepBack', { threadId: 1 });
    expect(stepBack.success).toBe(false);
    expect(harness.errorId(stepBack)).toBe(ERR.Unsupported);
    expect(stepBack.message).toMatch(/Next/);
    await client.request('continue', { threadId: 1 });
    await expectEnd(client, 0);
    expect(harness.outputByCategory(client).stdout).toBe('still-works\n');
    await endsCleanly(adapter);
  });

  it('failing handlers are answered with one error response each, and the session goes on', async () => {
    const adapter = await pausedAtEntry('echo after-failures');
    const { client } = adapter;

    const scopes = await client.request('scopes', { frameId: 9999 });
    expect(scopes.success).toBe(false);
    expect(harness.errorId(scopes)).toBe(ERR.UnknownReference);
    expect(scopes.message).toContain('9999');
    const variables = await client.request('variables', { variablesReference: 424242 });
    expect(variables.success).toBe(false);
    expect(harness.errorId(variables)).toBe(ERR.UnknownReference);
    const next = await client.request('next', { threadId: 1 });
    expect(next.success).toBe(true);
    await client.waitForEvent('terminated', undefined, harness.EVENT_TIMEOUT_MS);
    // `next` when nothing is paused any more.
    const again = await client.request('next', { threadId: 1 });
    expect(again.success).toBe(false);
    expect(harness.errorId(again)).toBe(ERR.WrongState);

    // A request the schema would refuse (no arguments at all): the handler throws, and the
    // failure still becomes exactly one error response.
    const seq = client.allocateSeq();
    client.sendRaw(encodeDapFrame({ seq, type: 'request', command: 'scopes' }));
    const raw = await client.waitForResponse(seq, harness.EVENT_TIMEOUT_MS);
    expect(raw.success).toBe(false);
    expect(raw.command).toBe('scopes');
    expect(typeof harness.errorId(raw)).toBe('number');

    const threads = await client.request('threads');
    expect(threads.success).toBe(true);
    await disconnectAndExit(adapter);
    // One response per request, the raw one included.
    const responses = client.transcript.filter(
      (e) => e.direction === 'received' && e.message.type === 'response',
    );
    expect(responses).toHaveLength(client.transcript.filter((e) => e.direction === 'sent').length + 1);
    client.assertClean();
  });

  it('pause while a step runs stops at the next step boundary with reason `pause`', async () => {
    const adapter = await ctx.runJob({
      stopOnEntry: false,
      steps: [
        { name: 'waits', run: ctx.mark('echo waiting; while [ ! -e go ]; do sleep 0.05; done; echo went') },
        { name: 'after', run: ctx.mark('echo after') },
      ],
    });
    const { client } = adapter;
    await client.waitForEvent('output', (e) => e.body.output === 'waiting\n', harness.EVENT_TIMEOUT_MS);
    const pause = await client.request('pause', { threadId: 1 });
    expect(pause.success).toBe(true);
    await client.waitForEvent(
      'output',
      (e) => e.body.output.startsWith('relay-dap: the job pauses before its next step'),
      harness.EVENT_TIMEOUT_MS,
    );
    fs.writeFileSync(path.join(ctx.workdir, 'go'), '');
    const stopped = await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    expect(stopped.body).toMatchObject({ reason: 'pause', threadId: 1, allThreadsStopped: true });
    expect(harness.outputByCategory(client).stdout).toBe('waiting\nwent\n');
    const stack = await client.request('stackTrace', { threadId: 1 });
    expect(stack.body.stackFrames.map((f) => f.name.replace(/\d+\.\d+ s/, 'T s'))).toEqual([
      'next: after',
      '✓ waits: exit 0, T s',
    ]);
    await client.request('continue', { threadId: 1 });
    await expectEnd(client, 0);
    expect(harness.outputByCategory(client).stdout).toBe('waiting\nwent\nafter\n');
    await disconnectAndExit(adapter);
    client.assertClean();
  });

  it('an evaluate still in flight when disconnect arrives is answered (as cancelled) before the adapter exits', async () => {
    const adapter = await pausedAtEntry('true');
    const { client } = adapter;
    void client
      .request('evaluate', { expression: `!${ctx.mark('sleep 300')}`, context: 'repl' })
      .catch(() => undefined);
    const seq = harness.lastRequestSeq(client);
    await markedProcessRuns();
    await disconnectAndExit(adapter);
    expect(harness.isAnswered(client, seq), 'the evaluate was never answered').toBe(true);
    const evaluate = client.transcript
      .map((entry) => entry.message)
      .find(
        (m) => m.type === 'response' && (m as DebugProtocol.Response).request_seq === seq,
      ) as DebugProtocol.Response;
    expect(evaluate.success).toBe(false);
    expect(evaluate.message).toBe('cancelled');
    harness.assertResponsesMatchRequests(client);
    client.assertClean();
  });

  it('disconnect while paused releases the pause: its response, then exited 130 and terminated; nothing ran', async () => {
    const adapter = await pausedAtEntry('touch ran');
    const { client } = adapter;
    await disconnectAndExit(adapter);
    expect(harness.stableSummary(client).slice(-5)).toEqual(harness.DISCONNECTED_WHILE_PAUSED);
    expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
    client.assertClean();
  });

  it.each([
    ['without arguments (terminateDebuggee defaults to true)', {}],
    [
      'with terminateDebuggee false (the embedded relay cannot outlive the session)',
      { terminateDebuggee: false },
    ],
  ])('disconnect %s while a step runs cancels the job', async (_title, args) => {
    const adapter = await startRunningStep('sleep 300');
    const { client } = adapter;
    const response = await client.request('disconnect', args);
    expect(response.success).toBe(true);
    await expectEnd(client, 130);
    expect(await harness.waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expectCleanedUp();
    if ('terminateDebuggee' in args)
      expect(harness.outputByCategory(client).console).toContain('the embedded relay ends with the session');
    client.assertClean();
  });
});
