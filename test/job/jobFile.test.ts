/**
 * The Job API on a job file (test/fixtures/jobs), as the launch argument `program` reads it:
 * breakpoints at the file's real lines, the job's env and cwd, goto, restart and the console
 * on steps that depend on each other through real files in the relay's workdir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobFixture, lineOf, numbered, ran, useJobHarness } from './jobHarness.js';

const h = useJobHarness();
const release = jobFixture('release.yml');

describe('a job file', () => {
  it('release.yml: pause on entry, then next through every step; the build leaves its file in the workdir', async () => {
    const run = await h.open(await h.program(release));
    await run.stop(1);
    for (let stop = 2; stop <= 4; stop++) {
      run.runner.next();
      await run.stop(stop);
    }
    run.runner.next();
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        'stopped entry at 0 "Paused before the first step"',
        'continued',
        ran(0, 'Check out', 'checking out\n'),
        'stopped step at 1 "Paused before the next step"',
        'continued',
        ran(1, 'Build', 'building for beta\n'),
        'stopped step at 2 "Paused before the next step"',
        'continued',
        ran(2, 'Test', 'tests passed\n'),
        'stopped step at 3 "Paused before the next step"',
        'continued',
        ran(3, 'Publish', 'publishing to beta\n'),
        'ended finished 0',
      ),
    );
    expect(fs.readFileSync(path.join(run.workdir, 'build.out'), 'utf8')).toBe('built\n');
  });

  it("release.yml: a line breakpoint in a step's run block is moved to the step's first line and pauses there", async () => {
    const run = await h.prepare(await h.program(release), { stopOnEntry: false });
    const states = run.setLineBreakpoints([{ line: lineOf(release, 'test -f build.out') }]);
    expect(states.map(({ verified, line }) => ({ verified, line }))).toEqual([
      { verified: true, line: lineOf(release, '- name: Test') },
    ]);
    run.start();
    await run.stop(1);
    run.runner.continue();
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        ran(0, 'Check out', 'checking out\n'),
        ran(1, 'Build', 'building for beta\n'),
        'stopped breakpoint at 2 (line 19) "Paused at a breakpoint before Test"',
        'continued',
        ran(2, 'Test', 'tests passed\n'),
        ran(3, 'Publish', 'publishing to beta\n'),
        'ended finished 0',
      ),
    );
  });

  it('release.yml: a function breakpoint on a step name, and the console while paused there', async () => {
    const run = await h.prepare(await h.program(release), { stopOnEntry: false });
    expect(run.setFunctionBreakpoints([{ name: 'Publish' }]).map((s) => s.verified)).toEqual([true]);
    run.start();
    await run.stop(1);
    expect(await run.console('echo "channel $CHANNEL"; cat build.out; exit 7')).toEqual({
      exitCode: 7,
      cancelled: false,
    });
    run.runner.continue();
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        ran(0, 'Check out', 'checking out\n'),
        ran(1, 'Build', 'building for beta\n'),
        ran(2, 'Test', 'tests passed\n'),
        'stopped function breakpoint at 3 (fn Publish) "Paused at a breakpoint before Publish"',
        'output console 1 "channel beta\\nbuilt\\n"',
        'continued',
        ran(3, 'Publish', 'publishing to beta\n'),
        'ended finished 0',
      ),
    );
  });

  it('release.yml: goto past the build: Build never runs, so it leaves no file; Test and Publish run', async () => {
    const run = await h.open(await h.program(release));
    await run.stop(1);
    expect(run.runner.goto(2)).toBe(true);
    await run.stop(2);
    run.runner.continue();
    // A job file's step is `bash -c TEXT` (no -e): its last command decides, so the failed
    // `test -f build.out` goes unnoticed and "tests passed" is printed.
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        'stopped entry at 0 "Paused before the first step"',
        'continued',
        'stopped goto at 2 "Moved to Test"',
        'continued',
        ran(2, 'Test', 'tests passed\n'),
        ran(3, 'Publish', 'publishing to beta\n'),
        'ended finished 0',
      ),
    );
    expect(fs.existsSync(path.join(run.workdir, 'build.out'))).toBe(false);
  });

  it('release.yml: restart of a step that ran: Build runs again and rewrites what the console changed', async () => {
    const run = await h.prepare(await h.program(release), { stopOnEntry: false });
    run.setFunctionBreakpoints([{ name: 'Test' }]);
    run.start();
    await run.stop(1);
    expect(await run.console('cat build.out; echo changed > build.out')).toEqual({
      exitCode: 0,
      cancelled: false,
    });
    expect(run.runner.goto(1, 'restart')).toBe(true);
    await run.stop(2);
    // The breakpoint on Test is hit again on the way.
    run.runner.continue();
    await run.stop(3);
    run.runner.continue();
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        ran(0, 'Check out', 'checking out\n'),
        ran(1, 'Build', 'building for beta\n'),
        'stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"',
        'output console 1 "built\\n"',
        'continued',
        'stopped restart at 1 "Ready to run Build again"',
        'continued',
        ran(1, 'Build', 'building for beta\n'),
        'stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"',
        'continued',
        ran(2, 'Test', 'tests passed\n'),
        ran(3, 'Publish', 'publishing to beta\n'),
        'ended finished 0',
      ),
    );
    expect(fs.readFileSync(path.join(run.workdir, 'build.out'), 'utf8')).toBe('built\n');
  });

  it('release.yml: cancel while paused at a breakpoint ends the job; the steps after it never run', async () => {
    const run = await h.prepare(await h.program(release), { stopOnEntry: false });
    run.setFunctionBreakpoints([{ name: 'Test' }]);
    run.start();
    await run.stop(1);
    expect(await run.runner.cancel('the user stopped the job')).toBe(130);
    expect(run.transcript()).toEqual(
      numbered(
        ran(0, 'Check out', 'checking out\n'),
        ran(1, 'Build', 'building for beta\n'),
        'stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"',
        'message "cancelling: the user stopped the job"',
        'ended cancelled 130',
      ),
    );
  });

  it("build.yml: the job's env and cwd reach every step and the console; a tolerated failure does not pause", async () => {
    const run = await h.prepare(await h.program(jobFixture('build.yml')), { stopOnEntry: false });
    run.setFunctionBreakpoints([{ name: 'Last step' }]);
    run.start();
    await run.stop(1);
    expect(await run.console('echo "$GREETING $LEVEL in $PWD"')).toEqual({ exitCode: 0, cancelled: false });
    run.runner.continue();
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual(
      numbered(
        ran(0, 'Configure', 'configuring with LEVEL=3\n'),
        ran(1, 'Run echo "$GREETING from the second step"', 'hello from the second step\n'),
        ran(2, 'Allowed to fail', undefined, 'failure exit 1 tolerated'),
        'stopped function breakpoint at 3 (fn Last step) "Paused at a breakpoint before Last step"',
        'output console 1 "hello 3 in /tmp\\n"',
        'continued',
        ran(3, 'Last step', '/\n'),
        'ended finished 0',
      ),
    );
  });
});
