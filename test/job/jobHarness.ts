/**
 * The Job API without the adapter: a relay server in this process (the one the embedded relay
 * runs) on a temporary directory, a RelayClient, and a JobRunner wired as the debug session
 * wires it (Breakpoints as its pause policy, WorkflowSteps for a workflow job). Everything the
 * runner says is recorded in order as a numbered transcript, as go-delve's service/dap tests
 * record DAP messages, one layer down:
 *
 *   1 stopped entry at 0 "Paused before the first step"
 *   2 continued
 *   3 stepStarted 0 "greet"
 *   4 output step 0 "hello\n"
 *   5 stepEnded 0 success exit 0
 *   6 ended finished 0
 *
 * Tests write the expected transcript with `numbered(...)`, a step that ran from start to end
 * as one `ran(index, name, output)`.
 *
 * Every command runs with a unique marker in its environment, so that a test can prove from
 * /proc that no process outlived the job. The only imports from src/ are here.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  Breakpoints,
  type BreakpointState,
  type BreakpointSpec,
  type FunctionBreakpointSpec,
} from '../../src/job/breakpoints.js';
import { jobFromSteps, type InlineStep } from '../../src/job/jobFromLaunch.js';
import { jobConditionHolds, jobLevelContext } from '../../src/job/githubFacts.js';
import {
  loadProgram,
  loadProgramRun,
  type ProgramOptions,
  type ProgramRunOptions,
} from '../../src/job/jobFromProgram.js';
import { JobRunner, type JobRunnerEvents, type OutputOrigin } from '../../src/job/jobRunner.js';
import { WorkflowRun } from '../../src/job/workflowRun.js';
import { WorkflowSteps } from '../../src/job/workflowSteps.js';
import type { NeedContext } from '../../src/model/expressionContext.js';
import { RelayClient } from '../../src/relay/client.js';
import { RelayServer } from '../../src/relay/server.js';
import type { JobDefinition } from '../../src/model/jobModel.js';
import type { StepResult } from '../../src/model/stepResult.js';
import { jobFixture, lineOf, workflowFixture, writeFile } from '../support/jobSession.js';
import {
  processesWithMarker,
  reapMarked,
  tempDir,
  tempRelayDir,
  uniqueMarker,
  waitUntil,
} from '../support/relayHarness.js';

export { jobFixture, lineOf, workflowFixture };
export { processesWithMarker, waitUntil };
export type { JobDefinition };

/** Generous: a loaded 2-core machine runs six engineers' tests at once. */
const WAIT_MS = 30_000;

export type Stop = JobRunnerEvents['stopped'][0];

export interface JobRunOptions {
  stopOnEntry?: boolean;
  noDebug?: boolean;
  /** The launch's env (every step and console command gets it). */
  env?: Record<string, string>;
  /** The launch's cwd, on the server's side. */
  cwd?: string;
  /** Exception filters; default: the runner's defaults (failed steps). */
  exceptionFilters?: string[];
}

export interface WorkflowRunHandle {
  run: WorkflowRun;
  /** The run's lines so far, the temporary workdir as <workdir>. */
  transcript(): string[];
  /** The run's exit code, once it has ended. */
  ended(): Promise<number>;
  /** Waits until the transcript has a line containing `text`. */
  said(text: string): Promise<void>;
}

