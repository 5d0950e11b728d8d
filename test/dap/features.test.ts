// What a user sees of a job in the debugger, over stdio with real relayed commands: the
// handshake, frames and their source, scopes and variables, setVariable, the REPL and
// watch/hover evaluation, cancelling console commands, ANSI handling, progress, output groups,
// launch argument errors, and a job run by a real `relay-dap serve`.
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import { ERR } from '../support/errorIds.js';
import * as session from '../support/jobSession.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();

async function scopeRefs(client: DapClient, frameId: number): Promise<Record<string, number>> {
  const response = await client.request('scopes', { frameId });
  expect(response.success).toBe(true);
  return Object.fromEntries(response.body.scopes.map((s) => [s.name, s.variablesReference]));
}

async function variables(client: DapClient, reference: number): Promise<Record<string, string>> {
  const response = await client.request('variables', { variablesReference: reference });
  expect(response.success).toBe(true);
  return Object.fromEntries(response.body.variables.map((v) => [v.name, v.value]));
}

function waitingStep(name = 'waits'): { name: string; run: string } {
  return { name, run: ctx.mark('echo waiting; while [ ! -e go ]; do sleep 0.05; done') };
}

function releaseWaitingStep(): void {
  fs.writeFileSync(path.join(ctx.workdir, 'go'), '');
}

