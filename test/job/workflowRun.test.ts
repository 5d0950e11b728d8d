// The run of several jobs, without the adapter: jobs start one after another in the order of
// their needs, each with its own runner on one relay; a job's `outputs:` and `result` become
// `needs.<job>` of the jobs that need it; a job-level `if:` is decided with them; a cancel stops
// the running job and starts no other. Real bash, an in-process relay server; every process
// the run starts carries the harness's marker, and none may outlive the test (afterEach).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ran, useJobHarness, workflowFixture } from './jobHarness.js';

const harness = useJobHarness();

const ONE_AFTER_ANOTHER =
  '(GitHub runs jobs whose needs are met side by side; the relay runs one command at a time)';

/**
 * A job that ran from start to end as thread `thread`, `position` (`K/N`) in the run: its start,
 * its steps' lines (each as `ran` gives them), its end and the run's line for its result.
 */
function job(
  thread: number,
  position: string,
  name: string,
  steps: string[][],
  end = 'finished 0',
): string[] {
  const [how, code] = end.split(' ');
  const result = { finished: 'success', failed: 'failure', cancelled: 'cancelled' }[how!];
  const label = `job ${position} '${name}'`;
  return [
    `message "${label} starts"`,
    `jobStarted ${thread} "${name}"`,
    ...steps.flat().map((line) => `${thread}: ${line}`),
    `${thread}: ended ${end}`,
    `message "${label}: ${result} (exit ${code})"`,
  ];
}

/** The run's first line: `count` jobs in the order `order`. */
const running = (count: number, order: string): string =>
  `message "running ${count} jobs one after another, in the order of their needs: ${order} ${ONE_AFTER_ANOTHER}"`;