export interface JobRun {
  runner: JobRunner;
  breakpoints: Breakpoints;
  /** The relay server's workdir: where steps run unless the job says otherwise. */
  workdir: string;
  /** In the environment of every command the job runs. */
  marker: string;
  /** The numbered transcript so far. */
  transcript(): string[];
  /** The same without output lines: for a test whose output depends on the machine's load. */
  events(): string[];
  /** Starts the job (`open` does; `prepare` leaves it to the test). */
  start(): void;
  /** Waits for the n-th `stopped` (1-based) and returns it. */
  stop(n: number): Promise<Stop>;
  /** `runner.next()`, then waits for the stop that follows it. */
  next(): Promise<Stop>;
  /** Waits for the stop that follows; it must be the failed-step pause after step `index`. */
  pausedAfter(index: number): Promise<Stop>;
  /** `runner.goto(index, mode)`, which must be accepted, then waits for the stop that follows it. */
  goto(index: number, mode?: 'goto' | 'restart'): Promise<Stop>;
  /** `runner.continue()`, then waits for the stop that follows it. */
  continue(): Promise<Stop>;
  /** `runner.continue()`, then `expectEnded(run, code, ...lines)`. */
  continueToEnd(code: number, ...lines: Array<string | string[]>): Promise<void>;
  /** `runner.continue()`, then `expectFinished(run, ...lines)`. */
  continueToFinish(...lines: Array<string | string[]>): Promise<void>;
  /** Waits for the job to end; its exit code. */
  ended(): Promise<number>;
  /** Waits until the transcript has a line containing `text`. */
  said(text: string): Promise<void>;
  /** Line breakpoints; each is named `line N` (N as asked) in the transcript. */
  setLineBreakpoints(specs: BreakpointSpec[]): BreakpointState[];
  /** Function breakpoints; each is named `fn NAME` in the transcript. */
  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): BreakpointState[];
  /** A console command (`!CMD`), its output recorded as `output console N`. */
  console(text: string): Promise<{ exitCode: number; cancelled: boolean }>;
}

interface Entry {
  line: string;
  /** Output chunks of one origin in a row are one transcript line: chunking is not behaviour. */
  origin?: string;
  text?: string;
}

function describeResult(result: StepResult): string {
  const parts = [`stepEnded ${result.index} ${result.outcome} exit ${result.exitCode ?? 'none'}`];
  if (result.tolerated) parts.push('tolerated');
  if (result.timedOut) parts.push('timedOut');
  if (result.note !== undefined) parts.push(`note ${JSON.stringify(result.note)}`);
  return parts.join(' ');
}

function originName(origin: OutputOrigin): string {
  return origin.kind === 'step' ? `step ${origin.index}` : `console ${origin.id}`;
}

