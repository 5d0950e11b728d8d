/**
 * GitHub's background steps run beside the job's queue: a `background: true` step starts as a
 * relay channel (docs/relay-protocol.md Part D: its process tree is the channel's, stderr folded
 * into its stream) and the job goes on at once; `wait:` / `wait-all:` wait for their exits;
 * `cancel:` stops one (the channel's cancel: its whole tree); and at the job's end every one
 * still running is stopped, so that none outlives the job. Its output reaches the console as it
 * arrives, line by line, each line prefixed with the step's name (the session's OutputChannel
 * masks it as any step's output).
 *
 * A relay whose server opens no channels (Part A) runs a background step to its end before the
 * next one, as before, and says so: `start` returns undefined and the runner runs it in turn.
 */
import type { StepResult } from '../model/stepResult.js';
import type { RelayChannel } from '../relay/channel.js';
import { RelayError } from '../relay/errors.js';
import type { JobRunner } from './jobRunner.js';

/** A background step that was started: its channel and the promise of its result. */
interface Started {
  name: string;
  channel: RelayChannel;
  /** Set when a `cancel:` step (or the job's end) stopped it: not a failure of the job. */
  stopped: boolean;
  ended: Promise<StepResult>;
}

export class BackgroundSteps {
  private readonly started = new Map<number, Started>();
  /** Once the server said it opens no channels: background steps run in turn from then on. */
  private noChannels = false;

  constructor(
    private readonly say: (text: string) => void,
    /** Records a background step's result once it ended (its `steps.<id>`, its result line). */
    private readonly ended: (result: StepResult, runner: JobRunner) => Promise<void>,
  ) {}

  /**
   * Starts step `index` (its relayed `text`) beside the queue; undefined when the relay cannot
   * (no channels): the caller runs it in turn.
   */
  async start(index: number, name: string, text: string, runner: JobRunner): Promise<true | undefined> {
    if (this.noChannels) return this.inTurn(index, name);
    let channel: RelayChannel;
    try {
      channel = await runner.openChannel({ text, stderr: 'stdout' });
    } catch (error) {
      if (error instanceof RelayError && error.code === 'NO_CHANNELS') {
        this.noChannels = true;
        return this.inTurn(index, name);
      }
      throw error;
    }
    const began = performance.now();
    const entry: Started = { name, channel, stopped: false, ended: Promise.resolve(undefined as never) };
    entry.ended = this.follow(index, entry, runner, began);
    this.started.set(index, entry);
    this.say(`step ${index + 1} (${name}) runs in the background; its output lines start with [${name}]`);
    return true;
  }

  /** Whether step `index` was started in the background and has not been waited for. */
  has(index: number): boolean {
    return this.started.has(index);
  }

  /** Waits for the background steps at `indexes` (all started ones: wait-all). */
  async wait(indexes: readonly number[] | 'all'): Promise<void> {
    const chosen = indexes === 'all' ? [...this.started.keys()] : indexes;
    const ending = chosen.map((index) => this.started.get(index)?.ended ?? Promise.resolve(undefined));
    await Promise.all(ending);
  }

  /** Stops the background step at `index` (its whole process tree) and waits for its end. */
  async cancel(index: number): Promise<void> {
    const entry = this.started.get(index);
    if (entry === undefined) return;
    entry.stopped = true;
    entry.channel.cancel();
    await entry.ended;
  }

  /** At the job's end: stops every background step still running, and waits until each has ended. */
  async stopAll(): Promise<void> {
    const running = [...this.started.entries()];
    for (const [index, entry] of running) {
      if (!entry.stopped) {
        entry.stopped = true;
        this.say(
          `step ${index + 1} (${entry.name}) still runs in the background at the job's end: stopping it`,
        );
        entry.channel.cancel();
      }
    }
    await Promise.all(running.map(([, entry]) => entry.ended));
  }

  private inTurn(index: number, name: string): undefined {
    this.say(
      `step ${index + 1} (${name}): background: it runs to its end before the next one here, as the relay server opens no channels ` +
        '(a Part-A server); a service that runs until cancelled never ends: skip it (Set Next Step) or serve the relay with a current relay-dap',
    );
    return undefined;
  }

  /** Streams the channel's output, line by line with the step's prefix, then records its result. */
  private async follow(index: number, entry: Started, runner: JobRunner, began: number): Promise<StepResult> {
    const prefix = Buffer.from(`[${entry.name}] `);
    let partial = Buffer.alloc(0);
    let tail = '';
    const emit = async (line: Buffer): Promise<void> => {
      tail = (tail + line.toString('utf8')).slice(-4096);
      await runner.backgroundOutput(Buffer.concat([prefix, line]), index);
    };
    try {
      for await (const chunk of entry.channel as AsyncIterable<Buffer>) {
        partial = Buffer.concat([partial, chunk]);
        let newline = partial.indexOf(0x0a);
        while (newline !== -1) {
          await emit(partial.subarray(0, newline + 1));
          partial = partial.subarray(newline + 1);
          newline = partial.indexOf(0x0a);
        }
      }
    } catch {
      // The stream ended early (the relay failed): `exit` says why.
    }
    if (partial.length > 0) await emit(Buffer.concat([partial, Buffer.from('\n')]));
    let result: StepResult;
    const durationMs = performance.now() - began;
    try {
      const exit = await entry.channel.exit;
      result =
        exit.cancelled || entry.stopped
          ? {
              index,
              outcome: 'cancelled',
              exitCode: exit.exitCode,
              durationMs,
              outputTail: tail,
              note: 'stopped in the background',
              // Stopped on purpose (a `cancel:` step, the job's end): not a failure of the job.
              ...(entry.stopped ? { tolerated: true } : {}),
            }
          : {
              index,
              outcome: exit.exitCode === 0 ? 'success' : 'failure',
              exitCode: exit.exitCode,
              durationMs,
              outputTail: tail,
            };
    } catch (error) {
      result = {
        index,
        outcome: 'failure',
        exitCode: null,
        durationMs,
        outputTail: tail,
        note: (error as Error).message,
      };
    }
    await this.ended(result, runner);
    return result;
  }
}
