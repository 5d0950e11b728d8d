/**
 * The jobs of a run as DAP threads: one thread per job that started, named after the job, each
 * with its own view (frames, scopes, variables) and its own events. Frame ids and variable
 * references carry their thread (THREAD_ID_SPACE apart), so a `scopes`, `variables` or
 * `evaluate` finds the job it is about without the client saying which thread.
 */
import { Thread, ThreadEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { JobRunner } from '../job/jobRunner.js';
import type { JobThread, WorkflowRun } from '../job/workflowRun.js';
import { ErrorId, RequestError } from './errors.js';
import { JobEvents } from './jobEvents.js';
import { JobView, sourceOf, THREAD_ID_SPACE } from './jobView.js';
import type { OutputChannel } from './outputChannel.js';

export interface ShownJob {
  threadId: number;
  runner: JobRunner;
  view: JobView;
  events: JobEvents;
}

export class JobThreads {
  private readonly shown: ShownJob[] = [];

  constructor(
    private readonly run: WorkflowRun,
    output: OutputChannel,
    send: (event: DebugProtocol.Event) => void,
    toClientLine: (line: number) => number,
    progressBars: boolean,
    /** The launch's secrets and `::add-mask::` values become `***` in what a view shows. */
    mask: (text: string) => string,
  ) {
    run.on('jobStarted', (thread: JobThread) => {
      const { id, runner } = thread;
      const view = new JobView(runner, sourceOf(runner.job), toClientLine, mask, (id - 1) * THREAD_ID_SPACE);
      const events = new JobEvents(runner, view, output, send, progressBars, id);
      this.shown.push({ threadId: id, runner, view, events });
      // A run of one job has always been thread 1 without a word; a run of several says each.
      if (run.multiJob) send(new ThreadEvent('started', id));
    });
    run.on('message', (message) => output.console(`relay-dap: ${message}`));
  }

  /** The job that runs now (or ran last): run control (continue, next, pause, `!CMD`) goes to it. */
  get current(): ShownJob | undefined {
    return this.shown[this.shown.length - 1];
  }

  /** Every job that started, as DAP threads. A job that ended stays, with its finished steps. */
  threads(): DebugProtocol.Thread[] {
    return this.shown.map(({ threadId, runner }) => new Thread(threadId, `job: ${runner.job.name}`));
  }

  ofThread(threadId: number): ShownJob {
    const found = this.shown.find((shown) => shown.threadId === threadId);
    if (found) return found;
    throw new RequestError(
      ErrorId.UnknownReference,
      `there is no thread ${threadId}: ask for the threads again (threads ${this.shown.map((s) => s.threadId).join(', ')})`,
    );
  }

  /** The job a frame id or variables reference belongs to. */
  ofId(id: number): ShownJob {
    const threadId = Math.floor(id / THREAD_ID_SPACE) + 1;
    const found = this.shown.find((shown) => shown.threadId === threadId);
    if (found) return found;
    throw new RequestError(
      ErrorId.UnknownReference,
      `there is no frame or variables reference ${id}: ask for the stack trace again`,
    );
  }
}