/** Call at the top level of a test file: registers the hooks; `open` starts a job. */
export function useJobHarness() {
  let cleanups: Array<() => Promise<void>> = [];
  let marker = '';

  beforeEach(() => {
    cleanups = [];
    marker = uniqueMarker();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    const survivors = await reapMarked(marker, 15_000);
    expect(survivors, 'processes that outlived the job').toEqual([]);
  });

  /**
   * A runner ready to start: breakpoints set now are in place before the first step, as the
   * session sets those the client sends before configurationDone.
   */
  /** A relay server in this process and its client, stopped and removed after the test. */
  async function startRelay(): Promise<{
    dirs: ReturnType<typeof tempRelayDir>;
    relay: RelayClient;
    server: RelayServer;
  }> {
    const dirs = tempRelayDir();
    const server = await RelayServer.start({
      relayDir: dirs.relayDir,
      workdir: dirs.workdir,
      graceMs: 1000,
      env: { ...process.env, [marker]: '1' },
    });
    const relay = await RelayClient.open({ relayDir: dirs.relayDir, connectTimeoutMs: WAIT_MS });
    return { dirs, relay, server };
  }

  async function prepare(job: JobDefinition, options: JobRunOptions = {}): Promise<JobRun> {
    const { dirs, relay, server } = await startRelay();
    const entries: Entry[] = [];
    const record = (line: string): void => void entries.push({ line });
    const labels = new Map<number, string>();
    // As the session builds them: conditions see the runner's contexts; log points and step
    // summaries go to the console.
    const breakpoints = new Breakpoints(
      job,
      () => runner.expressionContext(),
      (text) => record(`log ${JSON.stringify(text)}`),
    );
    if (options.exceptionFilters) breakpoints.setExceptionFilters(options.exceptionFilters);
    const preparer =
      job.origin === 'workflow'
        ? new WorkflowSteps(job, (text) => record(`console ${JSON.stringify(text)}`))
        : undefined;
    const runner: JobRunner = new JobRunner({
      job,
      relay,
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      env: options.env ?? {},
      stopOnEntry: options.stopOnEntry ?? true,
      noDebug: options.noDebug ?? false,
      output: (chunk, origin) => {
        const name = originName(origin);
        const last = entries[entries.length - 1];
        if (last?.origin === name) last.text += chunk.toString('utf8');
        else entries.push({ line: '', origin: name, text: chunk.toString('utf8') });
      },
      pausePolicy: breakpoints,
      ...(preparer ? { preparer } : {}),
    });
    const stops: Stop[] = [];
    runner.on('stopped', (stop) => {
      stops.push(stop);
      const hits = stop.hitBreakpointIds?.map((id) => labels.get(id) ?? `#${id}`).join(', ');
      record(
        `stopped ${stop.reason} at ${stop.stepIndex}${hits ? ` (${hits})` : ''} ${JSON.stringify(stop.description)}`,
      );
    });
    runner.on('continued', () => record('continued'));
    runner.on('stepStarted', ({ index, step }) =>
      record(`stepStarted ${index} ${JSON.stringify(step.name)}`),
    );
    runner.on('stepEnded', (result) => record(describeResult(result)));
    runner.on('message', (text) => record(`message ${JSON.stringify(text)}`));
    runner.on('ended', ({ exitCode, reason }) => record(`ended ${reason} ${exitCode}`));
    const testName = expect.getState().currentTestName ?? '?';
    cleanups.push(async () => {
      // JOB_TRANSCRIPTS=FILE appends each test's transcript as a JSON line: for writing a new test.
      if (process.env.JOB_TRANSCRIPTS)
        fs.appendFileSync(process.env.JOB_TRANSCRIPTS, JSON.stringify({ testName, t: transcript() }) + '\n');
      if (runner.state !== 'ended') await runner.cancel('the test ended');
      await relay.close();
      await server.stop();
      dirs.cleanup();
    });

    // The temporary workdir reads as <workdir>, so that transcripts are the same on every run.
    const numberedEntries = (kept: Entry[]): string[] =>
      kept.map((entry, i) =>
        `${i + 1} ${entry.origin !== undefined ? `output ${entry.origin} ${JSON.stringify(entry.text)}` : entry.line}`
          .split(dirs.workdir)
          .join('<workdir>'),
      );
    const transcript = (): string[] => numberedEntries(entries);
    let finished: Promise<number> | undefined;
    const label =
      (name: (i: number) => string) =>
      (states: BreakpointState[]): BreakpointState[] => {
        states.forEach((state, i) => labels.set(state.id, name(i)));
        return states;
      };
    const run: JobRun = {
      runner,
      start() {
        finished ??= runner.start();
      },
      breakpoints,
      workdir: dirs.workdir,
      marker,
      transcript,
      events: () => numberedEntries(entries.filter((entry) => entry.origin === undefined)),
      async stop(n) {
        await waitUntil(
          () => stops.length >= n,
          `stop ${n}; transcript:\n${transcript().join('\n')}`,
          WAIT_MS,
        );
        return stops[n - 1]!;
      },
      next() {
        runner.next();
        return run.stop(stops.length + 1);
      },
      async pausedAfter(index) {
        const stop = await run.stop(stops.length + 1);
        expect(runner.pausedAfterIndex).toBe(index);
        return stop;
      },
      goto(index, mode) {
        expect(runner.goto(index, mode)).toBe(true);
        return run.stop(stops.length + 1);
      },
      continue() {
        runner.continue();
        return run.stop(stops.length + 1);
      },
      continueToEnd(code, ...lines) {
        runner.continue();
        return expectEnded(run, code, ...lines);
      },
      continueToFinish(...lines) {
        runner.continue();
        return expectFinished(run, ...lines);
      },
      async ended() {
        await waitUntil(
          () => runner.state === 'ended',
          `the job to end; transcript so far below`,
          WAIT_MS,
        ).catch((error: Error) => {
          throw new Error(`${error.message}\n${transcript().join('\n')}`);
        });
        return finished!;
      },
      async said(text) {
        await waitUntil(
          () => transcript().some((line) => line.includes(text)),
          `${JSON.stringify(text)} in the transcript:\n${transcript().join('\n')}`,
          WAIT_MS,
        );
      },
      setLineBreakpoints: (specs) =>
        label((i) => `line ${specs[i]!.line}`)(breakpoints.setLineBreakpoints(specs)),
      setFunctionBreakpoints: (specs) =>
        label((i) => `fn ${specs[i]!.name}`)(breakpoints.setFunctionBreakpoints(specs)),
      console: (text) => runner.runConsoleCommand(text),
    };
    return run;
  }

  /** A runner, started. */
  async function open(job: JobDefinition, options: JobRunOptions = {}): Promise<JobRun> {
    const run = await prepare(job, options);
    run.start();
    return run;
  }

  /**
   * A workflow run, as a launch of `file` makes it (the launched `job` after the jobs it needs,
   * or every job), on one relay: its transcript has the run's own lines (`jobStarted N name`,
   * `message …`, `ended N`) and each job's events prefixed by its thread (`2: stepStarted 0 …`).
   */
  async function openRun(
    file: string,
    options: {
      job?: string;
      needs?: Record<string, NeedContext>;
      stopOnEntry?: boolean;
      /** The launch's secrets (`secrets: inherit` passes them to a called workflow). */
      secrets?: Record<string, string>;
    } = {},
  ): Promise<WorkflowRunHandle> {
    const jobs = await loadProgramRun(file, {
      ...(options.job !== undefined ? { job: options.job } : {}),
      supplied: Object.keys(options.needs ?? {}),
    });
    const { dirs, relay, server } = await startRelay();
    const lines: string[] = [];
    const record = (line: string): void => void lines.push(line.split(dirs.workdir).join('<workdir>'));
    let threads = 0;
    const run = new WorkflowRun({
      jobs,
      supplied: options.needs ?? {},
      ...(options.secrets ? { secrets: options.secrets } : {}),
      conditionHolds: (job, given, status) => jobConditionHolds(job, undefined, given, status),
      callerContext: (caller, given, status) => jobLevelContext({ jobId: caller }, undefined, given, status),
      makeRunner: (job, given, first) => {
        const thread = ++threads;
        const runner: JobRunner = new JobRunner({
          job,
          relay,
          stopOnEntry: (options.stopOnEntry ?? false) && first,
          noDebug: false,
          output: (chunk, origin) => {
            // Output of one origin in a row is one line: chunking is not behaviour.
            const head = `${thread}: output ${originName(origin)} `;
            const last = lines[lines.length - 1];
            const before = last?.startsWith(head)
              ? (JSON.parse(last.slice(head.length)) as string)
              : undefined;
            if (before !== undefined) lines.pop();
            record(`${head}${JSON.stringify((before ?? '') + chunk.toString('utf8'))}`);
          },
          preparer: new WorkflowSteps(
            job,
            (text) => record(`${thread}: console ${JSON.stringify(text)}`),
            undefined,
            given,
          ),
        });
        runner.on('stopped', (stop) => record(`${thread}: stopped ${stop.reason} at ${stop.stepIndex}`));
        runner.on('stepStarted', ({ index, step }) =>
          record(`${thread}: stepStarted ${index} ${JSON.stringify(step.name)}`),
        );
        runner.on('stepEnded', (result) => record(`${thread}: ${describeResult(result)}`));
        runner.on('ended', ({ exitCode, reason }) => record(`${thread}: ended ${reason} ${exitCode}`));
        return runner;
      },
    });
    run.on('jobStarted', ({ id, runner }) => record(`jobStarted ${id} ${JSON.stringify(runner.job.name)}`));
    run.on('message', (text) => record(`message ${JSON.stringify(text)}`));
    run.on('ended', ({ exitCode }) => record(`ended ${exitCode}`));
    cleanups.push(async () => {
      if (!run.ended) await run.cancel('the test ended');
      await relay.close();
      await server.stop();
      dirs.cleanup();
    });
    const finished = run.start();
    return {
      run,
      transcript: () => [...lines],
      ended: () => finished,
      async said(text) {
        await waitUntil(
          () => lines.some((line) => line.includes(text)),
          `${JSON.stringify(text)} in the transcript:\n${lines.join('\n')}`,
          WAIT_MS,
        );
      },
    };
  }

  /** A runner started without the entry pause, waited for at its pause before step `name` (a function breakpoint). */
  async function pausedBefore(job: JobDefinition, name: string): Promise<JobRun> {
    const run = await prepare(job, { stopOnEntry: false });
    run.setFunctionBreakpoints([{ name }]);
    run.start();
    await run.stop(1);
    return run;
  }

  return {
    open,
    openRun,
    prepare,
    pausedBefore,
    /** A launch's `steps` (or a `command`, as one step). */
    steps: (inline: InlineStep[]): JobDefinition => jobFromSteps(inline),
    /** A job file or a workflow, as the launch argument `program` reads it. */
    program: (file: string, options: ProgramOptions = {}): Promise<JobDefinition> =>
      loadProgram(file, options),
    /** The jobs a launch of `file` runs, in run order (`supplied`: jobs the launch gives `needs` of). */
    programRun: (file: string, options: ProgramRunOptions = {}): Promise<JobDefinition[]> =>
      loadProgramRun(file, options),
    /** Writes `text` to a fresh file under a temporary directory removed after the test. */
    writeFile(name: string, text: string): string {
      const dir = tempDir('relay-job-');
      cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      return writeFile(dir, name, text);
    },
  };
}

