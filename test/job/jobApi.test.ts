/**
 * The Job API without the adapter process: JobRunner, Breakpoints and WorkflowSteps against
 * a relay server in this process, with real bash and real files, the runner's events asserted
 * in order as numbered transcripts (go-delve's service/dap tests, one layer down). For each
 * kind of job — a launch's plain steps, a job file (test/fixtures/jobs), a workflow job
 * (test/fixtures/workflows) — how it moves (entry, next, continue, pause, goto, restart),
 * where it pauses (line, conditional, log and function breakpoints; the failed and cancelled
 * filters), the console while paused, and cancel, after which no process of the job is left.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  jobFixture,
  lineIn,
  lineOf,
  cancelledBy,
  ENTRY,
  expectEnded,
  expectFinished,
  failedStop,
  failedThenEnded,
  nextedThrough,
  nextStop,
  numbered,
  resumed,
  processesWithMarker,
  ran,
  useJobHarness,
  waitUntil,
  workflowFixture,
} from './jobHarness.js';

const h = useJobHarness();

const threeSteps = [
  { name: 'greet', run: 'echo hello' },
  { name: 'count', run: 'echo run >> runs.txt; wc -l < runs.txt' },
  { name: 'bye', run: 'printf "bye\\n"' },
];
/** threeSteps' steps as the transcript shows them when each runs from start to end. */
const threeRan = [ran(0, 'greet', 'hello\n'), ran(1, 'count', '1\n'), ran(2, 'bye', 'bye\n')];

describe('plain steps: moving through the job', () => {
  it('pauses on entry before the first step, then runs to the end on continue', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    expect(run.runner.state).toBe('paused');
    expect(run.transcript()).toEqual(['1 stopped entry at 0 "Paused before the first step"']);
    await run.continueToFinish(
      ENTRY,
      'continued',
      ran(0, 'greet', 'hello\n'),
      ran(1, 'count', '1\n'),
      ...threeRan.slice(2),
    );
  });

  it('next runs one step and pauses before the following one', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    await run.next();
    expect(run.runner.position).toBe(1);
    await run.next();
    run.runner.next();
    await expectFinished(run, nextedThrough(threeRan));
  });

  it('without stopOnEntry, continue is the default: the job runs through and its files stay', async () => {
    const run = await h.open(h.steps(threeSteps), { stopOnEntry: false });
    await expectFinished(run, ran(0, 'greet', 'hello\n'), ran(1, 'count', '1\n'), ...threeRan.slice(2));
    expect(fs.readFileSync(path.join(run.workdir, 'runs.txt'), 'utf8')).toBe('run\n');
  });

  it('pause asked for while a step runs takes effect at the next step boundary', async () => {
    const run = await h.open(
      h.steps([
        { name: 'wait for go', run: 'echo waiting; until [ -e go ]; do sleep 0.05; done; echo went' },
        { name: 'after', run: 'echo after' },
      ]),
      { stopOnEntry: false },
    );
    await run.said('output step 0 "waiting');
    run.runner.pause();
    fs.writeFileSync(path.join(run.workdir, 'go'), '');
    const stop = await run.stop(1);
    expect(stop).toMatchObject({ reason: 'pause', stepIndex: 1 });
    await run.continueToFinish(
      ran(0, 'wait for go', 'waiting\nwent\n'),
      resumed('stopped pause at 1 "Paused between steps"'),
      ran(1, 'after', 'after\n'),
    );
  });

  it('goto moves past steps without running them and pauses before the target', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    await run.goto(2);
    await run.continueToFinish(
      resumed(ENTRY),
      resumed('stopped goto at 2 "Moved to bye"'),
      ...threeRan.slice(2),
    );
    expect(fs.existsSync(path.join(run.workdir, 'runs.txt'))).toBe(false);
  });

  it('restart runs a step that already ran again, with what it left on disk', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    await run.next();
    await run.next();
    await run.goto(1, 'restart');
    await run.continueToFinish(
      resumed(ENTRY),
      ran(0, 'greet', 'hello\n'),
      resumed(nextStop(1)),
      ran(1, 'count', '1\n'),
      resumed(nextStop(2)),
      resumed('stopped restart at 1 "Ready to run count again"'),
      ran(1, 'count', '2\n'),
      ...threeRan.slice(2),
    );
    expect(fs.readFileSync(path.join(run.workdir, 'runs.txt'), 'utf8')).toBe('run\nrun\n');
  });

  it('restart from the failed-step pause: the step passes on its second run and the job succeeds', async () => {
    const run = await h.open(
      h.steps([{ name: 'flaky', run: 'test -e fixed || { touch fixed; echo broken; exit 4; }; echo fixed' }]),
      { stopOnEntry: false },
    );
    await run.pausedAfter(0);
    await run.goto(0, 'restart');
    await run.continueToFinish(
      ran(0, 'flaky', 'broken\n', 'failure exit 4'),
      resumed(failedStop(0, 'flaky', 4)),
      resumed('stopped restart at 0 "Ready to run flaky again"'),
      ran(0, 'flaky', 'fixed\n'),
    );
  });

  it('noDebug runs through without an entry stop, breakpoints or the failed-step pause', async () => {
    const job = h.steps([
      { name: 'fails', run: 'echo failing; exit 2' },
      { name: 'never', run: 'echo never' },
    ]);
    const run = await h.prepare(job, { noDebug: true });
    run.setLineBreakpoints([{ line: job.steps[0]!.location.line }]);
    run.start();
    expect(await run.ended()).toBe(2);
    expect(run.transcript()).toEqual(
      numbered(ran(0, 'fails', 'failing\n', 'failure exit 2'), 'ended failed 2'),
    );
  });
});

