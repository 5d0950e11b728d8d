// Choosing a workflow job's matrix combination at launch, through the adapter (a real process
// over stdio) and its embedded relay (real bash): a combination that is a subset of another, an
// ambiguous choice whose error shows a choice that works, and matrices GitHub computes at run
// time (`${{ fromJSON(...) }}`), which only the launch argument can name.
import { describe, expect, it } from 'vitest';
import { errorId, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import { ERR } from '../support/errorIds.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();

/** A launch that must fail before anything runs; returns the error response. */
async function failedLaunch(args: Record<string, unknown>) {
  const adapter = await ctx.runJob({ cwd: ctx.workdir, ...args }, { allowLaunchFailure: true });
  const { launch } = adapter;
  expect(launch.success).toBe(false);
  expect(outputByCategory(adapter.client).stdout).toBeUndefined();
  await session.finish(ctx, adapter);
  return launch;
}

/** Runs the job to its end and returns its thread name and stdout. */
async function run(args: Record<string, unknown>) {
  const adapter = await ctx.runJob({ cwd: ctx.workdir, stopOnEntry: false, ...args });
  const { client } = adapter;
  await session.runToEnd(client, 0);
  const threads = await client.request('threads');
  const result = {
    thread: threads.body.threads[0]?.name,
    steps: session.stepResults(client),
    stdout: outputByCategory(client).stdout,
  };
  await session.finish(ctx, adapter);
  return result;
}

/** The launch arguments an error message suggests (`e.g. "matrix": {...} or "matrix": {...}`). */
function suggestedMatrices(message: string): Array<Record<string, unknown>> {
  return Array.from(
    message.matchAll(/"matrix": (\{[^}]*\})/g),
    (match) => JSON.parse(match[1]!) as Record<string, unknown>,
  );
}

describe('the launch `matrix` of a workflow job', () => {
  it('include-matrix.yml: a combination that is a subset of another is selected exactly, as GitHub runs it as its own job', async () => {
    const program = session.workflowFixture('include-matrix.yml');
    // GitHub runs every include entry of a matrix without vectors as its own job: `{python: '3.14'}`
    // is one of them, beside `{name: Oldest deps, python: '3.14', tox: min}`.
    const exact = await run({ program, matrix: { python: '3.14' } });
    expect(exact.thread).toBe('job: Library tests / 3.14');
    expect(exact.stdout).toBe('tox -e py3.14 on ubuntu-latest\n');

    const superset = await run({ program, matrix: { python: '3.14', tox: 'min' } });
    expect(superset.thread).toBe('job: Library tests / Oldest deps');
    expect(superset.stdout).toBe('tox -e min on ubuntu-latest\n');
  });

  it('include-matrix.yml: an ambiguous choice names the keys that tell the combinations apart, and the suggested argument launches', async () => {
    const program = session.workflowFixture('include-matrix.yml');
    const ambiguous = await failedLaunch({ program, matrix: { python: '3.12' } });
    expect(errorId(ambiguous)).toBe(ERR.InvalidJob);
    expect(ambiguous.message).toBe(
      `${program}:11: the matrix combination {"python":"3.12"} matches 2 combinations of job 'tests' ` +
        '(name=Next deps, python=3.12, tox=dev; name=Pinned deps, python=3.12, tox=pinned); ' +
        "add 'name' to tell them apart, " +
        'e.g. "matrix": {"python":"3.12","name":"Next deps"} or "matrix": {"python":"3.12","name":"Pinned deps"}',
    );
    const [first, second] = suggestedMatrices(ambiguous.message ?? '');
    expect((await run({ program, matrix: first })).stdout).toBe('tox -e dev on ubuntu-latest\n');
    expect((await run({ program, matrix: second })).stdout).toBe('tox -e pinned on ubuntu-latest\n');
  });

  it('computed-matrix.yml: `matrix: ${{ fromJSON(needs…) }}` says it is computed at run time on GitHub and shows the launch argument; given one, the job runs', async () => {
    const program = session.workflowFixture('computed-matrix.yml');
    const refused = await failedLaunch({ program, job: 'build' });
    expect(errorId(refused)).toBe(ERR.InvalidJob);
    // The example names the key the job reads (`matrix.target`).
    expect(refused.message).toBe(
      `${program}:17: the matrix of job 'build' is computed at run time on GitHub ` +
        '(${{ fromJSON(needs.plan.outputs.targets) }}), so relay-dap cannot list its combinations: ' +
        'give the combination to debug with the launch argument "matrix", e.g. "matrix": {"target":"…"}',
    );
    // `build` needs `plan`: its outputs are given, so only `build` runs (workflowNeeds.test.ts
    // runs needed jobs first).
    const plan = { plan: { outputs: { targets: '{"target":["aarch64-linux"]}' } } };
    const given = await run({ program, job: 'build', matrix: { target: 'aarch64-linux' }, needs: plan });
    expect(given.thread).toBe('job: Release builds / build (aarch64-linux)');
    expect(given.stdout).toBe('building for aarch64-linux\n');
  });

  it('computed-matrix.yml: `include: ${{ fromJSON(vars…) }}` says the same, with the written vector in the example; given one, the job runs', async () => {
    const program = session.workflowFixture('computed-matrix.yml');
    const refused = await failedLaunch({ program, job: 'package' });
    expect(errorId(refused)).toBe(ERR.InvalidJob);
    expect(refused.message).toBe(
      `${program}:23: matrix 'include' of job 'package' is computed at run time on GitHub ` +
        '(${{ fromJSON(vars.EXTRA_PACKAGES) }}), so relay-dap cannot list its combinations: ' +
        'give the combination to debug with the launch argument "matrix", e.g. "matrix": {"os":"ubuntu-latest","format":"…"}',
    );
    const given = await run({ program, job: 'package', matrix: { os: 'ubuntu-latest', format: 'deb' } });
    expect(given.stdout).toBe('packaging deb on ubuntu-latest\n');
  });
});
