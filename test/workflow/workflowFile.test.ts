import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobDefinition } from '../../src/model/jobModel.js';
import { ExpressionError } from '../../src/workflow/expressions.js';
import {
  loadWorkflowJob as loadWorkflowText,
  type WorkflowJobDefinition,
  type WorkflowJobOptions,
} from '../../src/workflow/workflowFile.js';
import { JobSourceError } from '../../src/workflow/yamlSource.js';
import { expectedStep } from '../support/expectedStep.js';

function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/workflows/${name}`, import.meta.url));
}

/** The file is read once, by the caller of the loader (the adapter's jobFromProgram); here, by the test. */
function loadWorkflowJob(path: string, options: WorkflowJobOptions = {}): WorkflowJobDefinition {
  return loadWorkflowText(path, options, readFileSync(path, 'utf8'));
}

/**
 * The job model as written (the parsed expressions that ride along are checked in their own
 * tests below, 'parsed expressions and their lines').
 */
function withoutText(job: WorkflowJobDefinition): Omit<JobDefinition, 'sourceText'> {
  const { sourceText: _sourceText, envExpressions: _env, on: _on, steps, ...rest } = job;
  return { ...rest, steps: steps.map(({ expressions: _expressions, ...step }) => step) };
}

/**
 * Loads the workflow fixture `name` with `options` and expects its job (without its text) to be
 * `expected` (origin and sourcePath: the fixture's own). Returns the job.
 */
function expectFixtureJob(
  name: string,
  options: WorkflowJobOptions,
  expected: Omit<JobDefinition, 'sourceText' | 'origin' | 'sourcePath'>,
): WorkflowJobDefinition {
  const path = fixture(name);
  const job = loadWorkflowJob(path, options);
  expect(withoutText(job)).toEqual({ origin: 'workflow', sourcePath: path, ...expected });
  return job;
}

describe('fixtures', () => {
  it('node-ci.yml: uses steps, default names, env at three levels', () => {
    const job = expectFixtureJob(
      'node-ci.yml',
      {},
      {
        name: 'Node CI / Test',
        env: { CI: 'true', NODE_ENV: 'ci', NPM_CONFIG_LOGLEVEL: 'warn' },
        workflow: { jobId: 'test', workflowName: 'Node CI', matrix: {} },
        steps: [
          expectedStep(0, 'Run actions/checkout@v4', [20, 20], { uses: 'actions/checkout@v4' }),
          expectedStep(1, 'Set up Node.js', [21, 25], { uses: 'actions/setup-node@v4' }),
          expectedStep(2, 'Install dependencies', [26, 27], { run: 'echo "npm ci (stand-in)"' }),
          expectedStep(3, 'Run tests', [28, 33], {
            run: 'echo "npm test (stand-in)"\necho "NODE_ENV=$NODE_ENV FORCE_COLOR=$FORCE_COLOR"\n',
            env: { FORCE_COLOR: '0' },
          }),
          expectedStep(4, 'Run echo "npm run lint (stand-in)"', [34, 34], {
            run: 'echo "npm run lint (stand-in)"',
          }),
        ],
      },
    );
    expect(job.sourceText).toBe(readFileSync(fixture('node-ci.yml'), 'utf8'));
  });

  it('python-matrix.yml: one combination chosen, names evaluated from the matrix', () => {
    expectFixtureJob(
      'python-matrix.yml',
      { matrix: { os: 'ubuntu-latest', 'python-version': '3.12' } },
      {
        name: 'Python package / test (ubuntu-latest, 3.12)',
        env: {},
        workflow: {
          jobId: 'test',
          workflowName: 'Python package',
          matrix: { os: 'ubuntu-latest', 'python-version': '3.12' },
        },
        steps: [
          expectedStep(0, 'Run actions/checkout@v4', [14, 14], { uses: 'actions/checkout@v4' }),
          expectedStep(1, 'Set up Python 3.12', [15, 18], { uses: 'actions/setup-python@v5' }),
          expectedStep(2, 'Install dependencies', [19, 22], {
            run: 'echo "python -m pip install --upgrade pip (stand-in)"\necho "pip install -r requirements.txt (stand-in)"\n',
          }),
          expectedStep(3, 'Test with pytest on ubuntu-latest', [23, 24], {
            run: 'echo "pytest (stand-in) for Python ${{ matrix.python-version }} on ${{ matrix.os }}"',
          }),
        ],
      },
    );
  });

  it('python-matrix.yml: a partial combination is completed when it identifies one', () => {
    const job = loadWorkflowJob(fixture('python-matrix.yml'), {
      matrix: { 'python-version': '3.10', os: 'ubuntu-22.04' },
    });
    expect(job.workflow?.matrix).toEqual({ os: 'ubuntu-22.04', 'python-version': '3.10' });
    expect(job.steps[1]?.name).toBe('Set up Python 3.10');
  });

  it('python-matrix.yml: without a choice, the error lists the keys and an example', () => {
    const path = fixture('python-matrix.yml');
    expect(() => loadWorkflowJob(path, {})).toThrow(
      `${path}:10: job 'test' has a matrix with 6 combinations over os, python-version; a step-by-step run uses one: ` +
        'choose it with the launch argument, e.g. "matrix": {"os":"ubuntu-latest","python-version":"3.10"}',
    );
    expect(() => loadWorkflowJob(path, { matrix: { os: 'ubuntu-latest' } })).toThrow(
      /^.*python-matrix\.yml:10: the matrix combination \{"os":"ubuntu-latest"\} matches 3 combinations/,
    );
  });

  it('data-passing.yml: ids, outputs in env and if, heredoc and PATH steps', () => {
    expectFixtureJob(
      'data-passing.yml',
      { job: 'pass-data' },
      {
        name: 'Pass data between steps / pass-data',
        env: {},
        workflow: { jobId: 'pass-data', workflowName: 'Pass data between steps', matrix: {} },
        steps: [
          {
            index: 0,
            name: 'Produce env and outputs',
            id: 'produce',
            run:
              'echo "GREETING=hello from step one" >> "$GITHUB_ENV"\n' +
              'echo "version=1.2.3" >> "$GITHUB_OUTPUT"\n' +
              '{\n' +
              "  echo 'notes<<EOF'\n" +
              "  echo 'first line'\n" +
              "  echo 'second line'\n" +
              "  echo 'EOF'\n" +
              '} >> "$GITHUB_OUTPUT"\n',
            env: {},
            continueOnError: false,
            location: { line: 9, endLine: 19 },
          },
          {
            index: 1,
            name: 'Read them back',
            run:
              'test "$GREETING" = "hello from step one"\n' +
              'test "$VERSION" = "1.2.3"\n' +
              'test "$NOTES" = "$(printf \'first line\\nsecond line\')"\n' +
              'printf \'%s\\n\' "$NOTES"\n',
            env: {
              VERSION: '${{ steps.produce.outputs.version }}',
              NOTES: '${{ steps.produce.outputs.notes }}',
            },
            continueOnError: false,
            location: { line: 20, endLine: 28 },
          },
          {
            index: 2,
            name: 'Add a tool directory to PATH',
            run:
              'mkdir -p "$PWD/.fixture-tools"\n' +
              'printf \'#!/bin/sh\\necho "hello-tool ran"\\n\' > "$PWD/.fixture-tools/hello-tool"\n' +
              'chmod +x "$PWD/.fixture-tools/hello-tool"\n' +
              'echo "$PWD/.fixture-tools" >> "$GITHUB_PATH"\n',
            env: {},
            continueOnError: false,
            location: { line: 29, endLine: 34 },
          },
          expectedStep(3, 'Use the tool', [35, 36], { run: 'hello-tool' }),
          expectedStep(4, 'Use an output in the script', [37, 39], {
            condition: "steps.produce.outputs.version == '1.2.3'",
            run: 'echo "version is ${{ steps.produce.outputs.version }}"',
          }),
        ],
      },
    );
  });

  it('failure-handling.yml: continue-on-error and status-function conditions', () => {
    expectFixtureJob(
      'failure-handling.yml',
      {},
      {
        name: 'Failure handling / flaky',
        env: {},
        workflow: { jobId: 'flaky', workflowName: 'Failure handling', matrix: {} },
        steps: [
          expectedStep(0, 'Tolerated failure', [9, 14], {
            id: 'tolerated',
            run: 'echo "this step fails but the job goes on"\nfalse\n',
            continueOnError: true,
          }),
          expectedStep(1, 'Runs after the tolerated failure', [15, 16], {
            run: 'echo "outcome=${{ steps.tolerated.outcome }} conclusion=${{ steps.tolerated.conclusion }}"',
          }),
          expectedStep(2, 'Real failure', [17, 19], { id: 'broken', run: 'exit 3' }),
          expectedStep(3, 'Skipped because the job failed', [20, 21], { run: 'echo "never printed"' }),
          expectedStep(4, 'Report the failure', [22, 24], {
            condition: 'failure()',
            run: 'echo "step broken ended with ${{ steps.broken.outcome }}"',
          }),
          expectedStep(5, 'Clean up', [25, 27], { condition: '${{ always() }}', run: 'echo "cleaning up"' }),
        ],
      },
    );
  });

  it('conditions.yml: conditions, defaults, timeouts, shells and a one-combination matrix', () => {
    expectFixtureJob(
      'conditions.yml',
      {},
      {
        name: 'Conditions and defaults / conditional (minimal, false)',
        env: { DEPLOY: 'yes' },
        workflow: {
          jobId: 'conditional',
          workflowName: 'Conditions and defaults',
          matrix: { flavor: 'minimal', experimental: false },
          defaultShell: 'bash',
          defaultWorkingDirectory: '/tmp',
          timeoutSeconds: 600,
        },
        steps: [
          expectedStep(0, 'Show where we are', [24, 26], { id: 'locate', run: 'echo "running in $PWD"' }),
          expectedStep(1, 'Deploy when DEPLOY is yes', [27, 29], {
            condition: "env.DEPLOY == 'yes'",
            run: 'echo "deploying"',
          }),
          expectedStep(2, 'Only for the full flavor', [30, 32], {
            condition: "${{ matrix.flavor == 'full' }}",
            run: 'echo "full flavor"',
          }),
          expectedStep(3, 'After a successful first step', [33, 37], {
            condition: "steps.locate.outcome == 'success' && !matrix.experimental",
            timeoutSeconds: 60,
            cwd: '/',
            run: 'echo "first step succeeded; now in $PWD"',
          }),
          expectedStep(4, 'Python step', [39, 44], {
            shell: 'python',
            run: 'import os\nprint("python says hello from", os.getcwd())\n',
            continueOnError: true,
          }),
          expectedStep(5, 'Custom shell template', [45, 47], {
            shell: 'sh -eu {0}',
            run: 'echo "custom shell for the ${{ matrix.flavor }} flavor"',
          }),
        ],
      },
    );
  });
});

describe('errors and edge cases', () => {
  const directory = mkdtempSync(join(tmpdir(), 'relay-dap-workflow-'));
  let counter = 0;
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function write(text: string): string {
    const path = join(directory, `workflow-${++counter}.yml`);
    writeFileSync(path, text);
    return path;
  }

  function loadError(
    text: string,
    options: { job?: string; matrix?: Record<string, unknown> } = {},
  ): {
    error: Error;
    path: string;
  } {
    const path = write(text);
    try {
      loadWorkflowJob(path, options);
    } catch (error) {
      if (error instanceof Error) return { error, path };
      throw error;
    }
    throw new Error('expected the workflow not to load');
  }

  const oneJob = (steps: string, jobExtra = ''): string =>
    `name: W\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n${jobExtra}    steps:\n${steps}`;
  /** The job of `oneJob(steps, jobExtra)`, written to a file and loaded. */
  const loadOneJob = (steps: string, jobExtra?: string): WorkflowJobDefinition =>
    loadWorkflowJob(write(oneJob(steps, jobExtra)));

  it('reports YAML syntax errors with the line', () => {
    const { error, path } = loadError('name: W\njobs:\n  build:\n    steps: [\n  - run: x\n');
    expect(error).toBeInstanceOf(JobSourceError);
    expect(error.message).toMatch(
      new RegExp(
        `^${path.replaceAll('.', '\\.')}:5: the workflow is not valid YAML: .+; fix the YAML syntax there$`,
      ),
    );
  });

  // A missing file: the loader is given the text; the one reader is jobFromProgram's (test/job/jobFromProgram.test.ts).
  it('reports an empty file', () => {
    const { error } = loadError('');
    expect(error.message).toMatch(/: the workflow is empty$/);
  });

  it('asks which job when there are several, listing them', () => {
    const text =
      'on: push\njobs:\n  lint:\n    steps:\n      - run: a\n  test:\n    steps:\n      - run: b\n';
    const { error, path } = loadError(text);
    expect(error.message).toBe(
      `${path}:2: the workflow has 2 jobs (lint, test); choose one with the launch argument "job", e.g. "job": "lint"`,
    );
    expect(loadWorkflowJob(path, { job: 'test' }).steps[0]?.run).toBe('b');
    expect(() => loadWorkflowJob(path, { job: 'deploy' })).toThrow(
      `${path}:2: the workflow has no job 'deploy'; its jobs are lint, test`,
    );
  });

  it('refuses a reusable-workflow job', () => {
    const { error, path } = loadError(
      'on: push\njobs:\n  call:\n    uses: org/repo/.github/workflows/ci.yml@main\n',
    );
    expect(error.message).toBe(
      `${path}:4: job 'call' calls a reusable workflow (uses: org/repo/.github/workflows/ci.yml@main); ` +
        'relay-dap steps through jobs with steps: open the called workflow file and debug its job instead',
    );
  });

  it('refuses a workflow without jobs, a job without steps, and a step without run or uses', () => {
    expect(loadError('name: W\non: push\n').error.message).toMatch(/:1: the workflow has no 'jobs:'/);
    expect(loadError('on: push\njobs:\n  build:\n    runs-on: x\n').error.message).toMatch(
      /:3: job 'build' has no 'steps:'; add the steps to run/,
    );
    expect(loadError(oneJob('      - name: Nothing\n        env:\n          A: 1\n')).error.message).toMatch(
      /:7: step 1 has neither 'run:' nor 'uses:'; add the command to run with 'run:'$/,
    );
    expect(loadError(oneJob('      - run: a\n        uses: b\n')).error.message).toMatch(
      /:7: step 1 has both 'run:' and 'uses:'/,
    );
    expect(loadError(oneJob('      run: a\n')).error.message).toMatch(
      /:7: the steps of job 'build' must be a list \(lines starting with '-'\)$/,
    );
    expect(loadError(oneJob('      []\n')).error.message).toMatch(
      /:6: job 'build' has an empty 'steps:' list/,
    );
  });

  it('refuses unknown step keys and wrong types', () => {
    expect(loadError(oneJob('      - run: a\n        timeout: 5\n')).error.message).toMatch(
      /:8: unknown key 'timeout' in step 1; the keys allowed there are id, name, if, uses, run, shell, with, env, working-directory, continue-on-error, timeout-minutes, background, wait, wait-all, cancel \(GitHub refuses it too: "Unexpected value 'timeout'"\)$/,
    );
    expect(loadError(oneJob('      - run:\n          - a\n')).error.message).toMatch(
      /:8: the run script of step 1 must be text$/,
    );
    expect(loadError(oneJob('      - run: a\n        env: [A]\n')).error.message).toMatch(
      /:8: env of step 1 must be a mapping/,
    );
    expect(loadError(oneJob('      - run: a\n        env:\n          A: [1]\n')).error.message).toMatch(
      /:9: env of step 1: A must be a single value/,
    );
    expect(loadError(oneJob('      - run: a\n        continue-on-error: maybe\n')).error.message).toMatch(
      /:8: continue-on-error of step 1 must be true, false or a \$\{\{ \}\} expression$/,
    );
    expect(loadError(oneJob('      - run: a\n        timeout-minutes: -1\n')).error.message).toMatch(
      /:8: timeout-minutes of step 1 must be a positive number of minutes, at most 525600 \(365 days\)$/,
    );
    expect(loadError(oneJob('      - run: a\n        timeout-minutes: 1e9\n')).error.message).toMatch(
      /:8: timeout-minutes of step 1 must be a positive number of minutes, at most 525600/,
    );
  });

  it('keeps a step timeout-minutes expression for the step to evaluate as it starts', () => {
    const job = loadOneJob('      - run: a\n        timeout-minutes: ${{ fromJSON(env.T) }}\n');
    expect(job.steps[0]?.timeoutSeconds).toBeUndefined();
    expect(job.steps[0]?.expressions.timeout?.text).toBe('${{ fromJSON(env.T) }}');
    expect(job.steps[0]?.expressions.timeout?.line).toBe(8);
  });

  it('decides a job timeout-minutes expression where GitHub does: the matrix at load, github at launch, needs not at all', () => {
    const matrix = '    strategy:\n      matrix:\n        budget: [0.5]\n';
    const fromMatrix = loadOneJob(
      '      - run: a\n',
      `${matrix}    timeout-minutes: \${{ matrix.budget }}\n`,
    );
    expect(fromMatrix.workflow.timeoutSeconds).toBe(30);
    const fromGithub = loadOneJob(
      '      - run: a\n',
      "    timeout-minutes: ${{ github.event_name == 'push' && 5 || 60 }}\n",
    );
    expect(fromGithub.workflow.timeoutSeconds).toBeUndefined();
    expect(fromGithub.githubTimeout?.line).toBe(6);
    const fromNeeds = loadOneJob(
      '      - run: a\n',
      '    timeout-minutes: ${{ needs.plan.outputs.minutes }}\n',
    );
    expect(fromNeeds.workflow.timeoutSeconds).toBeUndefined();
    expect(fromNeeds.workflow.launchNotes).toEqual([
      {
        line: 6,
        text: 'timeout-minutes (line 6): reads needs, which relay-dap does not know at launch: the job runs without that timeout',
      },
    ]);
    expect(
      loadError(oneJob('      - run: a\n', '    timeout-minutes: ${{ env.MINUTES }}\n')).error.message,
    ).toMatch(
      /:6: the 'env' context is not available in a job's timeout-minutes \(GitHub offers github, needs, strategy, matrix, vars, inputs there\) \(in expression `env\.MINUTES`\)$/,
    );
    expect(
      loadError(oneJob('      - run: a\n', `${matrix}    timeout-minutes: \${{ matrix.missing }}\n`)).error
        .message,
    ).toMatch(
      /:9: timeout-minutes is '': it must be a positive number of minutes, at most 525600 \(365 days\) \(in expression `matrix\.missing`\)$/,
    );
  });

  it('refuses bad and duplicate step ids', () => {
    expect(loadError(oneJob('      - id: 1st\n        run: a\n')).error.message).toMatch(
      /:7: step id '1st' is not valid/,
    );
    expect(
      loadError(oneJob('      - id: a\n        run: a\n      - id: a\n        run: b\n')).error.message,
    ).toMatch(/:9: step id 'a' is already used by the step at line 7$/);
  });

  it('loads Windows PowerShell and cmd steps (they are said at launch and fail when run); refuses a shell without {0}', () => {
    const job = loadOneJob('      - run: a\n        shell: powershell\n      - run: b\n        shell: cmd\n');
    expect(job.steps.map((step) => step.shell)).toEqual(['powershell', 'cmd']);
    expect(
      loadError(oneJob('      - run: a\n', '    defaults:\n      run:\n        shell: zsh\n')).error.message,
    ).toMatch(/:8: shell 'zsh' is neither a built-in shell/);
  });

  it('reads wait, wait-all and cancel as control steps that run nothing; refuses one that also runs something', () => {
    const job = loadOneJob(
      '      - id: a\n        background: true\n        run: a\n      - wait: [a]\n      - name: Stop\n        cancel: a\n',
    );
    expect(job.steps.map((step) => [step.name, step.run, step.expressions.control])).toEqual([
      ['Run a', 'a', undefined],
      ['Wait for a', undefined, { key: 'wait', ids: ['a'] }],
      ['Stop', undefined, { key: 'cancel', ids: ['a'] }],
    ]);
    // The background step starts beside the queue when the job runs (src/job/backgroundSteps.ts): nothing to say at launch.
    expect(job.workflow.launchNotes).toBeUndefined();
    expect(job.steps[0]!.expressions.background).toBe(true);
    expect(loadError(oneJob('      - wait: a\n        run: b\n')).error.message).toMatch(
      /:8: step 1 has 'wait:' and 'run:'; a wait step runs nothing itself, split it in two$/,
    );
  });

  it('reads the steps of a parallel: group in order, each a step of its own, all but the last in the background', () => {
    const job = loadOneJob(
      '      - run: a\n      - parallel:\n          - run: b\n          - id: c\n            run: c\n      - run: d\n',
    );
    expect(job.steps.map((step) => [step.index, step.run, step.location.line])).toEqual([
      [0, 'a', 7],
      [1, 'b', 9],
      [2, 'c', 10],
      [3, 'd', 12],
    ]);
    // As GitHub defines a group: background steps, then a wait for them (after the last, which runs in the queue).
    expect(job.steps.map((step) => [step.expressions.background, step.expressions.awaits])).toEqual([
      [undefined, undefined],
      [true, undefined],
      [undefined, [1]],
      [undefined, undefined],
    ]);
    expect(job.workflow.launchNotes).toBeUndefined();
    expect(loadError(oneJob('      - parallel: []\n')).error.message).toMatch(
      /:7: the parallel group of step 1 is empty; list the steps it runs$/,
    );
    expect(
      loadError(oneJob('      - parallel:\n          - run: a\n        name: x\n')).error.message,
    ).toMatch(/:9: unknown key 'name' in the parallel group of step 1; the keys allowed there are parallel$/);
  });

  it('refuses env, matrix and steps in a job-level if:, which GitHub does not offer there', () => {
    const { error } = loadError(oneJob('      - run: a\n', "    if: env.DEPLOY == 'yes'\n"));
    expect(error).toBeInstanceOf(JobSourceError);
    expect(error.message).toMatch(
      /:6: the 'env' context is not available in a job-level if: \(GitHub offers github, needs, vars and inputs there\) \(in expression `env.DEPLOY == 'yes'`\)$/,
    );
  });

  it('names the expression and its line for an unsupported context in a run block', () => {
    const steps =
      '      - name: Build\n        run: |\n          echo start\n          echo "${{ strategy.job-index }}"\n';
    const { error, path } = loadError(oneJob(steps));
    expect(error).toBeInstanceOf(JobSourceError);
    expect(error.message).toBe(
      `${path}:10: the 'strategy' context is not available when running a workflow step by step through relay-dap; ` +
        'supported: env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>, github.*, runner.*, secrets.*, vars.*, inputs.*, needs.<job>.outputs.<name>, needs.<job>.result ' +
        '(in expression `strategy.job-index` at column 1)',
    );
    const located = (error as JobSourceError).expressionError;
    expect(located).toBeInstanceOf(ExpressionError);
    expect([located?.line, located?.column, located?.expression, located?.file]).toEqual([
      10,
      1,
      'strategy.job-index',
      path,
    ]);
    expect(error.cause).toBe(located);
  });

  it('finds the right occurrence when an earlier expression on the value is fine', () => {
    const steps =
      '      - run: |\n          echo ${{ env.A }}\n          echo ${{ env.B }} ${{ strategy.job-total }}\n';
    const { error, path } = loadError(oneJob(steps));
    expect(error.message).toMatch(
      new RegExp(`^${path.replaceAll('.', '\\.')}:9: the 'strategy' context is not available`),
    );
  });

  it('checks env values, working directories and conditions', () => {
    expect(
      loadError(oneJob('      - run: a\n        env:\n          T: ${{ strategy.max-parallel }}\n')).error
        .message,
    ).toMatch(/:9: the 'strategy' context is not available.*`strategy.max-parallel`/);
    expect(
      loadError('on: push\nenv:\n  R: ${{ strategy.fail-fast }}\njobs:\n  b:\n    steps:\n      - run: a\n')
        .error.message,
    ).toMatch(/:3: the 'strategy' context/);
    expect(
      loadError(oneJob('      - run: a\n        working-directory: ${{ job.temp }}\n')).error.message,
    ).toMatch(/:8: the 'job' context/);
    expect(loadError(oneJob('      - run: a\n        if: strategy.job-index == 0\n')).error.message).toMatch(
      /:8: the 'strategy' context is not available.*\(in expression `strategy.job-index == 0` at column 1\)$/,
    );
    expect(loadError(oneJob("      - run: a\n        if: ${{ env.A = 'x' }}\n")).error.message).toMatch(
      /:8: unexpected '='; compare with '==' \(in expression `env.A = 'x'` at column 7\)$/,
    );
    expect(loadError(oneJob('      - run: a\n        if: job.status\n')).error.message).toMatch(
      /:8: the 'job' context/,
    );
  });

  it('keeps continue-on-error expressions and if values as written', () => {
    const steps =
      '      - run: a\n        continue-on-error: ${{ matrix.experimental }}\n' +
      '      - run: b\n        if: false\n        continue-on-error: false\n';
    const job = loadOneJob(steps, '    strategy:\n      matrix:\n        experimental: [true]\n');
    expect(job.steps.map((step) => [step.continueOnError, step.condition])).toEqual([
      ['${{ matrix.experimental }}', undefined],
      [false, 'false'],
    ]);
  });

  it('takes the line of the - when a step starts on the next line', () => {
    const job = loadOneJob('      -\n        name: Odd\n        run: a\n\n      # trailing comment\n');
    expect(job.steps[0]?.location).toEqual({ line: 7, endLine: 9 });
  });

  it('merges defaults (job wins) and env (job wins), values as written', () => {
    const text =
      'on: push\n' +
      'env:\n  A: workflow\n  B: 3.10\n  C:\n  D: ${{ 1 }}\n' +
      'defaults:\n  run:\n    shell: sh\n    working-directory: app\n' +
      'jobs:\n  j:\n    timeout-minutes: 0.5\n' +
      '    env:\n      A: job\n      E: "yes"\n' +
      '    defaults:\n      run:\n        working-directory: app/sub\n' +
      '    steps:\n      - run: a\n';
    const job = loadWorkflowJob(write(text));
    expect(job.env).toEqual({ A: 'job', B: '3.10', C: '', D: '${{ 1 }}', E: 'yes' });
    expect(job.workflow).toEqual({
      jobId: 'j',
      matrix: {},
      defaultShell: 'sh',
      defaultWorkingDirectory: 'app/sub',
      timeoutSeconds: 30,
    });
    expect(job.name).toBe(`workflow-${counter}.yml / j`);
  });

  it('expands include/exclude and uses a one-combination result', () => {
    const strategy =
      '    strategy:\n      matrix:\n        os: [linux, mac]\n        exclude:\n          - os: mac\n' +
      '        include:\n          - os: linux\n            extra: yes\n';
    const job = loadOneJob('      - run: a\n', strategy);
    expect(job.workflow?.matrix).toEqual({ os: 'linux', extra: 'yes' });
    expect(job.name).toBe('W / build (linux, yes)');
  });

  it('needs the combination for an include computed by an expression, saying the launch argument works', () => {
    const strategy =
      '    strategy:\n      matrix:\n        os: [linux]\n        include: ${{ fromJSON(needs.plan.outputs.include) }}\n';
    expect(loadError(oneJob('      - run: a\n', strategy)).error.message).toMatch(
      /:7: matrix 'include' of job 'build' is computed at run time on GitHub \(\$\{\{ fromJSON\(needs\.plan\.outputs\.include\) \}\}\), so relay-dap cannot list its combinations: give the combination to debug with the launch argument "matrix", e\.g\. "matrix": \{"os":"linux"\}$/,
    );
  });

  it('needs the combination for a matrix computed by an expression', () => {
    const strategy = '    strategy:\n      matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}\n';
    expect(loadError(oneJob('      - run: a\n', strategy)).error.message).toMatch(
      /:7: the matrix of job 'build' is computed at run time on GitHub \(\$\{\{ fromJSON\(needs\.setup\.outputs\.matrix\) \}\}\), so relay-dap cannot list its combinations: give the combination to debug with the launch argument "matrix", e\.g\. "matrix": \{"os":"ubuntu-latest"\}$/,
    );
    // A matrix that is neither a mapping nor an expression is refused as such.
    expect(
      loadError(oneJob('      - run: a\n', '    strategy:\n      matrix: [linux]\n')).error.message,
    ).toMatch(/:7: the matrix of job 'build' must be a mapping of lists/);
    const job = loadWorkflowJob(write(oneJob('      - run: a\n', strategy)), { matrix: { os: 'linux' } });
    expect(job.workflow?.matrix).toEqual({ os: 'linux' });
  });

  it('evaluates job and step names that read only the matrix; keeps others as written', () => {
    const text =
      'name: CI ${{ matrix.os }}\non: push\njobs:\n  t:\n    name: Test on ${{ matrix.os }}\n' +
      '    strategy:\n      matrix:\n        os: [linux]\n    steps:\n' +
      '      - name: Step ${{ env.X }}\n        run: a\n      - run: echo ${{ matrix.os }}\n' +
      '      - name: Deploy to ${{ inputs.target }}\n        run: b\n';
    const job = loadWorkflowJob(write(text));
    expect(job.name).toBe('CI linux / Test on linux');
    // A name is only a label: one using a context relay-dap lacks is shown as written.
    expect(job.steps.map((step) => step.name)).toEqual([
      'Step ${{ env.X }}',
      'Run echo linux',
      'Deploy to ${{ inputs.target }}',
    ]);
  });
});

describe('parsed expressions and their lines', () => {
  const directory = mkdtempSync(join(tmpdir(), 'relay-dap-workflow-lines-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const text =
    'on: push\n' + // 1
    'env:\n' + // 2
    '  TOP: ${{ matrix.os }}\n' + // 3
    'jobs:\n' + // 4
    '  j:\n' + // 5
    '    strategy:\n' + // 6
    '      matrix:\n' + // 7
    '        os: [linux]\n' + // 8
    '    defaults:\n' + // 9
    '      run:\n' + // 10
    '        working-directory: ${{ env.TOP }}/app\n' + // 11
    '    steps:\n' + // 12
    '      - id: first\n' + // 13
    '        if: >-\n' + // 14
    "          env.TOP == 'linux'\n" + // 15
    '        env:\n' + // 16
    '          A: ${{ matrix.os }}\n' + // 17
    '        run: |\n' + // 18
    '          echo one\n' + // 19
    '          echo ${{ env.A }}\n' + // 20
    '          echo ${{ fromJSON(env.A) }}\n' + // 21
    '        continue-on-error: ${{ matrix.os == env.TOP }}\n' + // 22
    '      - run: echo two\n' + // 23
    '        working-directory: sub\n' + // 24
    "        if: ${{ success() }} && ${{ env.A == 'x' }}\n" + // 25
    '      - run: echo three\n'; // 26
  const path = join(directory, 'lines.yml');
  writeFileSync(path, text);
  const job = loadWorkflowJob(path);
  const [first, second] = job.steps;
  const linesOf = (located: { expressionLines: ReadonlyMap<number, number> } | undefined): number[] => [
    ...(located?.expressionLines.values() ?? []),
  ];

  it('keeps each ${{ }} of a value with the line it is written on', () => {
    expect(job.envExpressions.TOP?.line).toBe(3);
    expect(linesOf(job.envExpressions.TOP)).toEqual([3]);
    expect(first?.expressions.env.A?.line).toBe(17);
    expect(first?.expressions.run?.text).toBe(first?.run);
    expect(linesOf(first?.expressions.run)).toEqual([20, 21]);
    expect(linesOf(first?.expressions.continueOnError)).toEqual([22]);
    expect(linesOf(second?.expressions.condition)).toEqual([25, 25]);
  });

  it("gives a step without its own working-directory the defaults' one, with its line", () => {
    expect(first?.cwd).toBeUndefined();
    expect(linesOf(first?.expressions.cwd)).toEqual([11]);
    expect(second?.expressions.cwd?.text).toBe('sub');
  });

  it('locates a condition on its first line of content, and a step without if: at the step', () => {
    expect(first?.condition).toBe("env.TOP == 'linux'");
    expect(first?.expressions.condition.line).toBe(15);
    expect(second?.expressions.condition.line).toBe(25);
    expect(second?.expressions.condition.condition.text).toBe("${{ success() }} && ${{ env.A == 'x' }}");
    const third = job.steps[2]!;
    expect(third.condition).toBeUndefined();
    expect(third.expressions.condition.line).toBe(26);
    expect(third.expressions.condition.condition.text).toBe('success()');
  });
});

describe('differences from GitHub and the job-level if:', () => {
  const path = fixture('integration-services.yml');
  const load = (job: string): WorkflowJobDefinition => loadWorkflowJob(path, { job });

  it('notes each difference with its key line, workflow level first, in file order', () => {
    const notes = load('integration').workflow.launchNotes?.map(({ line, text }) => [
      line,
      text.split(':')[0],
    ]);
    expect(notes).toEqual([
      [11, 'permissions (line 11)'],
      [14, 'concurrency (line 14)'],
      [21, 'container (line 21)'],
      [22, 'services (line 22)'],
    ]);
  });

  it('evaluates a runs-on expression that reads the matrix; says one computed on GitHub (needs) is decided there', () => {
    const job = (runsOn: string, matrix = ''): WorkflowJobDefinition =>
      loadWorkflowText(
        '/repo/.github/workflows/ci.yml',
        {},
        `on: push\njobs:\n  t:\n${matrix}    runs-on: ${runsOn}\n    steps:\n      - run: a\n`,
      );
    const matrix = '    strategy:\n      matrix:\n        os: [windows-2022]\n';
    expect(job("${{ matrix.os || 'ubuntu-latest' }}", matrix).workflow.launchNotes).toEqual([
      {
        line: 7,
        text: "runs-on (line 7): windows-2022 is not used: the steps run in Linux bash on the relay server's side, not on Windows",
      },
    ]);
    expect(job('${{ needs.prepare.outputs.runner }}').workflow.launchNotes).toEqual([
      {
        line: 4,
        text: "runs-on (line 4): ${{ needs.prepare.outputs.runner }} is decided on GitHub when the run starts; whatever it names, the steps run in Linux bash on the relay server's side",
      },
    ]);
    expect(
      job('${{ matrix.os }}', '    strategy:\n      matrix:\n        os: [ubuntu-24.04]\n').workflow
        .launchNotes,
    ).toBeUndefined();
  });

  it('a job with nothing that differs has no notes', () => {
    expect(loadWorkflowJob(fixture('node-ci.yml')).workflow.launchNotes).toBeUndefined();
  });

  it('decides the job if: as for a job whose needs succeeded', () => {
    expect(load('deploy').workflow.skipped).toBeUndefined();
    expect(load('cleanup').workflow.skipped).toBeUndefined();
    expect(load('notify-failure').workflow.skipped).toEqual({ line: 69, condition: 'failure()' });
  });

  it('leaves the if: of a job with needs (reading needs and vars) to the run, once its needs have ended: no note, the condition kept with its line', () => {
    const text = [
      'name: Deploy',
      'on: push',
      'jobs:',
      '  deploy:',
      '    needs: [build]',
      "    if: needs.build.result == 'success' && vars.DEPLOY == 'yes'",
      '    runs-on: ubuntu-latest',
      '    steps:',
      '      - run: echo deploying',
      '',
    ].join('\n');
    const job = loadWorkflowText('/repo/.github/workflows/deploy.yml', {}, text);
    expect(job.workflow.skipped).toBeUndefined();
    expect(job.workflow.launchNotes).toBeUndefined();
    expect(job.workflow.needs).toEqual(['build']);
    expect([job.githubCondition?.line, job.githubCondition?.condition]).toEqual([
      6,
      "needs.build.result == 'success' && vars.DEPLOY == 'yes'",
    ]);
  });

  it('leaves a job if: reading github to the launch (the checkout and the event decide it), with its line', () => {
    const release = load('release');
    expect(release.workflow.skipped).toBeUndefined();
    expect([release.githubCondition?.line, release.githubCondition?.condition]).toEqual([
      83,
      "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/')",
    ]);
  });
});