describe('plain steps: where the job pauses', () => {
  it('a line breakpoint anywhere in a step pauses before it; one outside every step is unverified', async () => {
    const job = h.steps(threeSteps);
    const run = await h.open(job);
    await run.stop(1);
    const byeRun = lineIn(job, 'printf');
    const states = run.setLineBreakpoints([{ line: byeRun }, { line: 1 }]);
    expect(states.map(({ verified, line, message }) => ({ verified, line, message }))).toEqual([
      { verified: true, line: job.steps[2]!.location.line, message: undefined },
      {
        verified: false,
        line: 1,
        message: `line 1 is not inside a step (steps start at lines ${job.steps.map((s) => s.location.line).join(', ')})`,
      },
    ]);
    await run.continue();
    await run.continueToFinish(
      resumed(ENTRY),
      ...threeRan.slice(0, 2),
      resumed('stopped breakpoint at 2 (line 12) "Paused at a breakpoint before bye"'),
      ...threeRan.slice(2),
    );
  });

  it('conditional breakpoints and log points see the job env; a condition that does not parse is unverified', async () => {
    const job = h.steps(threeSteps);
    const run = await h.prepare(job, { env: { FLAG: 'yes' }, stopOnEntry: false });
    const [greet, count, bye] = job.steps.map((s) => s.location.line);
    const states = run.setLineBreakpoints([
      { line: greet!, logMessage: 'FLAG is {env.FLAG}' },
      { line: count!, condition: "env.FLAG == 'no'" },
      { line: bye!, condition: "${{ env.FLAG == 'yes' }}" },
      { line: bye!, condition: 'env.FLAG ==' },
    ]);
    expect(states.map((s) => s.verified)).toEqual([true, true, true, false]);
    expect(states[3]!.message).toMatch(/^the condition does not parse: /);
    run.start();
    await run.stop(1);
    await run.continueToFinish(
      'log "FLAG is yes"',
      ...threeRan.slice(0, 2),
      resumed('stopped breakpoint at 2 (line 10) "Paused at a breakpoint before bye"'),
      ...threeRan.slice(2),
    );
  });

  it('a log point on the first step logs also when the job pauses on entry', async () => {
    const job = h.steps(threeSteps);
    const run = await h.prepare(job);
    run.setLineBreakpoints([{ line: job.steps[0]!.location.line, logMessage: 'first step' }]);
    run.start();
    await run.stop(1);
    await run.continueToFinish('log "first step"', resumed(ENTRY), ...threeRan);
  });

  it('a breakpoint on the first step, with the job pausing on entry: one stop, named after the breakpoint, and its hit counts', async () => {
    const job = h.steps(threeSteps);
    const run = await h.prepare(job);
    const first = job.steps[0]!.location.line;
    // `== 1`: pauses only if the entry counted as its first hit.
    run.setLineBreakpoints([{ line: first, hitCondition: '== 1' }]);
    run.start();
    const stop = await run.stop(1);
    expect(stop.hitBreakpointIds).toHaveLength(1);
    await run.continueToFinish(
      resumed(`stopped breakpoint at 0 (line ${first}) "Paused at a breakpoint before greet"`),
      ...threeRan,
    );
  });

  it('a pause asked for while a step runs, before a step with a log point: the log point logs, then the pause', async () => {
    const job = h.steps([
      { name: 'wait for go', run: 'echo waiting; until [ -e go ]; do sleep 0.05; done' },
      { name: 'after', run: 'echo after' },
    ]);
    const run = await h.prepare(job, { stopOnEntry: false });
    run.setLineBreakpoints([{ line: job.steps[1]!.location.line, logMessage: 'before after' }]);
    run.start();
    await run.said('output step 0 "waiting');
    run.runner.pause();
    fs.writeFileSync(path.join(run.workdir, 'go'), '');
    await run.stop(1);
    await run.continueToFinish(
      ran(0, 'wait for go', 'waiting\n'),
      'log "before after"',
      resumed('stopped pause at 1 "Paused between steps"'),
      ran(1, 'after', 'after\n'),
    );
  });

  it('a hit condition counts the hits of a breakpoint, also after goto back; cleared breakpoints no longer pause', async () => {
    const job = h.steps(threeSteps);
    const run = await h.prepare(job, { stopOnEntry: false });
    run.setLineBreakpoints([{ line: job.steps[1]!.location.line, hitCondition: '== 2' }]);
    run.setFunctionBreakpoints([{ name: 'bye' }]);
    run.start();
    await run.stop(1);
    await run.goto(0);
    await run.continue();
    run.setFunctionBreakpoints([]);
    await run.continueToFinish(
      ...threeRan.slice(0, 2),
      resumed('stopped function breakpoint at 2 (fn bye) "Paused at a breakpoint before bye"'),
      resumed('stopped goto at 0 "Moved to greet"'),
      ran(0, 'greet', 'hello\n'),
      resumed('stopped breakpoint at 1 (line 7) "Paused at a breakpoint before count"'),
      ran(1, 'count', '2\n'),
      ...threeRan.slice(2),
    );
  });

  it('a function breakpoint names a step; an unknown name is unverified and lists the steps', async () => {
    const run = await h.prepare(h.steps(threeSteps), { stopOnEntry: false });
    const states = run.setFunctionBreakpoints([{ name: 'count' }, { name: 'nope' }]);
    expect(states.map(({ verified, message }) => ({ verified, message }))).toEqual([
      { verified: true, message: undefined },
      { verified: false, message: 'no step is named or has the id "nope" (steps: greet, count, bye)' },
    ]);
    run.start();
    await run.stop(1);
    await run.continueToFinish(
      ran(0, 'greet', 'hello\n'),
      resumed('stopped function breakpoint at 1 (fn count) "Paused at a breakpoint before count"'),
      ...threeRan.slice(1),
    );
  });

  it('a failed step pauses after it (the failed filter), and the job then ends with its exit code', async () => {
    const run = await h.open(
      h.steps([
        { name: 'ok', run: 'echo ok' },
        { name: 'fail', run: 'echo "about to fail" >&2; exit 3' },
        { name: 'never', run: 'echo never' },
      ]),
      { stopOnEntry: false },
    );
    await run.pausedAfter(1);
    await run.continueToEnd(3, ran(0, 'ok', 'ok\n'), failedThenEnded(1, 'fail', 'about to fail\n', 3));
  });

  it('without the failed filter a failed step ends the job at once; a tolerated one never pauses', async () => {
    const run = await h.open(
      h.steps([
        { name: 'tolerated', run: 'exit 5', continueOnError: true },
        { name: 'fail', run: 'exit 3' },
        { name: 'never', run: 'echo never' },
      ]),
      { stopOnEntry: false, exceptionFilters: [] },
    );
    await expectEnded(
      run,
      3,
      ran(0, 'tolerated', undefined, 'failure exit 5 tolerated'),
      ran(1, 'fail', undefined, 'failure exit 3'),
      'ended failed 3',
    );
  });

  it('cancelling only the running step (its progress) ends it as cancelled; the cancelled filter pauses after it', async () => {
    const run = await h.open(
      h.steps([
        { name: 'long', run: 'echo started; sleep 300' },
        { name: 'never', run: 'echo never' },
      ]),
      { stopOnEntry: false, exceptionFilters: ['cancelled'] },
    );
    await run.said('output step 0 "started');
    expect(run.runner.cancelStep()).toBe(true);
    await run.stop(1);
    await run.continueToEnd(
      130,
      ran(0, 'long', 'started\n[cancelled]\n', 'cancelled exit 130'),
      resumed('stopped exception at 0 "long was cancelled"'),
      'ended failed 130',
    );
  });

  it('the cancelled filter pauses after a step that ran out of its own timeout', async () => {
    const run = await h.open(
      h.steps([
        { name: 'slow', run: 'sleep 300', timeout: 1 },
        { name: 'never', run: 'echo never' },
      ]),
      { stopOnEntry: false, exceptionFilters: ['cancelled'] },
    );
    await run.stop(1);
    run.runner.continue();
    expect(await run.ended()).toBe(124);
    // Whether the command had started (and so gets a "[cancelled]" line) when its second ran
    // out depends on the machine's load: the events are what this test is about.
    expect(run.events()).toEqual(
      numbered(
        'stepStarted 0 "slow"',
        'message "step 1 (slow) timed out after 1 s; cancelling it"',
        'stepEnded 0 failure exit 124 timedOut',
        resumed('stopped exception at 0 "slow timed out"'),
        'ended failed 124',
      ),
    );
  });
});

