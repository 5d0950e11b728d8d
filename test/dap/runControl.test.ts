// Run control of jobs from files, end to end through the adapter (a real process over stdio) and
// its embedded relay (real bash): the pause right after a failed step (exception filter `failed`)
// with exceptionInfo; the `cancelled` filter (a step's timeout, a cancelled step); both filters
// off; restartFrame after fixing something from the console with `!CMD`; gotoTargets/goto
// skipping steps; and the stepping requests relay-dap refuses, with what to use instead.
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import { errorId, EVENT_TIMEOUT_MS, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { ERR } from '../support/errorIds.js';
import { processesWithMarker } from '../support/relayHarness.js';

const ctx = useAdapterContext();

/** A job file in the workdir from `name` and step lines. */
function jobFile(file: string, lines: string[]): string {
  return session.writeFile(ctx.workdir, file, [...lines, ''].join('\n'));
}

async function exceptionInfo(client: DapClient) {
  const response = await client.request('exceptionInfo', { threadId: 1 });
  expect(response.success, response.message).toBe(true);
  return response.body;
}

async function restartTopFrame(client: DapClient): Promise<void> {
  const [top] = await session.frames(client);
  const response = await client.request('restartFrame', { frameId: top!.id });
  expect(response.success, response.message).toBe(true);
}

/** Runs `command` (a `!CMD`) in the debug console; it must exit 0. */
async function fixFromConsole(client: DapClient, command: string): Promise<void> {
  const fix = await client.request('evaluate', { expression: command, context: 'repl' });
  expect(fix.body.result).toBe('exit 0');
}

describe('run control', () => {
  it('a failed step pauses right after it (filter `failed`, on by default): it is on top with its result, and exceptionInfo has its exit code and the last lines of its output', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/compile.yml'));
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    // Before any failure there is nothing to describe.
    const early = await client.request('exceptionInfo', { threadId: 1 });
    expect(early.success).toBe(false);
    expect(errorId(early)).toBe(ERR.WrongState);

    await session.continueJob(client);
    const stop = await session.stoppedAt(client, 'exception');
    expect(stop.body).toMatchObject({
      description: 'Compile failed with exit code 2',
      threadId: 1,
      allThreadsStopped: true,
    });
    const stack = await session.frames(client);
    expect(session.frameNames(stack)).toEqual(['✗ Compile: failed, exit 2, T s', '✓ Prepare: exit 0, T s']);
    expect(stack[0]!.line).toBe(session.lineOf(program, '- name: Compile'));
    expect(stack[0]!.presentationHint).toBe('normal');

    const info = await exceptionInfo(client);
    expect(info).toMatchObject({
      exceptionId: 'exit 2',
      description: 'Compile failed with exit code 2',
      breakMode: 'always',
      details: { typeName: 'failed step' },
    });
    expect(info.details!.message).toContain('Restart Frame');
    const tail = info.details!.stackTrace!.split('\n').filter((line) => line !== '');
    // The last lines (stdout and stderr, as the relay merged them), not the whole log.
    expect(tail.slice(-3)).toEqual(['log line 29', 'log line 30', 'error: missing symbol']);
    expect(tail.length).toBeLessThanOrEqual(20);
    expect(tail).not.toContain('log line 1');
    expect(tail).toContain('log line 15');

    // Continue from the pause: a plain job ends with the failed step's code; nothing after it runs.
    expect(await session.continueToEnd(client, 2)).toEqual([
      '✓ Prepare: exit 0, T s',
      '✗ Compile: failed, exit 2, T s',
    ]);
    expect(fs.existsSync(path.join(ctx.workdir, 'after-ran'))).toBe(false);
    expect(session.stopReasons(client)).toEqual(['entry', 'exception']);
    await session.finish(ctx, adapter);
  });

  it('filter `cancelled` alone: a step whose timeout runs out pauses after it, and exceptionInfo says it timed out', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/slow.yml'), {
      markCommands: true,
    });
    const adapter = await ctx.runJob(
      { program, cwd: ctx.workdir, stopOnEntry: false },
      { filters: ['cancelled'] },
    );
    const { client } = adapter;
    // The filter's own description: "Pause after a step is cancelled (its timeout ran out, …)".
    const stop = await session.nextStopOrEnd(client);
    expect(stop.event).toBe('stopped');
    expect(stop.body).toMatchObject({ reason: 'exception' });
    expect((stop as DebugProtocol.StoppedEvent).body.description).toContain('Slow');
    // The relay cancelled the step's process before the pause.
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    const info = await exceptionInfo(client);
    expect(info.exceptionId).toBe('timed out');
    expect(info.description).toBe('Slow timed out');
    expect(info.details!.stackTrace).toContain('started');
    await session.continueJob(client);
    await session.runToEnd(client, 124);
    expect(fs.existsSync(path.join(ctx.workdir, 'never-ran'))).toBe(false);
    await session.finish(ctx, adapter);
  });

  it('filter `cancelled`: a step cancelled from its progress pauses after it (exceptionInfo: cancelled); with `failed` alone it does not', async () => {
    for (const [filters, pauses] of [
      [['cancelled'], true],
      [['failed'], false],
    ] as const) {
      const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/cancellable.yml'), {
        markCommands: true,
      });
      const adapter = await ctx.spawnInitialized({
        adapterID: 'relay',
        pathFormat: 'path',
        supportsProgressReporting: true,
      });
      const { client } = adapter;
      const launching = client.request('launch', { program, cwd: ctx.workdir, stopOnEntry: false });
      await client.request('setExceptionBreakpoints', { filters: [...filters] });
      await client.request('configurationDone');
      expect((await launching).success).toBe(true);

      const progress = await client.waitForEvent('progressStart', undefined, EVENT_TIMEOUT_MS);
      await session.printed(client, 'long started\n');
      const cancel = await client.request('cancel', { progressId: progress.body.progressId });
      expect(cancel.success).toBe(true);
      if (pauses) {
        await session.stoppedAt(client, 'exception');
        const info = await exceptionInfo(client);
        expect(info).toMatchObject({
          exceptionId: 'cancelled',
          description: 'Long was cancelled',
          details: { typeName: 'cancelled step' },
        });
        await session.continueJob(client);
      }
      await session.runToEnd(client, 130);
      expect(session.stopReasons(client), JSON.stringify(filters)).toEqual(pauses ? ['exception'] : []);
      expect(session.stepResults(client)).toEqual(['✗ Long: cancelled, exit 130, T s']);
      expect(fs.existsSync(path.join(ctx.workdir, 'never-ran'))).toBe(false);
      await session.finish(ctx, adapter);
    }
  });

  it('both filters off: a failing step and a timed-out one end the job with their codes, no pause', async () => {
    for (const [run, extra, code] of [
      ['echo failing; exit 6', [], 6],
      ['echo hanging; sleep 300', ['    timeout: 1'], 124],
    ] as const) {
      const program = jobFile('unpaused.yml', [
        'steps:',
        '  - name: Ends badly',
        `    run: ${ctx.mark(run)}`,
        ...extra,
        '  - name: Never',
        '    run: touch never-ran',
      ]);
      const adapter = await ctx.runJob(session.pastEntry(ctx, program), { filters: [] });
      const { client } = adapter;
      await session.runToEnd(client, code);
      expect(session.stopReasons(client)).toEqual([]);
      expect(fs.existsSync(path.join(ctx.workdir, 'never-ran'))).toBe(false);
      await session.finish(ctx, adapter);
    }
  });

  it('restartFrame on a failed step after fixing its cause from the console (`!CMD`): it runs again, and once it succeeds the job no longer fails', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/config.yml'));
    const { adapter, client } = await session.runUntilStop(ctx, 'exception', session.pastEntry(ctx, program));
    expect((await exceptionInfo(client)).exceptionId).toBe('exit 4');

    // Fix it from the debug console: the command runs through the relay in the job's directory.
    await fixFromConsole(client, '!echo MODE=fixed > config.env');
    expect(fs.readFileSync(path.join(ctx.workdir, 'config.env'), 'utf8')).toBe('MODE=fixed\n');

    await restartTopFrame(client);
    const stop = await session.stoppedAt(client, 'restart');
    expect(stop.body.description).toBe('Ready to run Check config again');
    const [top] = await session.frames(client);
    expect(top).toMatchObject({
      name: 'next: Check config',
      line: session.lineOf(program, '- name: Check config'),
    });
    await session.continueToFinish(ctx, adapter, {
      exitCode: 0,
      steps: [
        '✗ Check config: failed, exit 4, T s',
        '✓ Check config: exit 0, T s',
        '✓ Use config: exit 0, T s',
      ],
      stdout: 'config.env is missing\nconfig found: MODE=fixed\nused\n',
      stops: ['exception', 'restart'],
    });
  });

  it('restartFrame on a failed workflow step: once it succeeds, later steps see success() again (the old failure no longer counts)', async () => {
    const program = session.copyToWorkdir(ctx, session.workflowFixture('runControl/flow.yml'));
    const { adapter, client } = await session.runUntilStop(ctx, 'exception', session.pastEntry(ctx, program));
    await fixFromConsole(client, "!printf 'left-pad 1.3.0\\n' > deps.lock");
    await restartTopFrame(client);
    await session.stoppedAt(client, 'restart');
    expect(await session.continueToEnd(client, 0)).toEqual([
      '✗ Needs the lock file: failed, exit 1, T s',
      '✓ Needs the lock file: exit 0, T s',
      '✓ Build: exit 0, T s',
      '– Report a failure: skipped (if: failure() is false)',
    ]);
    const stdout = outputByCategory(client).stdout ?? '';
    expect(stdout).toMatch(/^deps\.lock missing\nbuilding with success lock \d+\n$/);
    await session.finish(ctx, adapter);
  });

  it('restartFrame and goto are refused while a step runs', async () => {
    const { adapter, client, program } = await session.runMarkedCopy(ctx, 'runControl/running.yml');
    await session.printed(client, 'waiting\n');
    const [top] = await session.frames(client);
    expect(top!.name).toBe('running: Waits');
    const restart = await client.request('restartFrame', { frameId: top!.id });
    expect(restart.success).toBe(false);
    expect(errorId(restart)).toBe(ERR.WrongState);
    expect(restart.message).toContain('paused');
    const targets = await client.request('gotoTargets', {
      source: { path: program },
      line: session.lineOf(program, '- name: Then'),
    });
    const goto = await client.request('goto', { threadId: 1, targetId: targets.body.targets[0]!.id });
    expect(goto.success).toBe(false);
    expect(errorId(goto)).toBe(ERR.WrongState);
    fs.writeFileSync(path.join(ctx.workdir, 'go'), '');
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'waiting\nthen\n' });
  });

  it('gotoTargets/goto jump to a later step, skipping the ones between: their side effects never happen', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/deploy.yml'));
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    await session.nextStep(client);
    expect((await session.frames(client))[0]!.name).toBe('next: Slow tests');

    // A line inside a step (its run line) targets that step, at its first line.
    const deploy = session.lineOf(program, '- name: Deploy');
    const targets = await client.request('gotoTargets', {
      source: { name: 'deploy.yml', path: program },
      line: session.lineOf(program, 'run: echo deployed'),
    });
    expect(targets.success).toBe(true);
    expect(targets.body.targets).toEqual([
      { id: expect.any(Number) as number, label: 'Deploy', line: deploy },
    ]);
    // A line outside every step has no target.
    const none = await client.request('gotoTargets', { source: { path: program }, line: 1 });
    expect(none.body.targets).toEqual([]);
    // A target that gotoTargets never gave is refused.
    const bogus = await client.request('goto', { threadId: 1, targetId: 99 });
    expect(bogus.success).toBe(false);
    expect(errorId(bogus)).toBe(ERR.WrongState);

    const goto = await client.request('goto', { threadId: 1, targetId: targets.body.targets[0]!.id });
    expect(goto.success).toBe(true);
    const stop = await session.stoppedAt(client, 'goto');
    expect(stop.body.description).toBe('Moved to Deploy');
    const [top] = await session.frames(client);
    expect(top).toMatchObject({ name: 'next: Deploy', line: deploy });
    expect(await session.continueToEnd(client, 0)).toEqual(['✓ Build: exit 0, T s', '✓ Deploy: exit 0, T s']);
    expect(outputByCategory(client).stdout).toBe('built\ndeployed\n');
    expect(fs.existsSync(path.join(ctx.workdir, 'slow-tests-ran'))).toBe(false);
    expect(session.stopReasons(client)).toEqual(['entry', 'step', 'goto']);
    await session.finish(ctx, adapter);
  });

  it('Step Into and Step Out on steps of the job itself (no action to enter or leave) run one step, as Next does', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/deploy.yml'));
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    for (const [command, next] of [
      ['stepIn', 'next: Slow tests'],
      ['stepOut', 'next: Deploy'],
    ] as const) {
      const from = client.transcript.length;
      const response = await client.request(command, { threadId: 1 });
      expect(response.success, response.message).toBe(true);
      expect(await session.nextStopOrEnd(client, from)).toMatchObject({
        event: 'stopped',
        body: { reason: 'step' },
      });
      expect(session.frameNames(await session.frames(client))[0]).toBe(next);
    }
    expect(await session.continueToEnd(client, 0)).toEqual([
      '✓ Build: exit 0, T s',
      '✓ Slow tests: exit 0, T s',
      '✓ Deploy: exit 0, T s',
    ]);
    await session.finish(ctx, adapter);
  });

  it('stepBack and reverseContinue are refused with a message that says to use Next or Restart Frame; the job goes on', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('runControl/simple.yml'));
    const adapter = await ctx.runJob({ program, cwd: ctx.workdir });
    const { client, initialize } = adapter;
    expect(initialize.body?.supportsStepBack).toBe(false);
    await session.stoppedAt(client, 'entry');
    for (const [command, what] of [
      ['stepBack', 'Step Back'],
      ['reverseContinue', 'Reverse Continue'],
    ] as const) {
      const response = await client.request(command, { threadId: 1 });
      expect(response.success, command).toBe(false);
      expect(errorId(response), command).toBe(ERR.Unsupported);
      expect(response.message, command).toContain(`${what} is not available`);
      expect(response.message, command).toContain('Next');
      expect(response.message, command).toContain('Restart Frame');
    }
    // Still paused where it was.
    expect(session.frameNames(await session.frames(client))).toEqual(['next: Only']);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'only\n' });
  });
});