describe('a run of several jobs', () => {
  it('pipeline.yml without `job`: every job in the order of its needs, matrix combinations as jobs, outputs and results through needs', async () => {
    const run = await harness.openRun(workflowFixture('pipeline.yml'));
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual([
      running(4, 'build, test, release'),
      ...job(1, '1/4', 'Pipeline / build', [
        ran(0, 'Compute version', 'computed version 1.4.2\n'),
        ran(1, 'Package', 'packaging pkg-1.4.2\n'),
      ]),
      // Each matrix combination is a job of its own, reading build's output through needs.
      ...['3.11', '3.12'].flatMap((python, k) =>
        job(2 + k, `${2 + k}/4`, `Pipeline / test (${python})`, [
          ran(0, 'Unit tests', `testing 1.4.2 on python ${python} (build was success)\n`),
        ]),
      ),
      ...job(4, '4/4', 'Pipeline / release', [
        ran(0, 'Publish', 'publishing pkg-1.4.2.tar.gz version 1.4.2\ntest report report-3.12.xml\n'),
      ]),
      'ended 0',
    ]);
  });

  it('pipeline-failure.yml: a failed job skips the job that needs it; if: failure() and if: always() run and read needs; the run exits with the failure’s code', async () => {
    const run = await harness.openRun(workflowFixture('pipeline-failure.yml'));
    expect(await run.ended()).toBe(2);
    expect(run.transcript()).toEqual([
      running(4, 'compile, package, notify, cleanup'),
      ...job(
        1,
        '1/4',
        'Nightly / compile',
        [ran(0, 'Configure'), ran(1, 'Compile', 'error: undefined reference to main\n', 'failure exit 2')],
        'failed 2',
      ),
      `message "job 2/4 'Nightly / package' was skipped: a job it needs did not succeed: compile (failure)"`,
      ...job(2, '3/4', 'Nightly / notify', [
        ran(0, 'Report', 'compile failure after configure; package skipped\n'),
      ]),
      ...job(3, '4/4', 'Nightly / cleanup', [ran(0, 'Clean', 'cleanup after notify success\n')]),
      'ended 2',
    ]);
  });

  it('the launched job alone when the launch gives its needs: one job, no run lines, needs as given', async () => {
    const run = await harness.openRun(workflowFixture('pipeline.yml'), {
      job: 'release',
      needs: {
        build: { result: 'success', outputs: { version: '2.0.0', artifact: 'a.tgz' } },
        test: { result: 'success', outputs: { report: 'r.xml' } },
      },
    });
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual([
      'jobStarted 1 "Pipeline / release"',
      ...ran(0, 'Publish', 'publishing a.tgz version 2.0.0\ntest report r.xml\n').map((line) => `1: ${line}`),
      '1: ended finished 0',
      'ended 0',
    ]);
  });

  it('a cancel while the second job runs ends it as cancelled, starts no other job, and leaves no process', async () => {
    const run = await harness.openRun(workflowFixture('pipeline-slow.yml'));
    await run.said('soaking');
    expect(await run.run.cancel('the user stopped the run')).toBe(130);
    expect(run.transcript()).toEqual([
      running(2, 'prepare, soak'),
      ...job(1, '1/2', 'Long run / prepare', [ran(0, 'Prepare', 'prepared\n')]),
      ...job(
        2,
        '2/2',
        'Long run / soak',
        [ran(0, 'Soak', 'soaking\n[cancelled]\n', 'cancelled exit 130')],
        'cancelled 130',
      ),
      'ended 130',
    ]);
    // The harness's afterEach checks /proc: the soak step's `sleep` children are gone too.
  });

  it('refuses needs that name no job, that form a cycle, or a launch `needs` naming no job, with the file and line', async () => {
    const workflow = (jobs: string): string =>
      harness.writeFile('.github/workflows/ci.yml', `name: CI\non: push\njobs:\n${jobs}`);
    const step = '    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n';
    const unknown = workflow(`  test:\n    needs: [biuld]\n${step}`);
    await expect(harness.programRun(unknown, { job: 'test' })).rejects.toThrow(
      `${unknown}:4: job 'test' needs 'biuld', which is not a job of this workflow (its jobs are test)`,
    );
    const cycle = workflow(`  a:\n    needs: b\n${step}  b:\n    needs: a\n${step}`);
    await expect(harness.programRun(cycle)).rejects.toThrow(
      `${cycle}:4: the needs of jobs 'a', 'b' form a cycle, so none of them can start: remove one of those needs`,
    );
    const fine = workflow(`  a:\n${step}  b:\n    needs: a\n${step}`);
    await expect(harness.programRun(fine, { job: 'b', supplied: ['c'] })).rejects.toThrow(
      `the launch argument "needs" names job 'c', which the workflow does not have; its jobs are a, b`,
    );
    expect((await harness.programRun(fine, { job: 'b', supplied: ['a'] })).map((each) => each.name)).toEqual([
      'CI / b',
    ]);
    expect((await harness.programRun(fine, { job: 'b' })).map((each) => each.name)).toEqual([
      'CI / a',
      'CI / b',
    ]);
  });

  it('a job calling a reusable workflow (uses: ./.github/workflows/…): its jobs run in its place, with: as inputs, secrets: inherit, its outputs to the jobs that need the caller', async () => {
    const release = path.join(workflowFixture('../projects/reusable/.github/workflows'), 'release.yml');
    const run = await harness.openRun(release, { secrets: { SIGNING_KEY: 'k3y' } });
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual([
      running(4, 'version, build/compile, build/package, publish'),
      ...job(1, '1/4', 'Release / version', [ran(0, 'Read version')]),
      `message "job 'Release / build' calls ./.github/workflows/build-reusable.yml: its jobs run here, with the inputs and secrets it passes"`,
      // `with:` read the caller's needs; `target` is the declared default; `debug` a boolean.
      ...job(2, '2/4', 'Release / build / compile', [
        ran(0, 'Compile', 'compiling 3.1.0 for linux-x64 (debug true)\n'),
      ]),
      ...job(3, '3/4', 'Release / build / package', [
        ran(0, 'Package', 'packaging after compile success, signed\n'),
      ]),
      `message "job 'Release / build' (calls ./.github/workflows/build-reusable.yml): success"`,
      ...job(4, '4/4', 'Release / publish', [
        ran(0, 'Publish', 'publishing app-3.1.0-linux-x64.tar.gz (build success)\n'),
      ]),
      'ended 0',
    ]);
  });
});
