/**
 * A step run under the Python debugger (or a `!debug` program and its Python subprocesses),
 * on the editor's side: the hub's channel (its far side
 * and why it is safe: pythonProcessHub.ts), what the step's command gets to reach it, and for
 * each Python process the hub announces, debugpy's adapter on a channel of its own, handed to
 * whoever opens the child session (the runner's `debuggedProcess` event).
 *
 * Lifetime: opened before the step's text is made, closed once the step's command has ended.
 * Closing ends the hub (its directory goes with it); each adapter then ends with its session
 * (its process is gone, the client disconnects), or is stopped after ADAPTER_GRACE_MS. A
 * cancel stops the hub and every adapter at once.
 */
import readline from 'node:readline';
import type { ChannelRequest, RelayChannel } from '../relay/channel.js';
import { isRelayError } from '../relay/errors.js';
import { parseHandshake, readFirstLine, type Handshake } from './debugpyAdapter.js';
import { adapterText, hubText, HUB_VARIABLE, type HubLine } from './pythonProcessHub.js';

/** How long an adapter may outlive its step (its session's goodbye), before it is stopped. */
const ADAPTER_GRACE_MS = 10_000;

/** Whose Python processes are debugged: a step (a JobStep), or a `!debug` program (no index). */
export interface DebuggedOwner {
  name: string;
  index?: number;
  /** A step's own `cwd:`, for path mapping. */
  cwd?: string;
}

/** A Python process of a debugged step, waiting for its child session. */
export interface DebuggedProcess {
  step: DebuggedOwner;
  pid: number;
  /** Its command line, as the far side has it. */
  argv: string[];
  /** debugpy's adapter for it: its DAP on this channel, from right after its handshake (paused). */
  channel: RelayChannel;
  far: Handshake;
}

export interface PythonStepHost {
  openChannel(request: ChannelRequest): Promise<RelayChannel>;
  /** A line for the console. */
  say(line: string): void;
  /** A process is ready to be debugged. */
  debug(process: DebuggedProcess): void;
}

/** What a debugged step's command gets on top of its context. */
export interface DebugExports {
  env: Record<string, string>;
  pythonPathPrepend: string[];
}

export class PythonStepDebugging {
  private readonly adapters = new Set<RelayChannel>();
  private missingSaid = false;
  private closing: Promise<void> | undefined;
  /** A `!debug` program that found no debugpy (it did not run): the interpreter it named. */
  programMissing: string | undefined;
  /** Processes announced so far. */
  announced = 0;
  private readonly synced = new Map<number, () => void>();
  private nextSync = 1;

  private constructor(
    private readonly step: DebuggedOwner,
    private readonly hub: RelayChannel,
    private readonly where: { hub: string; site: string },
    private readonly host: PythonStepHost,
  ) {
    // readline resumes the hub's stream, paused after its first line.
    const lines = readline.createInterface({ input: hub, crlfDelay: Infinity });
    lines.on('line', (line) => this.heard(line));
    // The hub's end is read through `exit`; its stream's errors are the same news.
    hub.on('error', () => {});
  }

  /**
   * Starts the hub for `step`; undefined (said once) when it cannot start: a relay without
   * channels, no python there. The step then runs as it would without the debugger.
   */
  static async open(step: DebuggedOwner, host: PythonStepHost): Promise<PythonStepDebugging | undefined> {
    try {
      return await PythonStepDebugging.start(step, host);
    } catch (error) {
      if (!(error instanceof HubRefusal)) throw error;
      host.say(`${labelOf(step)} runs without the Python debugger: ${error.message}`);
      return undefined;
    }
  }

  /** As open, but a hub that cannot start throws a HubRefusal saying why (`!debug` cannot do without). */
  static async start(step: DebuggedOwner, host: PythonStepHost): Promise<PythonStepDebugging> {
    let hub: RelayChannel;
    try {
      hub = await host.openChannel({ text: hubText(), stderr: 'exit' });
    } catch (error) {
      if (!isRelayError(error)) throw error;
      throw new HubRefusal(error.message);
    }
    const first = await readFirstLine(hub).catch(() => undefined);
    const where = first === undefined ? undefined : parseHub(first);
    if (where === undefined) {
      hub.cancel();
      const exit = await hub.exit.catch(() => undefined);
      const last = (exit?.stderr ?? first ?? '').trim().split('\n').pop() ?? '';
      throw new HubRefusal(
        `no python3 on the relay server's side started its helper${last ? ` (${last})` : ''}: install python3 there`,
      );
    }
    return new PythonStepDebugging(step, hub, where, host);
  }

