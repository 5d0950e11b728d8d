// GitHub Actions workflows run end to end through the adapter (a real process over stdio) and
// its embedded relay (real bash): each fixture in test/fixtures/workflows and a Node project's
// CI in test/fixtures/projects. The assertions are exact step outcomes, output, and how env and
// outputs flow between steps; each says which behaviour of GitHub's hosted runner it mirrors.
// Every launch passes `cwd` (a per-test temporary directory), so nothing runs in the repository.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  errorId,
  outputByCategory,
  type AdapterContext,
  useAdapterContext,
} from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { ERR } from '../support/errorIds.js';
import { repoRoot } from '../support/relayHarness.js';

const ctx = useAdapterContext();

/** A session running `program` without pausing on entry; the `failed` filter stays on (the default). */
async function runWorkflow(program: string, extra: Record<string, unknown> = {}) {
  return ctx.runJob({ ...session.pastEntry(ctx, program), ...extra });
}

async function threadName(adapter: ReturnType<AdapterContext['spawnStdio']>): Promise<string> {
  const threads = await adapter.client.request('threads');
  expect(threads.body.threads).toHaveLength(1);
  return threads.body.threads[0]!.name;
}

/**
 * A launch that must fail (each gets its own adapter, ended here); returns the error response.
 * Nothing may have run: no step output, no `stopped`, no `exited`.
 */
async function failedLaunch(args: Record<string, unknown>) {
  const adapter = await ctx.runJob({ cwd: ctx.workdir, ...args }, { allowLaunchFailure: true });
  const { client, launch } = adapter;
  expect(launch.success).toBe(false);
  expect(outputByCategory(client).stdout).toBeUndefined();
  expect(client.transcriptSummary().filter((line) => /event (stopped|exited)/.test(line))).toEqual([]);
  await session.finish(ctx, adapter);
  return launch;
}

const NOT_RUN = 'runs an action, which relay-dap does not run';

