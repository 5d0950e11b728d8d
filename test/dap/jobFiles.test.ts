// Plain job files (`program` pointing at a YAML file of steps) run end to end through the adapter
// (a real process over stdio) and its embedded relay (real bash): frames point into the file at
// the steps' own lines and name the file as their source; the job's and steps' cwd, env,
// continue-on-error and timeout behave as the job file format documents (src/workflow/jobFile.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorId, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { ERR } from '../support/errorIds.js';
import { processesWithMarker } from '../support/relayHarness.js';

const ctx = useAdapterContext();

async function next(client: DapClient): Promise<void> {
  const response = await client.request('next', { threadId: 1 });
  expect(response.success, response.message).toBe(true);
  await session.stoppedAt(client, 'step');
}

describe('job files end to end', () => {
  it('build.yml: every frame points into the file at its step’s first line, with the file as its source; `source` serves the file', async () => {
    const program = session.jobFixture('build.yml');
    const text = fs.readFileSync(program, 'utf8');
    const fileLines = text.split('\n');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    expect((await client.request('threads')).body.threads).toEqual([{ id: 1, name: 'job: Build and test' }]);

    const configure = session.lineOf(program, '- name: Configure');
    const second = session.lineOf(program, '- run: |');
    const allowed = session.lineOf(program, '- name: Allowed to fail');
    const last = session.lineOf(program, '- name: Last step');
    const source = { name: 'build.yml', path: program };

    const entry = await session.frames(client);
    expect(entry).toEqual([
      { id: 1, name: 'next: Configure', source, line: configure, column: 1, presentationHint: 'normal' },
    ]);

    await next(client);
    await next(client);
    await next(client);
    const paused = await session.expectFrames(client, [
      'next: Last step',
      '✗ Allowed to fail: failed (continue-on-error), exit 1, T s',
      // A step without a name is named after the first line of its script.
      '✓ Run echo "$GREETING from the second step": exit 0, T s',
      '✓ Configure: exit 0, T s',
    ]);
    expect(paused.map((f) => f.line)).toEqual([last, allowed, second, configure]);
    for (const frame of paused) expect(frame.source).toEqual(source);
    // The lines are the file's own: the frame's line shows the step's first line in the editor.
    expect(paused.map((f) => fileLines[f.line - 1]!.trim())).toEqual([
      '- name: Last step',
      '- name: Allowed to fail',
      '- run: |',
      '- name: Configure',
    ]);

    // A client may ask for the source by its path: it is the file, byte for byte.
    const served = await client.request('source', { source, sourceReference: 0 });
    expect(served.success).toBe(true);
    expect(served.body).toEqual({ content: text, mimeType: 'text/yaml' });

    expect(await session.continueToEnd(client, 0)).toEqual([
      '✓ Configure: exit 0, T s',
      '✓ Run echo "$GREETING from the second step": exit 0, T s',
      '✗ Allowed to fail: failed (continue-on-error), exit 1, T s',
      '✓ Last step: exit 0, T s',
    ]);
    // Job env (LEVEL: 3 written as a number arrives as "3"); the second step's `test` passed;
    // the last step's absolute cwd.
    // A tolerated failure does not pause (the `failed` filter is for failures that fail the job).
    await session.finishWith(ctx, adapter, {
      stdout: 'configuring with LEVEL=3\nhello from the second step\n/\n',
      stops: ['entry', 'step', 'step', 'step'],
    });
  });

  it('the job’s cwd is relative to the launch cwd, a step’s cwd relative to the job’s, an absolute one as given; `!CMD` runs in the job’s', async () => {
    fs.mkdirSync(path.join(ctx.workdir, 'build', 'sub'), { recursive: true });
    const program = session.copyToWorkdir(ctx, session.jobFixture('jobFiles/cwd-job.yml'));
    // No failure pause: a step whose directory is wrong fails, and the job ends at once.
    const { adapter, client } = await session.runUntilStop(
      ctx,
      'entry',
      { program, cwd: ctx.workdir },
      { filters: [] },
    );
    expect(await session.consoleResult(client, '!echo "console=$PWD"')).toBe('exit 0');
    await session.continueJob(client);
    // A missing directory would fail a step (`cd` fails): the job must succeed.
    await session.runToEnd(client, 0);
    const build = path.join(ctx.workdir, 'build');
    await session.finishWith(ctx, adapter, {
      stdout: `console=${build}\njob=${build}\nstep=${path.join(build, 'sub')}\nabsolute=/\n`,
    });
  });

  it('env: the job’s env over the launch’s, a step’s over the job’s; `${{ }}` in a job file is plain text', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('jobFiles/env-job.yml'));
    const adapter = await ctx.runJob({
      program,
      cwd: ctx.workdir,
      stopOnEntry: false,
      env: { WHO: 'launch', FROM_LAUNCH: 'yes' },
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, {
      stdout: 'WHO=job WHERE=job-file FROM_LAUNCH=yes RAW=${{ env.WHO }}\nWHO=step WHERE=job-file\nWHO=job\n',
    });
  });

  it('continue-on-error lets the job go on; a step over its timeout is cancelled (exit 124, its process gone); an untolerated failure ends the job with its code', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('jobFiles/failing-job.yml'), {
      markCommands: true,
    });
    const { adapter, client, stop } = await session.runUntilStop(
      ctx,
      'exception',
      session.pastEntry(ctx, program),
    );
    expect(stop.body.description).toBe('Breaks failed with exit code 7');
    // The timed-out step's process is gone: the relay cancelled it.
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(await session.continueToEnd(client, 7)).toEqual([
      '✗ Tolerated: failed (continue-on-error), exit 9, T s',
      '✗ Slow: timed out (continue-on-error), exit 124, T s',
      '✗ Breaks: failed, exit 7, T s',
    ]);
    expect(session.consoleLines(client)).toContain(
      'relay-dap: step 2 (Slow) timed out after 1 s; cancelling it',
    );
    // `[cancelled]` is the relay's last log line of a cancelled command.
    expect(outputByCategory(client).stdout).toBe('tolerated\nslow started\n[cancelled]\nbreaking\n');
    expect(fs.existsSync(path.join(ctx.workdir, 'never-ran'))).toBe(false);
    expect(session.stopReasons(client)).toEqual(['exception']);
    await session.finish(ctx, adapter);
  });

  it('a step over its timeout without continue-on-error ends the job with 124', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('jobFiles/timeout-job.yml'), {
      markCommands: true,
    });
    const adapter = await ctx.runJob(session.pastEntry(ctx, program), { filters: [] });
    const { client } = adapter;
    expect(await session.stepResultsAtEnd(client, 124)).toEqual(['✗ Hangs: timed out, exit 124, T s']);
    expect(fs.existsSync(path.join(ctx.workdir, 'never-ran'))).toBe(false);
    expect(session.stopReasons(client)).toEqual([]);
    await session.finish(ctx, adapter);
  });

  it('a job file that cannot be used is a launch error naming the file and line', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('jobFiles/broken-job.yml'));
    const adapter = await ctx.runJob({ program, cwd: ctx.workdir }, { allowLaunchFailure: true });
    const { launch } = adapter;
    expect(launch.success).toBe(false);
    expect(errorId(launch)).toBe(ERR.InvalidJob);
    expect(launch.message).toContain(`${program}:${session.lineOf(program, '- name: No command')}:`);
    expect(launch.message).toContain("has no 'run:'");
    await session.finish(ctx, adapter);
  });

  it('a program that does not exist is a launch error that says to give an absolute path', async () => {
    const missing = path.join(ctx.workdir, 'no-such-job.yml');
    const adapter = await ctx.runJob({ program: missing, cwd: ctx.workdir }, { allowLaunchFailure: true });
    const { launch } = adapter;
    expect(launch.success).toBe(false);
    expect(errorId(launch)).toBe(ERR.InvalidJob);
    expect(launch.message).toContain(missing);
    expect(launch.message).toContain('ENOENT');
    expect(launch.message).toContain('give `program` as an absolute path');
    await session.finish(ctx, adapter);
  });
});