  /** The hub's socket, and the bootstrap's directory first on PYTHONPATH. */
  get exports(): DebugExports {
    return { env: { [HUB_VARIABLE]: this.where.hub }, pythonPathPrepend: [this.where.site] };
  }

  private heard(text: string): void {
    let line: HubLine;
    try {
      line = JSON.parse(text) as HubLine;
    } catch {
      return;
    }
    if ('synced' in line) {
      this.synced.get(line.synced)?.();
      this.synced.delete(line.synced);
      return;
    }
    if ('missing' in line) {
      if (line.program) {
        this.programMissing = line.python;
        return;
      }
      if (this.missingSaid) return;
      this.missingSaid = true;
      this.host.say(
        `${labelOf(this.step)}: debugpy is not installed for ${line.python} on the relay server's side, so its Python runs without the debugger: install it there with \`${line.python} -m pip install debugpy\` or \`apt-get install python3-debugpy\``,
      );
      return;
    }
    if ('process' in line) {
      this.announced++;
      void this.openAdapter(line);
    }
  }

  /**
   * Resolves once every line the hub wrote so far has been heard (what a process told it before
   * it ended, say); at once if the hub has ended.
   */
  sync(): Promise<void> {
    if (this.hub.writableEnded || this.hub.destroyed) return Promise.resolve();
    const key = this.nextSync++;
    const heard = new Promise<void>((resolve) => this.synced.set(key, resolve));
    this.hub.write(`${JSON.stringify({ sync: key })}\n`);
    return Promise.race([heard, this.hub.exit.then(noop, noop)]);
  }

  /** debugpy's adapter for one announced process, on a channel of its own. */
  private async openAdapter(process: Extract<HubLine, { process: number }>): Promise<void> {
    if (this.closing) return this.release(process.process);
    let channel: RelayChannel;
    try {
      channel = await this.host.openChannel({
        text: adapterText(this.where.hub, process.process, process.python, process.debugpy),
        cwd: process.cwd,
        stderr: 'exit',
      });
    } catch (error) {
      this.host.say(`process ${process.pid} runs without the debugger: ${(error as Error).message}`);
      return this.release(process.process);
    }
    this.adapters.add(channel);
    void channel.exit.catch(() => undefined).finally(() => this.adapters.delete(channel));
    try {
      const line = await readFirstLine(channel);
      if (line === undefined) throw new Error(`debugpy's adapter ended at once (${process.python})`);
      const far = parseHandshake(line.trimEnd(), process.python);
      this.host.debug({ step: this.step, pid: process.pid, argv: process.argv, channel, far });
    } catch (error) {
      this.host.say(`process ${process.pid} runs without the debugger: ${(error as Error).message}`);
      channel.cancel();
      this.release(process.process);
    }
  }

  /** Process `key` runs on without the debugger (it still waits for an answer). */
  private release(key: number): void {
    if (!this.hub.writableEnded) this.hub.write(`${JSON.stringify({ release: key })}\n`);
  }

  /**
   * The step's command has ended: the hub goes, and each adapter ends with its session or after
   * the grace period. Resolves once every channel has ended.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.end();
      const ended = [...this.adapters].map(async (channel) => {
        const exit = channel.exit.catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>(
          (resolve) => (timer = setTimeout(() => resolve('late'), ADAPTER_GRACE_MS)),
        );
        if ((await Promise.race([exit, late])) === 'late') channel.cancel();
        clearTimeout(timer);
        await exit;
      });
      await Promise.all([this.hub.exit.catch(() => undefined), ...ended]);
    })();
    return this.closing;
  }

  /** The job is cancelled: the hub and every adapter stop now. */
  cancel(): Promise<void> {
    this.hub.cancel();
    for (const channel of this.adapters) channel.cancel();
    return this.close();
  }
}

/** Why a hub could not start (a relay without channels, no python there): one line. */
export class HubRefusal extends Error {}

function noop(): void {}

/** `step 2 (Train)`, or a `!debug`'s name as it is. */
function labelOf(owner: DebuggedOwner): string {
  return owner.index === undefined ? owner.name : `step ${owner.index + 1} (${owner.name})`;
}

function parseHub(line: string): { hub: string; site: string } | undefined {
  try {
    const value = JSON.parse(line) as Partial<{ hub: string; site: string }>;
    return typeof value.hub === 'string' && typeof value.site === 'string'
      ? { hub: value.hub, site: value.site }
      : undefined;
  } catch {
    return undefined;
  }
}
