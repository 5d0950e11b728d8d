// Breakpoints in job files and workflows, end to end through the adapter (a real process over
// stdio) and its embedded relay (real bash): line breakpoints verified on a step's lines (moved to
// its first line) and unverified elsewhere with a reason; changed while the job runs; conditions
// over the contexts of `if:`; hit conditions; log points that print without pausing; function
// breakpoints by step name or id; and breakpoints set before the job is loaded.
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_CAPS, EVENT_TIMEOUT_MS, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();

const release = session.jobFixture('release.yml');
/** First lines of the steps of release.yml. */
const RELEASE = {
  checkOut: session.lineOf(release, '- name: Check out'),
  build: session.lineOf(release, '- name: Build'),
  test: session.lineOf(release, '- name: Test'),
  publish: session.lineOf(release, '- name: Publish'),
};

async function setLineBreakpoints(
  client: DapClient,
  file: string,
  breakpoints: DebugProtocol.SourceBreakpoint[],
): Promise<DebugProtocol.Breakpoint[]> {
  const response = await client.request('setBreakpoints', {
    source: { name: path.basename(file), path: file },
    breakpoints,
  });
  expect(response.success, response.message).toBe(true);
  expect(response.body.breakpoints).toHaveLength(breakpoints.length);
  return response.body.breakpoints;
}

/** Continue, then the next stop must be a breakpoint at `line` hitting exactly `ids`. */
async function continueToBreakpoint(...stop: Parameters<typeof expectBreakpointStop>): Promise<void> {
  await session.continueJob(stop[0]);
  await expectBreakpointStop(...stop);
}

async function expectBreakpointStop(
  client: DapClient,
  line: number,
  ids: (number | undefined)[],
  reason = 'breakpoint',
): Promise<void> {
  const stop = await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
  expect(stop.body.reason).toBe(reason);
  expect(stop.body.hitBreakpointIds).toEqual(ids);
  const [top] = await session.frames(client);
  expect(top!.line).toBe(line);
  expect(top!.name).toMatch(/^next: /);
}

function lineText(file: string, line: number): string {
  return fs.readFileSync(file, 'utf8').split('\n')[line - 1]!;
}

