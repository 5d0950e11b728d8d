// The run of several jobs, without the adapter: jobs start one after another in the order of
// their needs, each with its own runner on one relay; a job's `outputs:` and `result` become
// `needs.<job>` of the jobs that need it; a job-level `if:` is decided with them; a cancel stops
// the running job and starts no other. Real bash, an in-process relay server; every process
// the run starts carries the harness's marker, and none may outlive the test (afterEach).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { useJobHarness, workflowFixture } from './jobHarness.js';

const harness = useJobHarness();

const ONE_AFTER_ANOTHER =
  '(GitHub runs jobs whose needs are met side by side; the relay runs one command at a time)';

/** A job that ran from start to end: its start, its lines, its end (thread N). */
function job(thread: number, name: string, label: string, lines: string[], end = 'finished 0'): string[] {
  const result =
    end === 'finished 0'
      ? 'success (exit 0)'
      : end.startsWith('failed')
        ? `failure (exit ${end.split(' ')[1]})`
        : `cancelled (exit ${end.split(' ')[1]})`;
  return [
    `message "${label} starts"`,
    `jobStarted ${thread} "${name}"`,
    ...lines.map((line) => `${thread}: ${line}`),
    `${thread}: ended ${end}`,
    `message "${label}: ${result}"`,
  ];
}

describe('a run of several jobs', () => {
  it('pipeline.yml without `job`: every job in the order of its needs, matrix combinations as jobs, outputs and results through needs', async () => {
    const run = await harness.openRun(workflowFixture('pipeline.yml'));
    expect(await run.ended()).toBe(0);
    expect(run.transcript()).toEqual([
      `message "running 4 jobs one after another, in the order of their needs: build, test, release ${ONE_AFTER_ANOTHER}"`,
      ...job(1, 'Pipeline / build', "job 1/4 'Pipeline / build'", [
        'stepStarted 0 "Compute version"',
        'output step 0 "computed version 1.4.2\\n"',
        'stepEnded 0 success exit 0',
        'stepStarted 1 "Package"',
        'output step 1 "packaging pkg-1.4.2\\n"',
        'stepEnded 1 success exit 0',
      ]),
      ...job(2, 'Pipeline / test (3.11)', "job 2/4 'Pipeline / test (3.11)'", [
        'stepStarted 0 "Unit tests"',
        'output step 0 "testing 1.4.2 on python 3.11 (build was success)\\n"',
        'stepEnded 0 success exit 0',
      ]),
      ...job(3, 'Pipeline / test (3.12)', "job 3/4 'Pipeline / test (3.12)'", [
        'stepStarted 0 "Unit tests"',
        'output step 0 "testing 1.4.2 on python 3.12 (build was success)\\n"',
        'stepEnded 0 success exit 0',
      ]),
      ...job(4, 'Pipeline / release', "job 4/4 'Pipeline / release'", [
        'stepStarted 0 "Publish"',
        'output step 0 "publishing pkg-1.4.2.tar.gz version 1.4.2\\ntest report report-3.12.xml\\n"',
        'stepEnded 0 success exit 0',
      ]),
      'ended 0',
    ]);
  });

  it('pipeline-failure.yml: a failed job skips the job that needs it; if: failure() and if: always() run and read needs; the run exits with the failure’s code', async () => {
    const run = await harness.openRun(workflowFixture('pipeline-failure.yml'));
    expect(await run.ended()).toBe(2);
    expect(run.transcript()).toEqual([
      `message "running 4 jobs one after another, in the order of their needs: compile, package, notify, cleanup ${ONE_AFTER_ANOTHER}"`,
      ...job(
        1,
        'Nightly / compile',
        "job 1/4 'Nightly / compile'",
        [
          'stepStarted 0 "Configure"',
          'stepEnded 0 success exit 0',
          'stepStarted 1 "Compile"',
          'output step 1 "error: undefined reference to main\\n"',
          'stepEnded 1 failure exit 2',
        ],
        'failed 2',
      ),
      `message "job 2/4 'Nightly / package' was skipped: a job it needs did not succeed: compile (failure)"`,
      ...job(2, 'Nightly / notify', "job 3/4 'Nightly / notify'", [
        'stepStarted 0 "Report"',
        'output step 0 "compile failure after configure; package skipped\\n"',
        'stepEnded 0 success exit 0',
      ]),
      ...job(3, 'Nightly / cleanup', "job 4/4 'Nightly / cleanup'", [
        'stepStarted 0 "Clean"',
        'output step 0 "cleanup after notify success\\n"',
        'stepEnded 0 success exit 0',
      ]),
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
      '1: stepStarted 0 "Publish"',
      '1: output step 0 "publishing a.tgz version 2.0.0\\ntest report r.xml\\n"',
      '1: stepEnded 0 success exit 0',
      '1: ended finished 0',
      'ended 0',
    ]);
  });

  it('a cancel while the second job runs ends it as cancelled, starts no other job, and leaves no process', async () => {
    const run = await harness.openRun(workflowFixture('pipeline-slow.yml'));
    await run.said('soaking');
    expect(await run.run.cancel('the user stopped the run')).toBe(130);
    expect(run.transcript()).toEqual([
      `message "running 2 jobs one after another, in the order of their needs: prepare, soak ${ONE_AFTER_ANOTHER}"`,
      ...job(1, 'Long run / prepare', "job 1/2 'Long run / prepare'", [
        'stepStarted 0 "Prepare"',
        'output step 0 "prepared\\n"',
        'stepEnded 0 success exit 0',
      ]),
      ...job(
        2,
        'Long run / soak',
        "job 2/2 'Long run / soak'",
        [
          'stepStarted 0 "Soak"',
          'output step 0 "soaking\\n[cancelled]\\n"',
          'stepEnded 0 cancelled exit 130',
        ],
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
      `message "running 4 jobs one after another, in the order of their needs: version, build/compile, build/package, publish ${ONE_AFTER_ANOTHER}"`,
      ...job(1, 'Release / version', "job 1/4 'Release / version'", [
        'stepStarted 0 "Read version"',
        'stepEnded 0 success exit 0',
      ]),
      `message "job 'Release / build' calls ./.github/workflows/build-reusable.yml: its jobs run here, with the inputs and secrets it passes"`,
      // `with:` read the caller's needs; `target` is the declared default; `debug` a boolean.
      ...job(2, 'Release / build / compile', "job 2/4 'Release / build / compile'", [
        'stepStarted 0 "Compile"',
        'output step 0 "compiling 3.1.0 for linux-x64 (debug true)\\n"',
        'stepEnded 0 success exit 0',
      ]),
      ...job(3, 'Release / build / package', "job 3/4 'Release / build / package'", [
        'stepStarted 0 "Package"',
        'output step 0 "packaging after compile success, signed\\n"',
        'stepEnded 0 success exit 0',
      ]),
      `message "job 'Release / build' (calls ./.github/workflows/build-reusable.yml): success"`,
      ...job(4, 'Release / publish', "job 4/4 'Release / publish'", [
        'stepStarted 0 "Publish"',
        'output step 0 "publishing app-3.1.0-linux-x64.tar.gz (build success)\\n"',
        'stepEnded 0 success exit 0',
      ]),
      'ended 0',
    ]);
  });
});