/** The 1-based line of the first line of `job`'s source text holding `text` (after `after`). */
export function lineIn(job: JobDefinition, text: string, after = 0): number {
  const index = job.sourceText.split('\n').findIndex((line, i) => i >= after && line.includes(text));
  if (index < 0) throw new Error(`no line of the job's source holds ${JSON.stringify(text)}`);
  return index + 1;
}

/** The transcript's line for the pause before the first step (stopOnEntry). */
export const ENTRY = 'stopped entry at 0 "Paused before the first step"';
/** The transcript's line for the pause after `next`, before step `index`. */
export const nextStop = (index: number): string => `stopped step at ${index} "Paused before the next step"`;
/** The transcript's line for the failed-step pause after step `index`, `name`, that exited with `code`. */
export const failedStop = (index: number, name: string, code: number): string =>
  `stopped exception at ${index} "${name} failed with exit code ${code}"`;
/** The transcript's last lines for a job cancelled (`runner.cancel(reason)`) while no command ran. */
export const cancelledBy = (reason: string): string[] => [
  `message "cancelling: ${reason}"`,
  'ended cancelled 130',
];
/** The transcript's last line for a job whose steps all passed. */
export const FINISHED = 'ended finished 0';

/** A stop the job was moved on from (continue, next, goto): its line, then `continued`. */
export const resumed = (stop: string): string[] => [stop, 'continued'];