describe('workflows end to end', () => {
  it('node-ci.yml: uses: steps are skipped with a console line; job env over workflow env; step env; default step names', async () => {
    const program = session.workflowFixture('node-ci.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    // The runner names a job `<workflow name> / <job name>`.
    expect(await threadName(adapter)).toBe('job: Node CI / Test');
    const [entry] = await session.frames(client);
    expect(entry).toMatchObject({
      name: 'next: Run actions/checkout@v4',
      line: session.lineOf(program, '- uses: actions/checkout@v4'),
      source: { name: 'node-ci.yml', path: program },
    });
    await session.continueToFinish(ctx, adapter, {
      exitCode: 0,
      steps: [
        // A step without `name:` is called "Run <action>" / "Run <first line of run>", as on GitHub.
        `– Run actions/checkout@v4: skipped (\`uses: actions/checkout@v4\` ${NOT_RUN})`,
        `– Set up Node.js: skipped (\`uses: actions/setup-node@v4\` ${NOT_RUN})`,
        '✓ Install dependencies: exit 0, T s',
        '✓ Run tests: exit 0, T s',
        '✓ Run echo "npm run lint (stand-in)": exit 0, T s',
      ],
      // Job-level env overrides workflow-level env (NODE_ENV: ci, not test); a step's own env is
      // added for that step (FORCE_COLOR), and YAML numbers arrive as their text ("0").
      stdout: 'npm ci (stand-in)\nnpm test (stand-in)\nNODE_ENV=ci FORCE_COLOR=0\nnpm run lint (stand-in)\n',
      stops: ['entry'],
    });
  });

  it('a Node project’s CI (copied into the workspace, as actions/checkout would): real `node --test`, `job` chosen, a partial `matrix` completed, working-directory from the matrix, a step summary', async () => {
    const repo = path.join(ctx.workdir, 'repo');
    fs.cpSync(path.join(repoRoot, 'test', 'fixtures', 'projects', 'node-app'), repo, { recursive: true });
    const program = path.join(repo, '.github', 'workflows', 'ci.yml');

    // `test` needs `lint`: the launch gives lint's result, so only `test` runs (without it, lint
    // would run first, as its own thread; a launch without `job` runs both: workflowNeeds.test.ts).
    const adapter = await runWorkflow(program, {
      cwd: repo,
      job: 'test',
      needs: { lint: { result: 'success' } },
      // One value identifies one combination; `package` comes from the file.
      matrix: { 'node-version': '20.x' },
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    // The `node` the steps found on PATH (not necessarily the one running these tests).
    const nodeVersion = execFileSync('node', ['--version'], { env: ctx.env, encoding: 'utf8' }).trim();
    expect(await threadName(adapter)).toBe('job: Node app CI / test (20.x, app)');
    expect(session.stepResults(client)).toEqual([
      `– Run actions/checkout@v4: skipped (\`uses: actions/checkout@v4\` ${NOT_RUN})`,
      // `${{ matrix.* }}` in a step name is evaluated, as GitHub shows it.
      `– Use Node.js 20.x: skipped (\`uses: actions/setup-node@v4\` ${NOT_RUN})`,
      '✓ Record the Node version: exit 0, T s',
      '✓ Unit tests: exit 0, T s',
      '✓ Test summary: exit 0, T s',
    ]);
    const stdout = outputByCategory(client).stdout ?? '';
    // defaults.run.working-directory (`${{ matrix.package }}` = app) is where `node --test` found the tests.
    expect(stdout).toMatch(/✔ adds numbers/);
    expect(stdout).toMatch(/✔ the sum of nothing is 0/);
    expect(stdout).toMatch(/ℹ pass 2\n/);
    expect(stdout).toMatch(/ℹ fail 0\n/);
    // GITHUB_STEP_SUMMARY is shown once the step ends; its `${{ steps.*.outputs }}` came from
    // GITHUB_OUTPUT of an earlier step.
    expect(client.output('console')).toContain(
      `step summary of Test summary:\n### Unit tests: success\nNode ${nodeVersion}, package app\n`,
    );
    await session.finish(ctx, adapter);
  });

  it('python-matrix.yml: the launch `matrix` chooses the combination; without one, or with an ambiguous one, launch says how', async () => {
    const program = session.workflowFixture('python-matrix.yml');
    const none = await failedLaunch({ program });
    expect(errorId(none)).toBe(ERR.InvalidJob);
    // The runner would start 2 × 3 jobs; a debugging session runs one and says how to pick it.
    expect(none.message).toContain(`${program}:`);
    expect(none.message).toContain('6 combinations over os, python-version');
    expect(none.message).toContain('"matrix": {"os":"ubuntu-latest","python-version":"3.10"}');

    const ambiguous = await failedLaunch({ program, matrix: { 'python-version': '3.10' } });
    expect(ambiguous.message).toContain('matches 2 combinations');

    const adapter = await runWorkflow(program, {
      matrix: { os: 'ubuntu-22.04', 'python-version': '3.12' },
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    // The job's name gets its matrix values appended, as GitHub does.
    expect(await threadName(adapter)).toBe('job: Python package / test (ubuntu-22.04, 3.12)');
    expect(session.stepResults(client)).toEqual([
      `– Run actions/checkout@v4: skipped (\`uses: actions/checkout@v4\` ${NOT_RUN})`,
      `– Set up Python 3.12: skipped (\`uses: actions/setup-python@v5\` ${NOT_RUN})`,
      '✓ Install dependencies: exit 0, T s',
      '✓ Test with pytest on ubuntu-22.04: exit 0, T s',
    ]);
    // `${{ matrix.* }}` substituted in run; the quoted '3.10'-style versions stay strings.
    await session.finishWith(ctx, adapter, {
      stdout:
        'python -m pip install --upgrade pip (stand-in)\n' +
        'pip install -r requirements.txt (stand-in)\n' +
        'pytest (stand-in) for Python 3.12 on ubuntu-22.04\n',
    });
  });

  it('data-passing.yml: GITHUB_ENV, GITHUB_OUTPUT (with a heredoc) and GITHUB_PATH carry into later steps', async () => {
    const program = session.workflowFixture('data-passing.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    await session.nextStep(client);
    // After the step that wrote GITHUB_ENV, the job's environment has the value, as the runner's
    // env context does for every later step.
    const watch = await client.request('evaluate', { expression: 'env.GREETING', context: 'watch' });
    expect(watch.body.result).toBe('hello from step one');
    expect(await session.continueToEnd(client, 0)).toEqual([
      '✓ Produce env and outputs: exit 0, T s',
      '✓ Read them back: exit 0, T s',
      '✓ Add a tool directory to PATH: exit 0, T s',
      '✓ Use the tool: exit 0, T s',
      '✓ Use an output in the script: exit 0, T s',
    ]);
    expect(outputByCategory(client).stdout).toBe(
      // `test` lines passed: GITHUB_ENV and both outputs (the heredoc one with its two lines,
      // without the final newline, as the runner's parser gives it) reached step 2.
      'first line\nsecond line\n' +
        // GITHUB_PATH: the directory is in PATH for the steps after the one that added it.
        'hello-tool ran\n' +
        // `if:` and `${{ }}` in run both read steps.<id>.outputs.
        'version is 1.2.3\n',
    );
    // The step made its tool directory in the workspace (launch `cwd`), not next to the workflow.
    expect(fs.existsSync(path.join(ctx.workdir, '.fixture-tools', 'hello-tool'))).toBe(true);
    expect(fs.existsSync(path.join(repoRoot, '.fixture-tools'))).toBe(false);
    expect(fs.existsSync(path.join(repoRoot, 'test', 'fixtures', '.fixture-tools'))).toBe(false);
    await session.finish(ctx, adapter);
  });

  it('a console `!CMD` while paused sees what the next step would: GITHUB_ENV values and GITHUB_PATH directories of the steps before', async () => {
    const program = session.workflowFixture('data-passing.yml');
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', { program, cwd: ctx.workdir });
    for (let step = 0; step < 3; step++) {
      await session.nextStep(client);
    }
    expect(session.frameNames(await session.frames(client))[0]).toBe('next: Use the tool');
    // The step about to run calls hello-tool, found through the GITHUB_PATH entry step 3 wrote;
    // a command typed now must find it the same way, and see step 1's GITHUB_ENV value.
    expect(
      await session.consoleResult(
        client,
        '!hello-tool && echo "GREETING=$GREETING" && printf \'%s\\n\' "${PATH%%:*}"',
      ),
    ).toBe('exit 0');
    await session.continueToFinish(ctx, adapter, {
      exitCode: 0,
      stdout:
        'first line\nsecond line\n' +
        // The console command: the tool ran, the env value is there, and the step's directory
        // comes first in PATH, as it does for the step.
        `hello-tool ran\nGREETING=hello from step one\n${path.join(ctx.workdir, '.fixture-tools')}\n` +
        'hello-tool ran\n' +
        'version is 1.2.3\n',
    });
  });

  it.skipIf(!session.hasPython())(
    'env-files.yml: precedence of GITHUB_ENV, job, workflow and step env; the writing step does not see its own GITHUB_ENV; GITHUB_PATH order; step summary; a python step’s output' +
      (session.hasPython() ? '' : ' (skipped: needs python or python3 on PATH)'),
    async () => {
      const { adapter, client, results } = await session.workflowToEnd(ctx, 'env-files.yml', 0);
      expect(results).toEqual([
        '✓ Write the files: exit 0, T s',
        '✓ Read the environment: exit 0, T s',
        '✓ Step env wins: exit 0, T s',
        '✓ Python writes an output: exit 0, T s',
        '✓ Overwrite a value: exit 0, T s',
        '✓ See the new value: exit 0, T s',
      ]);
      expect(outputByCategory(client).stdout).toBe(
        [
          // "The step that creates or updates the environment variable does not have access to the new value."
          'same step sees FROM_FILE=unset',
          // Job env beats workflow env; GITHUB_ENV beats both for later steps.
          'LEVEL=job SHARED=from-GITHUB_ENV FROM_FILE=first',
          // A NAME<<DELIMITER block gives a multi-line value.
          'MULTI=line one',
          'line two',
          // GITHUB_PATH prepends: the directory added last is searched first.
          'which-tool from b',
          // A step's own env beats GITHUB_ENV; outputs reach env via ${{ }}; CI=true as on a runner.
          'SHARED=from-step RESULT=42 CI=true',
          // GITHUB_ENV written again overrides the earlier value; `if:` compares '42' == 42 loosely.
          'FROM_FILE=second answer=42',
          '',
        ].join('\n'),
      );
      // GITHUB_STEP_SUMMARY: the runner shows it on the job's summary page; here, on the console.
      expect(client.output('console')).toContain(
        'step summary of Write the files:\n## Build report\n- result: 42\n',
      );
      await session.finish(ctx, adapter);
    },
  );

  it('failure-handling.yml: continue-on-error, a failed-step pause at its line, then success()/failure()/always() decide the rest; the job fails with the step’s code', async () => {
    const program = session.workflowFixture('failure-handling.yml');
    const adapter = await runWorkflow(program);
    const { client } = adapter;
    const stop = await session.stoppedAt(client, 'exception');
    expect(stop.body.description).toBe('Real failure failed with exit code 3');
    const stack = await session.frames(client);
    expect(session.frameNames(stack)).toEqual([
      '✗ Real failure: failed, exit 3, T s',
      '✓ Runs after the tolerated failure: exit 0, T s',
      '✗ Tolerated failure: failed (continue-on-error), exit 1, T s',
    ]);
    expect(stack.map((f) => f.line)).toEqual([
      session.lineOf(program, '- name: Real failure'),
      session.lineOf(program, '- name: Runs after the tolerated failure'),
      session.lineOf(program, '- name: Tolerated failure'),
    ]);
    // A failed step fails the job, whatever runs after it.
    await session.continueToFinish(ctx, adapter, {
      exitCode: 3,
      steps: [
        '✗ Tolerated failure: failed (continue-on-error), exit 1, T s',
        '✓ Runs after the tolerated failure: exit 0, T s',
        '✗ Real failure: failed, exit 3, T s',
        // A step without `if:` has an implicit `success()`: skipped once the job has failed.
        '– Skipped because the job failed: skipped (if: success() is false)',
        // `failure()` and `always()` steps still run.
        '✓ Report the failure: exit 0, T s',
        '✓ Clean up: exit 0, T s',
      ],
      stdout:
        'this step fails but the job goes on\n' +
        // continue-on-error: outcome is failure, conclusion is success.
        'outcome=failure conclusion=success\n' +
        'step broken ended with failure\n' +
        'cleaning up\n',
      stops: ['exception'],
    });
  });

  it('conditions.yml: if: over env, matrix and steps; defaults.run (shell, working-directory) and step overrides; python and custom shells', async () => {
    const adapter = await runWorkflow(session.workflowFixture('conditions.yml'));
    const { client } = adapter;
    await session.runToEnd(client, 0);
    expect(await threadName(adapter)).toBe('job: Conditions and defaults / conditional (minimal, false)');
    const python = session.hasPython();
    expect(session.stepResults(client)).toEqual([
      '✓ Show where we are: exit 0, T s',
      // env.DEPLOY from workflow env.
      '✓ Deploy when DEPLOY is yes: exit 0, T s',
      // The one matrix combination has flavor minimal.
      "– Only for the full flavor: skipped (if: ${{ matrix.flavor == 'full' }} is false)",
      // steps.locate.outcome and `!` over a boolean matrix value.
      '✓ After a successful first step: exit 0, T s',
      python ? '✓ Python step: exit 0, T s' : '✗ Python step: failed (continue-on-error), exit 127, T s',
      '✓ Custom shell template: exit 0, T s',
    ]);
    await session.finishWith(ctx, adapter, {
      // Workflow defaults.run.working-directory applies to every run step…
      stdout:
        'running in /tmp\n' +
        'deploying\n' +
        // …unless the step has its own working-directory.
        'first step succeeded; now in /\n' +
        (python ? 'python says hello from /tmp\n' : '') +
        // `${{ matrix.flavor }}` in the script of a custom `sh -eu {0}` shell.
        'custom shell for the minimal flavor\n',
    });
  });

  it('timeouts.yml: a step over its timeout-minutes fails (tolerated here); a job over its timeout-minutes is cancelled, and then only cancelled()/always() steps run', async () => {
    const { adapter, results } = await session.workflowToEnd(ctx, 'timeouts.yml', 130);
    // The job was cancelled (exit 130, as a cancelled relay command), not failed.
    expect(results).toEqual([
      '✗ Step over its own timeout: timed out (continue-on-error), exit 124, T s',
      '✓ Sees the timed-out step: exit 0, T s',
      "✗ Runs past the job's timeout: cancelled, exit 130, T s",
      // After a cancel, a step with the implicit success() is skipped…
      '– Skipped once the job is cancelled: skipped (if: success() is false)',
      // …and cancelled() and always() steps run, as on a runner whose job hit timeout-minutes.
      '✓ Clean up after a cancel: exit 0, T s',
      '✓ Always runs: exit 0, T s',
    ]);
    await session.finishWith(ctx, adapter, {
      stdout:
        'hanging\n[cancelled]\n' +
        // A timed-out step's outcome is failure; continue-on-error makes its conclusion success.
        'outcome=failure conclusion=success\n' +
        'still going\n[cancelled]\n' +
        'cleaning up after the cancel\n' +
        'always runs\n',
    });
  });

  it('shells.yml: the default shell is `bash -e` (no pipefail), `shell: bash` adds pipefail, and a custom {0} template runs the script', async () => {
    // No failure pauses: should a step fail the job, it ends at once and the outcomes show which.
    const { adapter, results } = await session.workflowToEnd(ctx, 'shells.yml', 0, { filters: [] });
    expect(results).toEqual([
      '✓ Default shell has no pipefail: exit 0, T s',
      '✗ Explicit bash uses pipefail: failed (continue-on-error), exit 1, T s',
      '✗ Default shell stops at the first failing command: failed (continue-on-error), exit 1, T s',
      '✓ Custom template: exit 0, T s',
    ]);
    await session.finishWith(ctx, adapter, {
      stdout:
        "default shell: the pipeline's status is its last command's\n" +
        'before\n' +
        // outcome is failure, conclusion success, for a continue-on-error step.
        'custom template ran failure/success\n',
    });
  });

  it.each([
    [
      'an unavailable context in if:',
      ['      - name: Deploy', '        if: strategy.job-index == 0', '        run: echo deploy'],
      'if: strategy.job-index == 0',
      'strategy.job-index',
    ],
    [
      'an unavailable context in a step env',
      [
        '      - name: Publish',
        '        env:',
        '          SHARD: ${{ strategy.job-index }}',
        '        run: echo x',
      ],
      'SHARD: ${{ strategy.job-index }}',
      'strategy.job-index',
    ],
    [
      'a syntax error in run',
      ['      - name: Broken', '        run: |', '          echo one', '          echo ${{ env.A == }}'],
      'echo ${{ env.A == }}',
      'env.A ==',
    ],
    [
      'an unknown function in working-directory',
      ['      - name: Odd', '        working-directory: ${{ toUpper(env.A) }}', '        run: pwd'],
      'working-directory: ${{ toUpper(env.A) }}',
      'toUpper(env.A)',
    ],
  ])(
    'launch refuses %s, naming the expression and its line',
    async (_title, stepLines, lineText, expression) => {
      const program = session.writeFile(
        ctx.workdir,
        'bad.yml',
        [
          'name: Bad expressions',
          'on: push',
          'jobs:',
          '  build:',
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - run: echo first',
          ...stepLines,
          '',
        ].join('\n'),
      );
      const launch = await failedLaunch({ program });
      expect(errorId(launch)).toBe(ERR.InvalidJob);
      expect(launch.message).toContain(`${program}:${session.lineOf(program, lineText)}:`);
      expect(launch.message).toContain(expression);
    },
  );

  it('an expression that fails only when evaluated (fromJSON of bad JSON) fails its step with a console line naming it and its line; no silent guess', async () => {
    const program = session.copyToWorkdir(ctx, session.workflowFixture('runtime.yml'));
    const adapter = await runWorkflow(program);
    const { client } = adapter;
    const stop = await session.stoppedAt(client, 'exception');
    expect(stop.body.description).toMatch(/^Reads settings failed/);
    const complaint = session.consoleLines(client).find((line) => line.includes('fromJSON'));
    expect(complaint).toBeDefined();
    expect(complaint).toContain(`${program}:${session.lineOf(program, 'fromJSON(env.SETTINGS)')}:`);
    expect(complaint).toContain('fromJSON(env.SETTINGS).level');
    expect(await session.continueToEnd(client, 126)).toEqual([
      '✗ Reads settings: failed, exit 126, T s',
      '– After: skipped (if: success() is false)',
    ]);
    // The step's script never ran with a guessed value.
    expect(outputByCategory(client).stdout).toBeUndefined();
    await session.finish(ctx, adapter);
  });
});
