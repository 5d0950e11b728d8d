/**
 * A running job as the client sees it happen: its pauses as `stopped` events, each step as a
 * header line before its output (and a progress bar, if the client shows them), the runner's own messages on
 * the console, and each output stream closed when it ends, so that a character split at its
 * very end is still written.
 */
import { ProgressEndEvent, ProgressStartEvent, StoppedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { JobRunner, OutputOrigin } from '../job/jobRunner.js';
import { describeResult, type JobView } from './jobView.js';
import type { OutputChannel } from './outputChannel.js';

export const THREAD_ID = 1;

/** Output streams by origin: each step and each console command decodes on its own. */
export function outputKey(origin: OutputOrigin): string {
  return origin.kind === 'step' ? `step:${origin.index}` : `console:${origin.id}`;
}

export class JobEvents {
  private readonly progressByStep = new Map<number, string>();

  constructor(
    private readonly runner: JobRunner,
    view: JobView,
    output: OutputChannel,
    send: (event: DebugProtocol.Event) => void,
    progressBars: boolean,
    /** The job's thread (a run of several jobs has one per job). */
    threadId = THREAD_ID,
  ) {
    runner.on('stopped', (stop) => {
      const event: DebugProtocol.StoppedEvent = new StoppedEvent(stop.reason, threadId);
      event.body.description = stop.description;
      event.body.allThreadsStopped = true;
      if (stop.hitBreakpointIds) event.body.hitBreakpointIds = stop.hitBreakpointIds;
      send(event);
    });
    runner.on('stepStarted', ({ index }) => {
      output.stepHeader(view.stepStartedLine(index));
      if (!progressBars) return;
      const progressId = `step-${index}-${Date.now()}`;
      this.progressByStep.set(index, progressId);
      const title = view.stepProgressTitle(index);
      const event: DebugProtocol.ProgressStartEvent = new ProgressStartEvent(progressId, title);
      event.body.cancellable = true;
      send(event);
    });
    runner.on('outputEnded', (origin) => output.end(outputKey(origin)));
    runner.on('stepEnded', (result) => {
      output.console(view.stepEndedLine(result));
      const progressId = this.progressByStep.get(result.index);
      if (!progressId) return;
      this.progressByStep.delete(result.index);
      send(new ProgressEndEvent(progressId, describeResult(result)));
    });
    runner.on('message', (message) => output.console(`relay-dap: ${message}`));
  }

  /** The client cancelled a progress bar: the step it shows is cancelled. */
  cancelProgress(progressId: string, output: OutputChannel | undefined): void {
    for (const [index, id] of this.progressByStep) {
      if (id !== progressId) continue;
      output?.console(`relay-dap: cancelling step ${index + 1}: its progress was cancelled`);
      this.runner.cancelStep();
    }
  }
}
