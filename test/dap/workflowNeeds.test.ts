// Jobs that `need` other jobs, and whole workflows, run end to end through the adapter (a real
// process over stdio) and its embedded relay (real bash). Each job is a DAP thread named after
// the job, with its own frames; the jobs run one after another, in the order of their needs;
// a finished job's `outputs:` and `result` reach the jobs that need it as `needs.<job>`, as
// GitHub's orchestrator hands them on ("Passing information between jobs", "Using jobs in a
// workflow": a job whose needs did not all succeed is skipped unless its `if:` says otherwise).
import type { DebugProtocol } from '@vscode/debugprotocol';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TIMEOUT_MS, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { repoRoot } from '../support/relayHarness.js';

const ctx = useAdapterContext();

async function threadNames(client: DapClient): Promise<string[]> {
  const response = await client.request('threads');
  expect(response.success, response.message).toBe(true);
  return response.body.threads.map((thread) => `${thread.id} ${thread.name}`);
}

async function framesOf(client: DapClient, threadId: number): Promise<DebugProtocol.StackFrame[]> {
  const response = await client.request('stackTrace', { threadId });
  expect(response.success, response.message).toBe(true);
  return response.body.stackFrames;
}

async function stoppedOn(client: DapClient, threadId: number): Promise<DebugProtocol.StoppedEvent> {
  return client.waitForEvent('stopped', (event) => event.body.threadId === threadId, EVENT_TIMEOUT_MS);
}

/** `continue` from the last pause: the run ends with exit 0, having printed `lines` on stdout. */
async function continueToEndPrinting(client: DapClient, lines: string[]): Promise<void> {
  await session.continueJob(client);
  await session.runToEnd(client, 0);
  expect(outputByCategory(client).stdout).toBe([...lines, ''].join('\n'));
}

/** The run's threads are the jobs `jobs` of `workflow`, numbered from 1 in order. */
async function expectJobThreads(client: DapClient, workflow: string, jobs: string[]): Promise<void> {
  expect(await threadNames(client)).toEqual(jobs.map((job, k) => `${k + 1} job: ${workflow} / ${job}`));
}

/** The run's console lines for `jobs` of `workflow`, all of the run, each started and succeeded in order. */
function succeededInOrder(workflow: string, jobs: string[]): string[] {
  return jobs.flatMap((job, k) => {
    const label = `relay-dap: job ${k + 1}/${jobs.length} '${workflow} / ${job}'`;
    return [`${label} starts`, `${label}: success (exit 0)`];
  });
}

/** A job's thread in `session.runEvents`: its start, then `events` (a stop's reason) on it. */
function onThread(threadId: number, ...events: string[]): string[] {
  return [`thread started ${threadId}`, ...events.map((event) => `${event} ${threadId}`)];
}

/** The console lines of the run itself (jobs starting, skipped, ending). */
function jobLines(client: DapClient): string[] {
  return session.consoleLines(client).filter((line) => /^relay-dap: (job |running )/.test(line));
}