describe('plain steps: console and cancel', () => {
  it("a console command while paused runs in the job's env and directory and reports its exit code", async () => {
    const run = await h.open(h.steps(threeSteps), { env: { GREETING: 'hi' } });
    await run.stop(1);
    const result = await run.console('echo "$GREETING from $PWD"; echo to-stderr >&2; exit 7');
    expect(result).toEqual({ exitCode: 7, cancelled: false });
    expect(run.runner.state).toBe('paused');
    await run.continueToFinish(
      ENTRY,
      'output console 1 "hi from <workdir>\\nto-stderr\\n"',
      'continued',
      ...threeRan,
    );
  });

  it('cancel while a step runs kills its whole process tree before the job ends', async () => {
    const run = await h.open(
      h.steps([
        {
          name: 'tree',
          // A background child, a setsid escape and a child that ignores SIGTERM.
          run: 'sleep 300 & setsid sleep 300 & bash -c "trap \'\' TERM; sleep 300" & echo ready; wait',
        },
        { name: 'never', run: 'echo never' },
      ]),
      { stopOnEntry: false },
    );
    await run.said('output step 0 "ready');
    await waitUntil(() => processesWithMarker(run.marker).length >= 4, 'the step and its three children');
    expect(await run.runner.cancel('the user cancelled')).toBe(130);
    expect(processesWithMarker(run.marker)).toEqual([]);
    expect(run.transcript()).toEqual(
      numbered(
        'stepStarted 0 "tree"',
        'output step 0 "ready\\n"',
        'message "cancelling: the user cancelled"',
        'output step 0 "[cancelled]\\n"',
        'stepEnded 0 cancelled exit 130',
        'ended cancelled 130',
      ),
    );
  });

  it('cancel while paused ends the job at once; no step runs', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    expect(await run.runner.cancel('stop here')).toBe(130);
    expect(run.transcript()).toEqual(numbered(ENTRY, cancelledBy('stop here')));
  });

  it('cancel ends a console command that is still running, and its whole tree', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    const consoleRun = run.console('echo sleeping; sleep 300 & wait');
    await run.said('output console 1 "sleeping');
    expect(await run.runner.cancel('stop here')).toBe(130);
    expect(await consoleRun).toEqual({ exitCode: 130, cancelled: true });
    expect(processesWithMarker(run.marker)).toEqual([]);
    expect(run.transcript()).toContain('3 message "cancelling: stop here"');
  });

  it('cancel ends the job only after the console command it cancelled has ended', async () => {
    const run = await h.open(h.steps(threeSteps));
    await run.stop(1);
    const consoleRun = run.console('echo sleeping; sleep 300');
    const consoleResult = consoleRun.catch((error: Error) => error.message);
    await run.said('output console 1 "sleeping');
    expect(await run.runner.cancel('stop here')).toBe(130);
    const leftRunning = processesWithMarker(run.marker);
    await consoleResult;
    expect(leftRunning).toEqual([]);
    expect(run.transcript()).toEqual(
      numbered(
        ENTRY,
        'output console 1 "sleeping\\n"',
        'message "cancelling: stop here"',
        'output console 1 "[cancelled]\\n"',
        'ended cancelled 130',
      ),
    );
  });
});