/**
 * The transcript of a job paused on entry and then moved with `next` through all its `steps`
 * (each as `ran` gives it): every step runs, then the job pauses before the next one (up to
 * the job's end, which is not in it).
 */
export function nextedThrough(steps: string[][]): string[] {
  const walked = steps.flatMap((step, i) => (i === 0 ? step : [...resumed(nextStop(i)), ...step]));
  return [...resumed(ENTRY), ...walked];
}

/** A transcript as a test writes it: event lines and `ran` groups, numbered from 1. */
export function numbered(...lines: Array<string | string[]>): string[] {
  return lines.flat().map((line, i) => `${i + 1} ${line}`);
}

/** `run` ends with exit `code`, and its transcript is `lines` (numbered as by `numbered`). */
export async function expectEnded(
  run: Pick<JobRun, 'ended' | 'transcript'>,
  code: number,
  ...lines: Array<string | string[]>
): Promise<void> {
  expect(await run.ended()).toBe(code);
  expect(run.transcript()).toEqual(numbered(...lines));
}

/** `run` finishes with exit 0, its transcript `lines` and then FINISHED. */
export function expectFinished(
  run: Pick<JobRun, 'ended' | 'transcript'>,
  ...lines: Array<string | string[]>
): Promise<void> {
  return expectEnded(run, 0, ...lines, FINISHED);
}

/**
 * The end of a job whose step `index`, `name`, printed `output` and exited with `code`: the
 * failed-step pause after it, `continued`, and the job's end with the step's code.
 */
export function failedThenEnded(index: number, name: string, output: string, code: number): string[] {
  return [
    ...ran(index, name, output, `failure exit ${code}`),
    ...resumed(failedStop(index, name, code)),
    `ended failed ${code}`,
  ];
}

/**
 * The lines of one step that ran from start to end with nothing in between: `stepStarted`,
 * its output (if any) and `stepEnded` with `end` (outcome and exit code; default a success).
 */
export function ran(index: number, name: string, output?: string, end = 'success exit 0'): string[] {
  return [
    `stepStarted ${index} ${JSON.stringify(name)}`,
    ...(output !== undefined ? [`output step ${index} ${JSON.stringify(output)}`] : []),
    `stepEnded ${index} ${end}`,
  ];
}