describe('needs and whole workflows', () => {
  it('launching release runs build, then test in each matrix combination, then release: a thread per job, each with its own frames, outputs and results through needs', async () => {
    const program = session.workflowFixture('pipeline.yml');
    const { adapter, client, stop } = await session.runUntilStop(ctx, 'entry', {
      program,
      cwd: ctx.workdir,
      job: 'release',
    });
    // The run pauses on entry to its first job, build: thread 1.
    expect(stop.body.threadId).toBe(1);
    expect(await threadNames(client)).toEqual(['1 job: Pipeline / build']);
    expect(session.frameNames(await framesOf(client, 1))).toEqual(['next: Compute version']);

    // A breakpoint in a needed job's step holds in that job, on its thread: here only in the
    // second combination (its condition reads the matrix).
    const unitTests = session.lineOf(program, '- name: Unit tests');
    const set = await client.request('setBreakpoints', {
      source: { path: program },
      breakpoints: [{ line: unitTests, condition: "matrix.python == '3.12'" }],
    });
    expect(set.body.breakpoints.map((bp) => [bp.verified, bp.line])).toEqual([[true, unitTests]]);
    await session.continueJob(client);
    await stoppedOn(client, 3);
    expect(session.frameNames(await framesOf(client, 3))).toEqual(['next: Unit tests']);
    expect(session.frameNames(await framesOf(client, 2))).toEqual(['✓ Unit tests: exit 0, T s']);
    // Go To moves within the job that runs now: a line of another job has no target.
    const targets = async (line: number) =>
      (await client.request('gotoTargets', { source: { path: program }, line })).body.targets.map(
        (t) => t.label,
      );
    expect(await targets(unitTests)).toEqual(['Unit tests']);
    expect(await targets(session.lineOf(program, '- name: Publish'))).toEqual([]);

    await session.continueJob(client);
    // ... and on entry to the job launched, release, once the jobs it needs have ended.
    await stoppedOn(client, 4);
    await expectJobThreads(client, 'Pipeline', ['build', 'test (3.11)', 'test (3.12)', 'release']);
    // Each thread shows its own job: the finished jobs their finished steps (latest on top).
    const build = await framesOf(client, 1);
    expect(session.frameNames(build)).toEqual(['✓ Package: exit 0, T s', '✓ Compute version: exit 0, T s']);
    expect(build.map((frame) => frame.line)).toEqual([
      session.lineOf(program, '- name: Package'),
      session.lineOf(program, '- name: Compute version'),
    ]);
    expect(session.frameNames(await framesOf(client, 3))).toEqual(['✓ Unit tests: exit 0, T s']);
    const release = await framesOf(client, 4);
    expect(session.frameNames(release)).toEqual(['next: Publish']);
    // Frame ids differ between threads, and each frame's scopes are its own job's.
    const ids = [...build, ...release].map((frame) => frame.id);
    expect(new Set(ids).size).toBe(ids.length);
    const scopes = await client.request('scopes', { frameId: build[0]!.id });
    const job = scopes.body.scopes.find((scope) => scope.name === 'Job')!;
    const fields = await client.request('variables', { variablesReference: job.variablesReference });
    expect(fields.body.variables.find((variable) => variable.name === 'name')?.value).toBe(
      'Pipeline / build',
    );

    // build's outputs (one from a step, one built from it) and result reach test and release;
    // test's output is that of its last combination, as GitHub keeps one value per output.
    await continueToEndPrinting(client, [
      'computed version 1.4.2',
      'packaging pkg-1.4.2',
      'testing 1.4.2 on python 3.11 (build was success)',
      'testing 1.4.2 on python 3.12 (build was success)',
      'publishing pkg-1.4.2.tar.gz version 1.4.2',
      'test report report-3.12.xml',
    ]);
    expect(session.runEvents(client)).toEqual([
      ...onThread(1, 'stopped entry'),
      ...onThread(2),
      ...onThread(3, 'stopped breakpoint'),
      ...onThread(4, 'stopped entry'),
      'exited 0',
      'terminated',
    ]);
    expect(jobLines(client)).toEqual([
      'relay-dap: running 4 jobs one after another, in the order of their needs: build, test, release (GitHub runs jobs whose needs are met side by side; the relay runs one command at a time)',
      ...succeededInOrder('Pipeline', ['build', 'test (3.11)', 'test (3.12)', 'release']),
    ]);
    await session.finish(ctx, adapter);
  });

  it('a whole workflow (no `job`): a failed job skips the job that needs it, `if: failure()` and `if: always()` jobs run and read needs.*.result; the run exits with the failed step’s code', async () => {
    const program = session.workflowFixture('pipeline-failure.yml');
    const { adapter, client, stop } = await session.runUntilStop(ctx, 'exception', {
      ...session.pastEntry(ctx, program),
    });
    // The failed-step pause is on the failed job's thread.
    expect(stop.body.threadId).toBe(1);
    expect(session.frameNames(await framesOf(client, 1))[0]).toBe('✗ Compile: failed, exit 2, T s');
    expect(await session.continueToEnd(client, 2)).toEqual([
      '✓ Configure: exit 0, T s',
      '✗ Compile: failed, exit 2, T s',
      '✓ Report: exit 0, T s',
      '✓ Clean: exit 0, T s',
    ]);
    expect(outputByCategory(client).stdout).toBe(
      'error: undefined reference to main\ncompile failure after configure; package skipped\ncleanup after notify success\n',
    );
    // The skipped job never started: no thread for it.
    await expectJobThreads(client, 'Nightly', ['compile', 'notify', 'cleanup']);
    expect(jobLines(client)).toContain(
      "relay-dap: job 2/4 'Nightly / package' was skipped: a job it needs did not succeed: compile (failure)",
    );
    expect(session.runEvents(client)).toEqual([
      ...onThread(1, 'stopped exception'),
      ...onThread(2),
      ...onThread(3),
      'exited 2',
      'terminated',
    ]);
    await session.finish(ctx, adapter);
  });

  it('job-level continue-on-error (true, and computed per matrix combination): the failed job pauses as any, but does not fail the run, and the jobs that need it see needs.<job>.result success', async () => {
    const program = session.workflowFixture('experimental-toolchains.yml');
    const adapter = await ctx.runJob(session.pastEntry(ctx, program));
    const { client } = adapter;
    // Each failure still pauses on its step, on its job's thread: the nightly leg, then lint.
    for (const threadId of [2, 3]) {
      const stop = await client.waitForEvent(
        'stopped',
        (event) => event.body.reason === 'exception' && event.body.threadId === threadId,
        EVENT_TIMEOUT_MS,
      );
      expect(stop.body.threadId).toBe(threadId);
      const response = await client.request('continue', { threadId });
      expect(response.success, response.message).toBe(true);
    }
    // The run ends with 0: both failures were tolerated.
    await session.finishWith(ctx, adapter, {
      exitCode: 0,
      steps: [
        '✓ Unit tests: exit 0, T s',
        '✗ Unit tests: failed, exit 101, T s',
        '✗ New checker: failed, exit 3, T s',
        '✓ Summary: exit 0, T s',
      ],
      stdout: [
        'test result: ok on stable',
        'error[E0658]: use of unstable library feature on nightly',
        'warning treated as error: unused import',
        'test was success, lint was success',
        '',
      ].join('\n'),
    });
    expect(jobLines(client)).toEqual([
      'relay-dap: running 4 jobs one after another, in the order of their needs: test, lint, report (GitHub runs jobs whose needs are met side by side; the relay runs one command at a time)',
      "relay-dap: job 1/4 'Toolchains / test (stable)' starts",
      "relay-dap: job 1/4 'Toolchains / test (stable)': success (exit 0)",
      "relay-dap: job 2/4 'Toolchains / test (nightly)' starts",
      "relay-dap: job 2/4 'Toolchains / test (nightly)': failure (exit 101)",
      "relay-dap: job 2/4 'Toolchains / test (nightly)' failed (exit 101), tolerated by its continue-on-error: the run goes on as if it succeeded",
      "relay-dap: job 3/4 'Toolchains / lint' starts",
      "relay-dap: job 3/4 'Toolchains / lint': failure (exit 3)",
      "relay-dap: job 3/4 'Toolchains / lint' failed (exit 3), tolerated by its continue-on-error: the run goes on as if it succeeded",
      "relay-dap: job 4/4 'Toolchains / report' starts",
      "relay-dap: job 4/4 'Toolchains / report': success (exit 0)",
    ]);
  });

  it('the launch argument `needs` gives the needed jobs’ outputs and results instead of running them; a result that is not success skips the job', async () => {
    const program = session.workflowFixture('pipeline.yml');
    const given = {
      build: { result: 'success', outputs: { version: '9.9.9', artifact: 'given.tar.gz' } },
      test: { outputs: { report: 'given.xml' } },
    };
    const ran = await ctx.runJob({ ...session.pastEntry(ctx, program), job: 'release', needs: given });
    await session.runToEnd(ran.client, 0);
    expect(outputByCategory(ran.client).stdout).toBe(
      'publishing given.tar.gz version 9.9.9\ntest report given.xml\n',
    );
    // One job: one thread, as any launch of one job (no thread events).
    expect(session.runEvents(ran.client)).toEqual(['exited 0', 'terminated']);
    await session.finish(ctx, ran);

    const failed = { ...given, test: { result: 'failure', outputs: {} } };
    const skipped = await ctx.runJob({ ...session.pastEntry(ctx, program), job: 'release', needs: failed });
    await session.runToEnd(skipped.client, 0);
    expect(outputByCategory(skipped.client).stdout).toBeUndefined();
    expect(jobLines(skipped.client)).toEqual([
      `relay-dap: job 'Pipeline / release' was skipped: its if: needs.build.result == 'success' && needs.test.result == 'success' (line ${session.lineOf(program, 'if: needs.build.result')}) is false`,
    ]);
    await session.finish(ctx, skipped);
  });

  it('disconnecting while the second job runs stops it: exited 130, terminated, and no process or job folder is left', async () => {
    const program = session.workflowFixture('pipeline-slow.yml');
    const adapter = await ctx.runJob({ ...session.pastEntry(ctx, program), env: { [ctx.marker]: '1' } });
    const { client } = adapter;
    await session.disconnectWhileRunning(ctx, adapter, 'soaking');
    expect(outputByCategory(client).stdout).toBe('prepared\nsoaking\n[cancelled]\n');
    expect(session.stepResults(client)).toEqual([
      '✓ Prepare: exit 0, T s',
      '✗ Soak: cancelled, exit 130, T s',
    ]);
    expect(session.runEvents(client).filter((line) => line.startsWith('thread'))).toEqual([
      'thread started 1',
      'thread started 2',
    ]);
  });

  it('a job calling a reusable workflow of the checkout: its jobs run as threads in the caller’s place, frames in the called file, with: as inputs, its outputs and result to the job that needs it', async () => {
    const repo = path.join(ctx.workdir, 'repo');
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'projects', 'reusable'), repo, { recursive: true });
    const program = path.join(repo, '.github', 'workflows', 'release.yml');
    const called = path.join(repo, '.github', 'workflows', 'build-reusable.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      program,
      cwd: repo,
      job: 'publish',
      secrets: { SIGNING_KEY: 'k3y-for-signing' },
    });
    // A breakpoint in the called workflow's file is not in the launched job's source (one file
    // holds breakpoints): the run stops on entry to its first job and to `publish`.
    await session.continueJob(client);
    await stoppedOn(client, 4);
    await expectJobThreads(client, 'Release', ['version', 'build / compile', 'build / package', 'publish']);
    // A called job's frames point into the called workflow, at its step's line.
    const [compile] = await framesOf(client, 2);
    expect(compile).toMatchObject({
      source: { path: called },
      line: session.lineOf(called, '- name: Compile'),
    });
    // `secrets: inherit` passed the launch's SIGNING_KEY to the called workflow: signed.
    await continueToEndPrinting(client, [
      'compiling 3.1.0 for linux-x64 (debug true)',
      'packaging after compile success, signed',
      'publishing app-3.1.0-linux-x64.tar.gz (build success)',
    ]);
    expect(jobLines(client)).toContain(
      "relay-dap: job 'Release / build' calls ./.github/workflows/build-reusable.yml: its jobs run here, with the inputs and secrets it passes",
    );
    await session.finish(ctx, adapter);
  });

  it('a reusable workflow of another repository is refused at launch, naming it', async () => {
    const program = session.writeFile(
      ctx.workdir,
      '.github/workflows/ci.yml',
      [
        'name: CI',
        'on: push',
        'jobs:',
        '  build:',
        '    uses: octo-org/shared/.github/workflows/build.yml@v2',
        '  test:',
        '    needs: build',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo test',
        '',
      ].join('\n'),
    );
    const adapter = await ctx.runJob(
      { program, cwd: ctx.workdir, job: 'test' },
      { allowLaunchFailure: true },
    );
    expect(adapter.launch.success).toBe(false);
    expect(adapter.launch.message).toBe(
      `${program}:5: job 'build' calls the reusable workflow octo-org/shared/.github/workflows/build.yml@v2, which is not in this checkout: ` +
        'relay-dap runs workflows of the checkout (uses: ./.github/workflows/…); open octo-org/shared/.github/workflows/build.yml in a checkout of its repository and launch its jobs there, ' +
        'or give this job\'s result with the launch argument "needs"',
    );
    await session.finish(ctx, adapter);
  });
});