describe('adapter features', () => {
  it('handshake: capabilities in the initialize response; `initialized` once launch has read the job; launch waits for configurationDone', async () => {
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    const init = await client.request('initialize', { adapterID: 'relay', pathFormat: 'path' });
    expect(init.success).toBe(true);
    expect(init.body).toMatchObject({
      supportsConfigurationDoneRequest: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
      supportsCancelRequest: true,
      supportsSetVariable: true,
      supportsEvaluateForHovers: true,
      supportsANSIStyling: true,
    });
    // Requests are handled in order: once `threads` is answered, anything initialize was to send
    // has been sent. No `initialized` before launch: a launch may make this a `!debug` child
    // session, where debugpy sends it (a client configures on each one it gets).
    expect((await client.request('threads')).body.threads).toEqual([]);
    expect(harness.stableSummary(client)).toEqual([
      '→ request 1 initialize',
      '← response 1 initialize ok',
      '→ request 2 threads',
      '← response 2 threads ok',
    ]);

    const launching = client.request('launch', { command: ctx.mark('echo hi') });
    const launchSeq = harness.lastRequestSeq(client);
    await client.waitForEvent('initialized');
    // An observation window, not a wait for a condition: the launch must stay unanswered
    // and no relay may start before configurationDone, however long that takes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(harness.isAnswered(client, launchSeq)).toBe(false);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    expect(harness.stableSummary(client).filter((l) => l.includes('event stopped'))).toEqual([]);

    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await session.stoppedAt(client, 'entry');
    expect(harness.stableSummary(client).slice(4)).toEqual([
      '→ request 3 launch',
      '← event initialized',
      '→ request 4 configurationDone',
      '← response 4 configurationDone ok',
      '← response 3 launch ok',
      '← event stopped (entry)',
    ]);
    await session.finish(ctx, adapter);
  });

  it('a missing pathFormat is accepted; linesStartAt1: false gets 0-based lines', async () => {
    const adapter = await ctx.spawnInitialized({ adapterID: 'relay', linesStartAt1: false });
    const { client } = adapter;
    const launching = client.request('launch', { command: ctx.mark('echo no-path-format') });
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await session.stoppedAt(client, 'entry');
    expect((await session.frames(client)).map((f) => f.line)).toEqual([3]);
    await session.continueToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'no-path-format\n' });
  });

  it('one thread; frames: the step about to run (or running) on top, finished steps beneath with results, each with a served source line', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      steps: [
        { name: 'first', run: ctx.mark('true') },
        { name: 'second', run: ctx.mark('exit 5'), continueOnError: true },
        waitingStep('third'),
      ],
    });
    expect((await client.request('threads')).body.threads).toEqual([{ id: 1, name: 'job: steps' }]);
    const entry = await session.frames(client);
    expect(session.frameNames(entry)).toEqual(['next: first']);

    await session.nextStep(client);
    await session.nextStep(client);
    const paused = await session.expectFrames(client, [
      'next: third',
      '✗ second: failed (continue-on-error), exit 5, T s',
      '✓ first: exit 0, T s',
    ]);

    // Every frame has a source, and `source` serves it; each frame's line is its step's first line.
    const source = paused[0]!.source!;
    expect(source).toMatchObject({ name: 'steps.relay-job.yml', sourceReference: 1 });
    for (const frame of paused) expect(frame.source).toEqual(source);
    const listing = await client.request('source', { source, sourceReference: source.sourceReference! });
    expect(listing.body.mimeType).toBe('text/yaml');
    const lines = listing.body.content.split('\n');
    expect(paused.map((f) => lines[f.line - 1])).toEqual([
      '  - name: "third"',
      '  - name: "second"',
      '  - name: "first"',
    ]);
    const missing = await client.request('source', { sourceReference: 77 });
    expect(missing.success).toBe(false);

    // While a step runs it is on top, marked running.
    await client.request('continue', { threadId: 1 });
    await session.printed(client, 'waiting\n');
    expect(session.frameNames(await session.frames(client))[0]).toBe('running: third');
    releaseWaitingStep();
    await session.runToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('stopOnEntry false runs on to a failing step, which pauses (exception filter `failed`); the job then ends with its code', async () => {
    const adapter = await ctx.runJob({
      stopOnEntry: false,
      steps: session.markedSteps(ctx, {
        ok: 'echo ok',
        breaks: 'echo broken >&2; exit 4',
        never: 'echo never',
      }),
    });
    const { client } = adapter;
    const stopped = await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    expect(stopped.body).toMatchObject({
      reason: 'exception',
      description: 'breaks failed with exit code 4',
    });
    const info = await client.request('exceptionInfo', { threadId: 1 });
    expect(info.body).toMatchObject({ exceptionId: 'exit 4', breakMode: 'always' });
    await session.continueToEnd(client, 4);
    expect(harness.outputByCategory(client).stdout).toBe('ok\nbroken\n');
    expect(harness.stableSummary(client).filter((l) => l.includes('event stopped'))).toEqual([
      '← event stopped (exception)',
    ]);
    await session.finish(ctx, adapter);
  });

  it('with no exception filters, a failing step ends the job at once with its exit code', async () => {
    const adapter = await ctx.spawnInitialized();
    const { client } = adapter;
    const launching = client.request('launch', {
      stopOnEntry: false,
      steps: session.markedSteps(ctx, { ok: 'echo ok', breaks: 'exit 4', never: 'echo never' }),
    });
    expect((await client.request('setExceptionBreakpoints', { filters: [] })).success).toBe(true);
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await session.runToEnd(client, 4);
    expect(harness.outputByCategory(client).stdout).toBe('ok\n');
    expect(harness.stableSummary(client).filter((l) => l.includes('event stopped'))).toEqual([]);
    await session.finish(ctx, adapter);
  });

  it('scopes Step, Job and Environment, with their variables', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      env: { ZETA: 'last', ALPHA: 'first' },
      steps: [
        { name: 'one', run: ctx.mark('echo one') },
        { name: 'two', run: ctx.mark('echo two'), env: { STEP_ONLY: 'yes' } },
      ],
    });
    await session.nextStep(client);
    const [top, finished] = await session.frames(client);
    const refs = await scopeRefs(client, top!.id);
    expect(Object.keys(refs)).toEqual(['Step', 'Job', 'Environment']);

    const step = await variables(client, refs.Step!);
    expect(step).toMatchObject({
      name: 'two',
      index: '1',
      status: 'next',
      outcome: 'null',
      exitCode: 'null',
    });
    expect(step.command).toContain('echo two');
    const job = await variables(client, refs.Job!);
    expect(job).toMatchObject({ name: 'steps', origin: 'steps', state: 'paused', finished: '1' });
    const env = await client.request('variables', { variablesReference: refs.Environment! });
    expect(env.body.variables).toEqual([
      { name: 'ALPHA', value: 'first', variablesReference: 0, evaluateName: 'env.ALPHA' },
      { name: 'ZETA', value: 'last', variablesReference: 0, evaluateName: 'env.ZETA' },
    ]);

    const finishedStep = await variables(client, (await scopeRefs(client, finished!.id)).Step!);
    expect(finishedStep).toMatchObject({ name: 'one', status: 'success', outcome: 'success', exitCode: '0' });
    expect(finishedStep.lastOutput).toBe('one\n');

    await session.continueToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('setVariable on an Environment entry changes what later steps and `!` commands get; other scopes refuse', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      env: { GREETING: 'hello' },
      steps: [{ name: 'greets', run: ctx.mark('echo "step:$GREETING"') }],
    });
    const [top] = await session.frames(client);
    const refs = await scopeRefs(client, top!.id);
    const set = await client.request('setVariable', {
      variablesReference: refs.Environment!,
      name: 'GREETING',
      value: '"changed value"',
    });
    expect(set.success).toBe(true);
    expect(set.body.value).toBe('changed value');
    expect(await variables(client, refs.Environment!)).toEqual({ GREETING: 'changed value' });

    const refused = await client.request('setVariable', {
      variablesReference: refs.Step!,
      name: 'name',
      value: 'x',
    });
    expect(refused.success).toBe(false);
    expect(harness.errorId(refused)).toBe(ERR.WrongState);

    expect(await session.consoleResult(client, '!echo "cmd:$GREETING"')).toBe('exit 0');
    await session.continueToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'cmd:changed value\nstep:changed value\n' });
  });

  it('`!CMD` runs in the job’s cwd and env; its output streams before a one-line result and is never repeated', async () => {
    const sub = path.join(ctx.workdir, 'sub dir');
    fs.mkdirSync(sub);
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      cwd: sub,
      env: { WHO: 'job-env' },
      command: ctx.mark('true'),
    });

    const ok = await client.request('evaluate', {
      expression: '!printf \'%s who=%s\\n\' "$(pwd)" "$WHO"',
      context: 'repl',
    });
    expect(ok.success).toBe(true);
    expect(ok.body).toEqual({ result: 'exit 0', variablesReference: 0 });
    const failing = await client.request('evaluate', {
      expression: '  !echo failing; exit 3',
      context: 'repl',
    });
    expect(failing.success).toBe(true);
    expect(failing.body.result).toBe('exit 3');
    const empty = await client.request('evaluate', { expression: '!', context: 'repl' });
    expect(empty.success).toBe(false);
    expect(harness.errorId(empty)).toBe(ERR.Evaluate);

    // Each command's output arrives as stdout events before its response, exactly once (each
    // command writes one line, so each is one event: bash writes its stdout a line at a time,
    // and two lines may be read apart).
    const summary = harness.stableSummary(client);
    expect(summary.slice(summary.indexOf('→ request 4 evaluate'))).toEqual([
      '→ request 4 evaluate',
      `← event output [stdout] ${JSON.stringify(`${sub} who=job-env\n`)}`,
      '← response 4 evaluate ok',
      '→ request 5 evaluate',
      '← event output [stdout] "failing\\n"',
      '← response 5 evaluate ok',
      '→ request 6 evaluate',
      '← response 6 evaluate failed "type a shell command after !, e.g. !ls -la"',
    ]);
    expect(harness.outputByCategory(client).stdout).toBe(`${sub} who=job-env\nfailing\n`);
    await session.continueToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('watch, hover and REPL evaluate job paths; anything else is an error that suggests `!`', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      env: { GREETING: 'hi' },
      steps: [
        { name: 'fails', run: ctx.mark('exit 3'), continueOnError: true },
        { name: 'second', run: ctx.mark('true') },
      ],
    });
    await session.nextStep(client);
    const finishedFrame = (await session.frames(client))[1]!;

    const evaluate = async (expression: string, context: string, frameId?: number) =>
      client.request('evaluate', { expression, context, ...(frameId !== undefined ? { frameId } : {}) });
    const expectations: Array<[string, string, string]> = [
      ['exitCode', 'watch', '3'],
      ['exitCode', 'hover', '3'],
      ['exitCode', 'repl', '3'],
      ['steps[0].exitCode', 'watch', '3'],
      ['steps[0].outcome', 'hover', 'failure'],
      ['steps.fails.exitCode', 'watch', '3'],
      ['env.GREETING', 'hover', 'hi'],
      ['env.GREETING', 'repl', 'hi'],
      ['job.state', 'watch', 'paused'],
    ];
    for (const [expression, context, result] of expectations) {
      const response = await evaluate(expression, context);
      expect(response.success, `${expression} (${context})`).toBe(true);
      expect(response.body.result, `${expression} (${context})`).toBe(result);
    }
    expect((await evaluate('exitCode', 'hover', finishedFrame.id)).body.result).toBe('3');

    for (const [expression, context] of [
      ['ls -la', 'repl'],
      ['nope', 'hover'],
      ['env.MISSING', 'watch'],
    ] as const) {
      const response = await evaluate(expression, context);
      expect(response.success, `${expression} (${context})`).toBe(false);
      expect(harness.errorId(response), `${expression} (${context})`).toBe(ERR.Evaluate);
      expect(response.message, `${expression} (${context})`).toContain('type !');
    }
    // A shell command from hover or watch (dap-mode's M-x dap-eval sends `hover`) is not run,
    // and the answer says where it would run, not "type !!echo".
    for (const context of ['hover', 'watch']) {
      const response = await evaluate('!echo not-run', context);
      expect(response.success, context).toBe(false);
      expect(harness.errorId(response), context).toBe(ERR.Evaluate);
      expect(response.message, context).toBe(
        `!echo not-run: shell commands run only from the debug console (this came as "${context}"): type it there (in Emacs: M-x dap-ui-repl)`,
      );
    }
    const suggestion = await evaluate('ls -la', 'repl');
    expect(suggestion.message).toContain('type !ls -la');
    await session.continueToEnd(client, 0);
    expect(harness.outputByCategory(client).stdout ?? '').not.toContain('not-run');
    await session.finish(ctx, adapter);
  });

  it('cancel of an in-flight `!sleep` cancels it through the relay: the evaluate fails with `cancelled`, the cancel has its own response', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      command: ctx.mark('echo job-step'),
    });
    const evaluating = client.request('evaluate', {
      expression: `!${ctx.mark('echo sleeping; sleep 300')}`,
      context: 'repl',
    });
    const evaluateSeq = harness.lastRequestSeq(client);
    await session.printed(client, 'sleeping\n');
    // The marker is in the environment of the command's processes (bash gets its text on a
    // descriptor, so its command line holds none): `sleep` carries it once it has started.
    await waitUntil(() => processesWithMarker(ctx.marker).length > 0, 'the `sleep` of the !CMD has started');

    const cancel = await client.request('cancel', { requestId: evaluateSeq });
    expect(cancel.success).toBe(true);
    const evaluate = await evaluating;
    expect(evaluate.success).toBe(false);
    expect(evaluate.message).toBe('cancelled');
    expect(harness.errorId(evaluate)).toBe(ERR.Cancelled);
    // The relay reports the command ended only once it is killed.
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    const cancelSeq = harness.lastRequestSeq(client);
    expect(harness.stableSummary(client).filter((l) => l.startsWith('← response'))).toEqual(
      expect.arrayContaining([
        `← response ${cancelSeq} cancel ok`,
        `← response ${evaluateSeq} evaluate failed "cancelled"`,
      ]),
    );

    // The session goes on: the job runs, and so do further console commands.
    expect(await session.consoleResult(client, '!echo after-cancel')).toBe('exit 0');
    await session.continueToEnd(client, 0);
    // `[cancelled]` is the relay's own last log line of a cancelled command (Part A).
    await session.finishWith(ctx, adapter, { stdout: 'sleeping\n[cancelled]\nafter-cancel\njob-step\n' });
  });

  it('cancel of a `!CMD` queued behind a running step withdraws it: it never runs', async () => {
    const adapter = await ctx.runJob({ stopOnEntry: false, steps: [waitingStep()] });
    const { client } = adapter;
    await session.printed(client, 'waiting\n');
    const { evaluating, evaluateSeq } = await harness.evaluateQueued(
      client,
      `!${ctx.mark('touch queued-ran')}`,
    );
    const cancel = await client.request('cancel', { requestId: evaluateSeq });
    expect(cancel.success).toBe(true);
    const evaluate = await evaluating;
    expect(evaluate.success).toBe(false);
    expect(evaluate.message).toBe('cancelled');

    // The relay runs commands in order: once this one has run, a queued one would have too.
    const later = client.request('evaluate', { expression: '!echo later', context: 'repl' });
    releaseWaitingStep();
    expect((await later).body.result).toBe('exit 0');
    await session.runToEnd(client, 0);
    expect(fs.existsSync(path.join(ctx.workdir, 'queued-ran'))).toBe(false);
    // The relay is released when the job ends (before `exited`): the console says so.
    const after = await client.request('evaluate', { expression: '!echo after', context: 'repl' });
    expect(after.success).toBe(false);
    expect(after.message).toContain('the job has ended and its relay is closed');
    await session.finish(ctx, adapter);
  });

  it.each([
    ['without supportsANSIStyling, escapes are stripped', false, 'red plain\n'],
    ['with supportsANSIStyling, escapes are kept', true, '\u001b[31mred\u001b[0m plain\n'],
  ])('ANSI: %s', async (_title, ansi, expected) => {
    const adapter = await ctx.runJob(
      { command: ctx.mark("printf '\\033[31mred\\033[0m plain\\n'"), stopOnEntry: false },
      { caps: ansi ? { supportsANSIStyling: true } : {} },
    );
    const { client } = adapter;
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: expected });
  });

  it('progressStart/progressEnd around each running step with supportsProgressReporting, none without', async () => {
    for (const progress of [true, false]) {
      const adapter = await ctx.runJob(
        {
          stopOnEntry: false,
          steps: session.markedSteps(ctx, { first: 'echo a', second: 'echo b' }),
        },
        { caps: progress ? { supportsProgressReporting: true } : {} },
      );
      const { client } = adapter;
      await session.runToEnd(client, 0);
      const events = client.transcript
        .filter((e) => e.direction === 'received' && e.message.type === 'event')
        .map((e) => e.message as DebugProtocol.Event)
        .filter((e) => e.event === 'progressStart' || e.event === 'progressEnd' || e.event === 'output');
      const progressEvents = events.filter((e) => e.event !== 'output');
      if (!progress) {
        expect(progressEvents).toEqual([]);
      } else {
        expect(progressEvents.map((e) => e.event)).toEqual([
          'progressStart',
          'progressEnd',
          'progressStart',
          'progressEnd',
        ]);
        const [start1, end1, start2, end2] = progressEvents as [
          DebugProtocol.ProgressStartEvent,
          DebugProtocol.ProgressEndEvent,
          DebugProtocol.ProgressStartEvent,
          DebugProtocol.ProgressEndEvent,
        ];
        expect(start1.body).toMatchObject({ title: 'step 1/2: first', cancellable: true });
        expect(start2.body).toMatchObject({ title: 'step 2/2: second', cancellable: true });
        expect(end1.body.progressId).toBe(start1.body.progressId);
        expect(end2.body.progressId).toBe(start2.body.progressId);
        expect(start1.body.progressId).not.toBe(start2.body.progressId);
        expect(end1.body.message).toMatch(/^exit 0, /);
        // Each step's output falls between its progressStart and progressEnd.
        const firstOutput = events.findIndex(
          (e) => e.event === 'output' && (e as DebugProtocol.OutputEvent).body.output === 'a\n',
        );
        expect(firstOutput).toBeGreaterThan(events.indexOf(start1));
        expect(firstOutput).toBeLessThan(events.indexOf(end1));
      }
      await session.finish(ctx, adapter);
    }
  });

  it('cancelling a step’s progress cancels the step: progressEnd says cancelled, its process is gone, the job ends 130', async () => {
    const adapter = await ctx.runJob(
      { command: ctx.mark('echo started; sleep 300'), stopOnEntry: false },
      { caps: { supportsProgressReporting: true } },
    );
    const { client } = adapter;
    const start = await client.waitForEvent('progressStart', undefined, harness.EVENT_TIMEOUT_MS);
    await session.printed(client, 'started\n');
    const cancel = await client.request('cancel', { progressId: start.body.progressId });
    expect(cancel.success).toBe(true);
    const end = await client.waitForEvent('progressEnd', undefined, harness.EVENT_TIMEOUT_MS);
    expect(end.body.progressId).toBe(start.body.progressId);
    expect(end.body.message).toMatch(/^cancelled, exit 130/);
    await session.runToEnd(client, 130);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(harness.outputByCategory(client).console).toMatch(/✗ command: cancelled, exit 130/);
    await session.finish(ctx, adapter);
  });

  it('each step’s output streams at the console’s top level: a header line with the step, its stdout, its result line; no output groups', async () => {
    const adapter = await ctx.runJob({
      steps: [
        { name: 'first', run: ctx.mark('echo a1; echo a2') },
        { name: 'second', run: ctx.mark("printf 'b1\\nb2\\n'; exit 2"), continueOnError: true },
      ],
    });
    const { client } = adapter;
    await session.stoppedAt(client, 'entry');
    await client.request('evaluate', { expression: '!echo from-the-console', context: 'repl' });
    await session.continueToEnd(client, 0);
    const events = harness.outputEvents(client);
    // VS Code draws an open group's later lines only when the console is shown again (issue 12, item 2).
    expect(events.filter((event) => event.body.group !== undefined)).toEqual([]);
    const steps = events
      .filter((event) => event.body.category === 'stdout' || /^(▶|✓|✗)/.test(event.body.output))
      .map((event) => event.body.output.replace(/\d+\.\d+ s/, 'T s'))
      .join('');
    expect(steps).toBe(
      [
        'from-the-console',
        '▶ step 1/2: first',
        'a1',
        'a2',
        '✓ first: exit 0, T s',
        '▶ step 2/2: second',
        'b1',
        'b2',
        '✗ second: failed (continue-on-error), exit 2, T s',
        '',
      ].join('\n'),
    );
    await session.finish(ctx, adapter);
  });

  it('launch argument errors name the field; the session goes on', async () => {
    const adapter = await ctx.spawnInitialized();
    const { client } = adapter;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ steps: [{ name: 'no run' }] }, '`steps[0].run` is missing'],
      [{ steps: [{ run: 'true' }, { run: 42 }] }, '`steps[1].run` must be string'],
      [{ steps: [{ run: 'true', bogus: 1 }] }, '`steps[0]` has an unknown key `bogus`'],
      [{ steps: [] }, '`steps`'],
      [{ command: 'true', env: { '1BAD': 'x' } }, '`env.1BAD` is not a valid environment variable name'],
      [{ command: 'true', timeout: 0 }, '`timeout`'],
      [{ command: 'true', stopOnEntry: 'yes' }, '`stopOnEntry` must be boolean'],
      [{ command: 'true', steps: [{ run: 'true' }] }, 'give only one of `command`, `steps` and `program`'],
      [{}, 'one of `command`'],
    ];
    for (const [args, expected] of cases) {
      const response = await client.request('launch', args);
      expect(response.success, JSON.stringify(args)).toBe(false);
      expect(harness.errorId(response), JSON.stringify(args)).toBe(ERR.InvalidArguments);
      expect(response.message, JSON.stringify(args)).toContain(expected);
    }
    const launching = client.request('launch', { command: ctx.mark('echo valid'), stopOnEntry: false });
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'valid\n' });
  });

  it('with a real `relay-dap serve` in relayDir, the job runs there and the relay directory stays', async () => {
    const served = path.join(ctx.workdir, 'served');
    fs.mkdirSync(served);
    const relayDir = path.join(ctx.workdir, 'relay');
    const server = await ctx.startRelayServer(relayDir, { workdir: served });
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      relayDir,
      command: ctx.mark('echo "ran in $(pwd)"'),
    });
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    const [top] = await session.frames(client);
    const job = await variables(client, (await scopeRefs(client, top!.id)).Job!);
    expect(job.relayDir).toBe(relayDir);
    const shell = await client.request('evaluate', {
      expression: '!echo "console in $(pwd)"',
      context: 'repl',
    });
    expect(shell.body.result).toBe('exit 0');
    await session.continueToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: `console in ${served}\nran in ${served}\n` });
    expect(fs.existsSync(path.join(relayDir, 'server.ready'))).toBe(true);
    expect(server.child.exitCode).toBe(null);
  });
});