// A job file: steps that depend on each other through files in the relay's workdir.
const release = jobFixture('release.yml');
/** release.yml's steps as the transcript shows them when each runs from start to end. */
const releaseRan = [
  ran(0, 'Check out', 'checking out\n'),
  ran(1, 'Build', 'building for beta\n'),
  ran(2, 'Test', 'tests passed\n'),
  ran(3, 'Publish', 'publishing to beta\n'),
];

describe('a job file', () => {
  it('release.yml: pause on entry, then next through every step; the build leaves its file in the workdir', async () => {
    const run = await h.open(await h.program(release));
    await run.stop(1);
    for (let stop = 2; stop <= 4; stop++) await run.next();
    run.runner.next();
    await expectFinished(run, nextedThrough(releaseRan));
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
    await run.continueToFinish(
      ...releaseRan.slice(0, 2),
      resumed('stopped breakpoint at 2 (line 19) "Paused at a breakpoint before Test"'),
      ...releaseRan.slice(2),
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
    await run.continueToFinish(
      ...releaseRan.slice(0, 3),
      'stopped function breakpoint at 3 (fn Publish) "Paused at a breakpoint before Publish"',
      'output console 1 "channel beta\\nbuilt\\n"',
      'continued',
      ...releaseRan.slice(3),
    );
  });

  it('release.yml: goto past the build: Build never runs, so it leaves no file; Test and Publish run', async () => {
    const run = await h.open(await h.program(release));
    await run.stop(1);
    await run.goto(2);
    run.runner.continue();
    // A job file's step is `bash -c TEXT` (no -e): its last command decides, so the failed
    // `test -f build.out` goes unnoticed and "tests passed" is printed.
    await expectFinished(
      run,
      resumed(ENTRY),
      resumed('stopped goto at 2 "Moved to Test"'),
      ...releaseRan.slice(2),
    );
    expect(fs.existsSync(path.join(run.workdir, 'build.out'))).toBe(false);
  });

  it('release.yml: restart of a step that ran: Build runs again and rewrites what the console changed', async () => {
    const run = await h.pausedBefore(await h.program(release), 'Test');
    expect(await run.console('cat build.out; echo changed > build.out')).toEqual({
      exitCode: 0,
      cancelled: false,
    });
    await run.goto(1, 'restart');
    // The breakpoint on Test is hit again on the way.
    await run.continue();
    await run.continueToFinish(
      ...releaseRan.slice(0, 2),
      'stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"',
      'output console 1 "built\\n"',
      'continued',
      resumed('stopped restart at 1 "Ready to run Build again"'),
      ran(1, 'Build', 'building for beta\n'),
      resumed('stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"'),
      ...releaseRan.slice(2),
    );
    expect(fs.readFileSync(path.join(run.workdir, 'build.out'), 'utf8')).toBe('built\n');
  });

  it('release.yml: cancel while paused at a breakpoint ends the job; the steps after it never run', async () => {
    const run = await h.pausedBefore(await h.program(release), 'Test');
    expect(await run.runner.cancel('the user stopped the job')).toBe(130);
    expect(run.transcript()).toEqual(
      numbered(
        ...releaseRan.slice(0, 2),
        'stopped function breakpoint at 2 (fn Test) "Paused at a breakpoint before Test"',
        cancelledBy('the user stopped the job'),
      ),
    );
  });

  it("a job file's failed step pauses after it; continue ends the job with the step's exit code", async () => {
    const run = await h.open(await h.program(jobFixture('fails.yml')), { stopOnEntry: false });
    await run.pausedAfter(1);
    await run.continueToEnd(2, ran(0, 'Prepare', 'prepared\n'), failedThenEnded(1, 'Check', 'checking\n', 2));
  });

  it("build.yml: the job's env and cwd reach every step and the console; a tolerated failure does not pause", async () => {
    const run = await h.pausedBefore(await h.program(jobFixture('build.yml')), 'Last step');
    expect(await run.console('echo "$GREETING $LEVEL in $PWD"')).toEqual({ exitCode: 0, cancelled: false });
    await run.continueToFinish(
      ran(0, 'Configure', 'configuring with LEVEL=3\n'),
      ran(1, 'Run echo "$GREETING from the second step"', 'hello from the second step\n'),
      ran(2, 'Allowed to fail', undefined, 'failure exit 1 tolerated'),
      'stopped function breakpoint at 3 (fn Last step) "Paused at a breakpoint before Last step"',
      'output console 1 "hello 3 in /tmp\\n"',
      'continued',
      ran(3, 'Last step', '/\n'),
    );
  });
});

// A workflow job, with the workflow step preparer.
const failureHandling = workflowFixture('failure-handling.yml');
const envFiles = workflowFixture('env-files.yml');
/** failure-handling.yml's steps as the transcript shows them when each runs from start to end. */
const failureRan = [
  ran(0, 'Tolerated failure', 'this step fails but the job goes on\n', 'failure exit 1 tolerated'),
  ran(1, 'Runs after the tolerated failure', 'outcome=failure conclusion=success\n'),
  ran(2, 'Real failure', undefined, 'failure exit 3'),
  ran(3, 'Skipped because the job failed', undefined, 'skipped exit none note "if: success() is false"'),
  ran(4, 'Report the failure', 'step broken ended with failure\n'),
  ran(5, 'Clean up', 'cleaning up\n'),
];

describe('a workflow job', () => {
  it('failure-handling.yml: continue runs to the failed-step pause; then failure() and always() steps run', async () => {
    const run = await h.open(await h.program(failureHandling), { stopOnEntry: false });
    await run.pausedAfter(2);
    await run.continueToEnd(
      3,
      ...failureRan.slice(0, 3),
      resumed(failedStop(2, 'Real failure', 3)),
      ...failureRan.slice(3),
      'ended failed 3',
    );
  });

  it('failure-handling.yml: next steps one step at a time, expressions substituted from earlier steps', async () => {
    const run = await h.open(await h.program(failureHandling), { exceptionFilters: [] });
    await run.stop(1);
    await run.next();
    await run.next();
    expect(await run.runner.cancel('seen enough')).toBe(130);
    expect(run.transcript()).toEqual(
      numbered(
        resumed(ENTRY),
        ran(0, 'Tolerated failure', 'this step fails but the job goes on\n', 'failure exit 1 tolerated'),
        resumed(nextStop(1)),
        ran(1, 'Runs after the tolerated failure', 'outcome=failure conclusion=success\n'),
        nextStop(2),
        cancelledBy('seen enough'),
      ),
    );
  });

  it('failure-handling.yml: breakpoint conditions and log points over the steps context; a function breakpoint by id', async () => {
    const job = await h.program(failureHandling);
    const run = await h.prepare(job, { stopOnEntry: false, exceptionFilters: [] });
    const states = run.setLineBreakpoints([
      { line: lineOf(failureHandling, 'outcome=${{'), condition: "steps.tolerated.conclusion == 'failure'" },
      {
        line: lineOf(failureHandling, '- name: Report the failure'),
        condition: "steps.broken.outcome == 'failure'",
      },
      {
        line: lineOf(failureHandling, '- name: Clean up'),
        logMessage: 'tolerated {steps.tolerated.outcome}, concluded {steps.tolerated.conclusion}',
      },
    ]);
    expect(states.map((s) => s.verified)).toEqual([true, true, true]);
    run.setFunctionBreakpoints([{ name: 'broken' }]);
    run.start();
    await run.stop(1);
    await run.continue();
    await run.continueToEnd(
      3,
      ...failureRan.slice(0, 2),
      resumed('stopped function breakpoint at 2 (fn broken) "Paused at a breakpoint before Real failure"'),
      ...failureRan.slice(2, 4),
      resumed('stopped breakpoint at 4 (line 22) "Paused at a breakpoint before Report the failure"'),
      ran(4, 'Report the failure', 'step broken ended with failure\n'),
      'log "tolerated failure, concluded success"',
      ...failureRan.slice(5),
      'ended failed 3',
    );
  });

  it('failure-handling.yml: goto past the failure: the failure() step is skipped and the job succeeds', async () => {
    const run = await h.open(await h.program(failureHandling));
    await run.stop(1);
    await run.goto(4);
    await run.continueToFinish(
      resumed(ENTRY),
      resumed('stopped goto at 4 "Moved to Report the failure"'),
      ran(4, 'Report the failure', undefined, 'skipped exit none note "if: failure() is false"'),
      ...failureRan.slice(5),
    );
  });

  it('failure-handling.yml: restart from the failed-step pause re-runs from an earlier step, with the later steps forgotten', async () => {
    const run = await h.open(await h.program(failureHandling), { stopOnEntry: false });
    await run.stop(1);
    // Before the failed step runs again, its outcome is forgotten: this breakpoint must not pause.
    run.setLineBreakpoints([
      { line: lineOf(failureHandling, 'outcome=${{'), condition: "steps.broken.outcome == 'failure'" },
    ]);
    await run.goto(0, 'restart');
    await run.continue();
    expect(run.runner.pausedAfterIndex).toBe(2);
    await run.continueToEnd(
      3,
      ...failureRan.slice(0, 3),
      resumed(failedStop(2, 'Real failure', 3)),
      resumed('stopped restart at 0 "Ready to run Tolerated failure again"'),
      ...failureRan.slice(0, 3),
      resumed(failedStop(2, 'Real failure', 3)),
      ...failureRan.slice(3),
      'ended failed 3',
    );
  });

  it('cancel while a step runs: its whole tree is killed, later steps (even always()) do not run, RUNNER_TEMP is removed', async () => {
    const run = await h.open(await h.program(workflowFixture('cancel-tree.yml')), { stopOnEntry: false });
    await run.said('ready');
    await waitUntil(() => processesWithMarker(run.marker).length >= 4, 'the step and its three children');
    const temp = /temp ([^\s\\"]+)/.exec(run.transcript().join('\n'))![1]!;
    expect(fs.existsSync(temp)).toBe(true);
    expect(await run.runner.cancel('the user cancelled')).toBe(130);
    expect(processesWithMarker(run.marker)).toEqual([]);
    expect(fs.existsSync(temp)).toBe(false);
    expect(run.transcript().map((line) => line.split(temp).join('<temp>'))).toEqual(
      numbered(
        'stepStarted 0 "Tree"',
        'output step 0 "temp <temp>\\nready\\n"',
        'message "cancelling: the user cancelled"',
        'output step 0 "[cancelled]\\n"',
        'stepEnded 0 cancelled exit 130',
        'ended cancelled 130',
      ),
    );
  });

  it('env-files.yml: a console command while paused sees GITHUB_ENV values of earlier steps and reports its exit code', async () => {
    const run = await h.pausedBefore(await h.program(envFiles), 'Read the environment');
    expect(
      await run.console('echo "LEVEL=$LEVEL SHARED=$SHARED FROM_FILE=$FROM_FILE CI=${CI:-unset}"; exit 4'),
    ).toEqual({ exitCode: 4, cancelled: false });
    expect(await run.runner.cancel('seen enough')).toBe(130);
    expect(run.transcript()).toEqual(
      numbered(
        'stepStarted 0 "Write the files"',
        'output step 0 "same step sees FROM_FILE=unset\\n"',
        'console "step summary of Write the files:\\n## Build report\\n- result: 42\\n"',
        'stepEnded 0 success exit 0',
        'stopped function breakpoint at 1 (fn Read the environment) "Paused at a breakpoint before Read the environment"',
        // A console command gets the default variables a step gets (CI among them), as the next step would.
        'output console 1 "LEVEL=job SHARED=from-GITHUB_ENV FROM_FILE=first CI=true\\n"',
        cancelledBy('seen enough'),
      ),
    );
  });

  // A console command gets what the next step would: GITHUB_ENV's values and the PATH entries
  // earlier steps added through GITHUB_PATH (issue 10, item 2; JobRunner.contextFor builds both).
  it('env-files.yml: a console command while paused finds the tools earlier steps put on GITHUB_PATH', async () => {
    const run = await h.pausedBefore(await h.program(envFiles), 'Read the environment');
    const result = await run.console('which-tool');
    await run.runner.cancel('seen enough');
    expect(result).toEqual({ exitCode: 0, cancelled: false });
    expect(run.transcript().join('\n')).toContain(' output console 1 "which-tool from b\\n"');
  });
});