describe('breakpoints', () => {
  it('line breakpoints: on a step’s first line verified there, inside a step moved to its first line, elsewhere unverified with the reason; they pause before their step', async () => {
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      program: release,
      cwd: ctx.workdir,
    });

    const insideTest = session.lineOf(release, 'test -f build.out');
    const comment = session.lineOf(release, '# The tests read');
    const states = await setLineBreakpoints(client, release, [
      { line: RELEASE.build },
      { line: insideTest },
      { line: session.lineOf(release, 'name: Release') },
      { line: comment },
      { line: RELEASE.publish - 1 },
    ]);
    const starts = `steps start at lines ${RELEASE.checkOut}, ${RELEASE.build}, ${RELEASE.test}, ${RELEASE.publish}`;
    const source = { name: 'release.yml', path: release };
    expect(states.map(({ id: _id, ...rest }) => rest)).toEqual([
      { verified: true, line: RELEASE.build, source },
      { verified: true, line: RELEASE.test, source },
      {
        verified: false,
        line: 2,
        message: `line 2 is not inside a step (${starts})`,
        source,
      },
      { verified: false, line: comment, message: `line ${comment} is not inside a step (${starts})`, source },
      {
        verified: false,
        line: RELEASE.publish - 1,
        message: `line ${RELEASE.publish - 1} is not inside a step (${starts})`,
        source,
      },
    ]);
    expect(lineText(release, RELEASE.test).trim()).toBe('- name: Test');
    expect(new Set(states.map((s) => s.id)).size).toBe(states.length);

    // A breakpoint in a file that is not the job's is unverified, and says why.
    const elsewhere = path.join(ctx.workdir, 'deploy.sh');
    const other = await setLineBreakpoints(client, elsewhere, [{ line: 1 }]);
    expect(other[0]).toMatchObject({ verified: false });
    expect(other[0]!.message).toContain("not in the job's source");

    await continueToBreakpoint(client, RELEASE.build, [states[0]!.id]);
    await continueToBreakpoint(client, RELEASE.test, [states[1]!.id]);
    expect(await session.continueToEnd(client, 0)).toEqual([
      '✓ Check out: exit 0, T s',
      '✓ Build: exit 0, T s',
      '✓ Test: exit 0, T s',
      '✓ Publish: exit 0, T s',
    ]);
    expect(session.stopReasons(client)).toEqual(['entry', 'breakpoint', 'breakpoint']);
    await session.finishWith(ctx, adapter, {
      stdout: 'checking out\nbuilding for beta\ntests passed\npublishing to beta\n',
    });
  });

  it('breakpoints changed while a step runs take effect at the next step boundary: added ones pause, removed ones do not', async () => {
    const { adapter, client, program } = await session.runMarkedCopy(ctx, 'breakpoints/changing.yml');
    await session.printed(client, 'waiting\n');

    // While `Waits` runs: breakpoints on Third and Fourth.
    const third = session.lineOf(program, '- name: Third');
    const fourth = session.lineOf(program, '- name: Fourth');
    const added = await setLineBreakpoints(client, program, [{ line: third }, { line: fourth + 1 }]);
    expect(added.map((b) => [b.verified, b.line])).toEqual([
      [true, third],
      [true, fourth],
    ]);
    fs.writeFileSync(path.join(ctx.workdir, 'go'), '');
    await expectBreakpointStop(client, third, [added[0]!.id]);

    // Paused at Third: remove Fourth's breakpoint; the job then runs to its end.
    const kept = await setLineBreakpoints(client, program, []);
    expect(kept).toEqual([]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    expect(session.stopReasons(client)).toEqual(['breakpoint']);
    await session.finishWith(ctx, adapter, { stdout: 'waiting\nsecond\nthird\nfourth\n' });
  });

  it('conditions are expressions over the contexts of `if:` (env incl. GITHUB_ENV, steps.*.outputs), with or without ${{ }}; one that does not parse is unverified', async () => {
    const program = session.workflowFixture('data-passing.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    const readBack = session.lineOf(program, '- name: Read them back');
    const addTool = session.lineOf(program, '- name: Add a tool directory');
    const useTool = session.lineOf(program, '- name: Use the tool');
    const useOutput = session.lineOf(program, '- name: Use an output');
    const states = await setLineBreakpoints(client, program, [
      { line: readBack, condition: "steps.produce.outputs.version == '1.2.3'" },
      { line: addTool, condition: "env.GREETING == 'something else'" },
      { line: useTool, condition: 'env.GREETING ==' },
      {
        line: useOutput,
        condition: "${{ startsWith(env.GREETING, 'hello') && steps.produce.outcome == 'success' }}",
      },
    ]);
    expect(states.map((s) => s.verified)).toEqual([true, true, false, true]);
    expect(states[2]!.message).toContain('the condition does not parse');
    expect(states[2]!.line).toBe(useTool);
    await continueToBreakpoint(client, readBack, [states[0]!.id]);
    await continueToBreakpoint(client, useOutput, [states[3]!.id]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    expect(session.stopReasons(client)).toEqual(['entry', 'breakpoint', 'breakpoint']);
    await session.finish(ctx, adapter);
  });

  it('hitCondition: `2` pauses the second time the step is reached (after a goto back), not the first; one that is not a count is unverified', async () => {
    const program = session.copyToWorkdir(ctx, session.jobFixture('breakpoints/hits.yml'));
    const [a, b, c] = ['- name: A', '- name: B', '- name: C'].map((text) =>
      session.lineOf(program, text),
    ) as [number, number, number];
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    const states = await setLineBreakpoints(client, program, [
      { line: b, hitCondition: '2' },
      { line: c },
      { line: a, hitCondition: 'often' },
    ]);
    expect(states.map((s) => s.verified)).toEqual([true, true, false]);
    expect(states[2]!.message).toContain('the hit condition "often" is not one of');

    // First pass: B is reached once (no pause), C pauses.
    await continueToBreakpoint(client, c, [states[1]!.id]);
    // Back to A: it runs again, and B is reached a second time.
    const targets = await client.request('gotoTargets', { source: { path: program }, line: a });
    expect(targets.body.targets).toHaveLength(1);
    expect(
      (await client.request('goto', { threadId: 1, targetId: targets.body.targets[0]!.id })).success,
    ).toBe(true);
    await session.stoppedAt(client, 'goto');
    await continueToBreakpoint(client, b, [states[0]!.id]);
    await continueToBreakpoint(client, c, [states[1]!.id]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    expect(session.stopReasons(client)).toEqual(['entry', 'breakpoint', 'goto', 'breakpoint', 'breakpoint']);
    // Paused before C the first time, so C ran once, after the second B.
    await session.finishWith(ctx, adapter, { stdout: 'A\nB\nA\nB\nC\n' });
  });

  it('log points print their message with {expressions} interpolated, before their step, without pausing', async () => {
    const program = session.workflowFixture('data-passing.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    const states = await setLineBreakpoints(client, program, [
      {
        line: session.lineOf(program, '- name: Read them back'),
        logMessage:
          'version={steps.produce.outputs.version} greeting={env.GREETING} outcome={steps.produce.outcome}',
      },
      {
        line: session.lineOf(program, '- name: Use the tool'),
        logMessage: 'not logged: its condition is false',
        condition: "env.GREETING == 'bye'",
      },
      { line: session.lineOf(program, '- name: Use an output'), logMessage: 'broken {nope.x} stays visible' },
    ]);
    expect(states.map((s) => s.verified)).toEqual([true, true, true]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    // No pause but the entry.
    expect(session.stopReasons(client)).toEqual(['entry']);
    const console = client.output('console').split('\n');
    const logged = 'version=1.2.3 greeting=hello from step one outcome=success';
    expect(console).toContain(logged);
    // Printed before the step it sits on starts.
    expect(console.indexOf(logged)).toBeGreaterThan(console.indexOf('▶ step 1/5: Produce env and outputs'));
    expect(console.indexOf(logged)).toBeLessThan(console.indexOf('▶ step 2/5: Read them back'));
    expect(client.output('console')).not.toContain('not logged');
    // An expression that cannot be evaluated is shown as such, not silently dropped.
    const broken = console.find((line) => line.startsWith('broken '));
    expect(broken).toMatch(/^broken \{nope\.x: .+\} stays visible$/);
    await session.finish(ctx, adapter);
  });

  it('function breakpoints by step name and by step id pause before that step; an unknown one is unverified and lists the steps', async () => {
    const program = session.workflowFixture('failure-handling.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    const response = await client.request('setFunctionBreakpoints', {
      breakpoints: [{ name: 'Runs after the tolerated failure' }, { name: 'broken' }, { name: 'deploy' }],
    });
    expect(response.success).toBe(true);
    const [byName, byId, unknown] = response.body.breakpoints;
    const realFailure = session.lineOf(program, '- name: Real failure');
    expect(byName).toMatchObject({
      verified: true,
      line: session.lineOf(program, '- name: Runs after the tolerated'),
    });
    expect(byId).toMatchObject({ verified: true, line: realFailure });
    expect(unknown).toMatchObject({ verified: false });
    expect(unknown!.message).toContain('no step is named or has the id "deploy"');
    expect(unknown!.message).toContain('tolerated, Runs after the tolerated failure, broken');

    await continueToBreakpoint(
      client,
      session.lineOf(program, '- name: Runs after the tolerated'),
      [byName!.id],
      'function breakpoint',
    );
    await continueToBreakpoint(client, realFailure, [byId!.id], 'function breakpoint');
    // Paused before it: it has not run yet.
    expect(session.stepResults(client)).toHaveLength(2);
    await session.continueJob(client);
    await session.stoppedAt(client, 'exception');
    await session.continueJob(client);
    await session.finishWith(ctx, adapter, {
      exitCode: 3,
      stops: ['entry', 'function breakpoint', 'function breakpoint', 'exception'],
    });
  });

  it('breakpoints set before launch are answered unverified, then verified (or not, with the reason) by `breakpoint` events with the same ids, and hit', async () => {
    const adapter = await ctx.spawnInitialized(DEFAULT_CLIENT_CAPS);
    const { client } = adapter;

    const early = await setLineBreakpoints(client, release, [
      { line: RELEASE.build },
      { line: session.lineOf(release, 'echo "tests passed"') },
      { line: 1 },
    ]);
    const functions = await client.request('setFunctionBreakpoints', { breakpoints: [{ name: 'Publish' }] });
    for (const state of [...early, ...functions.body.breakpoints]) {
      expect(state).toMatchObject({ verified: false, message: 'verified once the job is loaded' });
    }
    const ids = [...early, ...functions.body.breakpoints].map((b) => b.id!);
    expect(new Set(ids).size).toBe(4);

    const launching = client.request('launch', { program: release, cwd: ctx.workdir, stopOnEntry: false });
    const done = await client.request('configurationDone');
    expect(done.success).toBe(true);
    expect((await launching).success).toBe(true);

    const changed = await Promise.all(
      ids.map((id) =>
        client.waitForEvent('breakpoint', (e) => e.body.breakpoint.id === id, EVENT_TIMEOUT_MS),
      ),
    );
    expect(changed.map((e) => e.body.reason)).toEqual(['changed', 'changed', 'changed', 'changed']);
    expect(changed.map((e) => [e.body.breakpoint.verified, e.body.breakpoint.line])).toEqual([
      [true, RELEASE.build],
      [true, RELEASE.test],
      [false, 1],
      [true, RELEASE.publish],
    ]);
    expect(changed[2]!.body.breakpoint.message).toContain('line 1 is not inside a step');

    await expectBreakpointStop(client, RELEASE.build, [ids[0]]);
    await continueToBreakpoint(client, RELEASE.test, [ids[1]]);
    await continueToBreakpoint(client, RELEASE.publish, [ids[3]], 'function breakpoint');
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('stopOnEntry with a breakpoint and a log point on the first step: one stop, reason `breakpoint` naming it (not `entry`), after the log point printed', async () => {
    const adapter = await ctx.spawnInitialized(DEFAULT_CLIENT_CAPS);
    const { client } = adapter;
    const launching = client.request('launch', { program: release, cwd: ctx.workdir, stopOnEntry: true });
    // Both lines are the first step's: the log point on its name, the breakpoint on its run line;
    // `== 1` holds only if reaching the step on entry counts as the breakpoint's first hit.
    const [logPoint, breakpoint] = await setLineBreakpoints(client, release, [
      { line: RELEASE.checkOut, logMessage: 'reached {env.CHANNEL}' },
      { line: session.lineOf(release, 'echo "checking out"'), hitCondition: '== 1' },
    ]);
    expect((await client.request('configurationDone')).success).toBe(true);
    expect((await launching).success).toBe(true);
    await Promise.all(
      [logPoint!.id, breakpoint!.id].map((id) =>
        client.waitForEvent(
          'breakpoint',
          (e) => e.body.breakpoint.id === id && e.body.breakpoint.verified,
          EVENT_TIMEOUT_MS,
        ),
      ),
    );

    await expectBreakpointStop(client, RELEASE.checkOut, [breakpoint!.id]);
    expect(client.output('console').split('\n')).toContain('reached beta');
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    expect(session.stopReasons(client)).toEqual(['breakpoint']);
    expect(
      client
        .output('console')
        .split('\n')
        .filter((line) => line === 'reached beta'),
    ).toHaveLength(1);
    await session.finish(ctx, adapter);
  });

  it('breakpoints set before launch in two files (as an editor sends one setBreakpoints per file): the job file’s still count, the other file’s are told they are not in the job', async () => {
    const adapter = await ctx.spawnInitialized(DEFAULT_CLIENT_CAPS);
    const { client } = adapter;
    const [inJob] = await setLineBreakpoints(client, release, [{ line: RELEASE.test }]);
    const elsewhere = path.join(ctx.workdir, 'notes.sh');
    const [inOther] = await setLineBreakpoints(client, elsewhere, [{ line: 3 }]);

    const launching = client.request('launch', { program: release, cwd: ctx.workdir });
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    await session.stoppedAt(client, 'entry');
    // The job is loaded and paused before its first step: what the early breakpoints became has
    // been told by now.
    const told = (id: number | undefined) =>
      client.transcript
        .filter(({ direction, message }) => direction === 'received' && message.type === 'event')
        .map(({ message }) => message as DebugProtocol.Event)
        .filter((e): e is DebugProtocol.BreakpointEvent => e.event === 'breakpoint')
        .filter((e) => e.body.breakpoint.id === id)
        .map((e) => e.body.breakpoint);
    expect(told(inJob!.id)).toEqual([expect.objectContaining({ verified: true, line: RELEASE.test })]);
    const other = told(inOther!.id);
    expect(other).toHaveLength(1);
    expect(other[0]!.verified).toBe(false);
    expect(other[0]!.message).not.toBe('verified once the job is loaded');
    await continueToBreakpoint(client, RELEASE.test, [inJob!.id]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    await session.finish(ctx, adapter);
  });
});
