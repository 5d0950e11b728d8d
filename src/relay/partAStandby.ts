/**
 * Standing by beside a live Part-A server. A Part-A server never reads `owner`, so it cannot
 * step down as our servers do when another claims the directory; and it never touches
 * `running`, so its command looks stale while it runs. Taking its directory over would run
 * two commands at once and settle a live command as dead (a false exit 125). So a server of
 * ours that finds one alive writes nothing and runs nothing: it logs that server's commands
 * as they start and end, and hands back once that server has stopped or died.
 */
import { ChangeWatcher } from './changeWatcher.js';
import { readTextIfExists } from './files.js';
import type { RelayLayout } from './layout.js';
import type { ServerLiveness, ServerLivenessJudge } from './liveness.js';
import { describeMarker, type Marker } from './markers.js';
import { parseRunningMarker } from './runningMarker.js';
import type { WatchChoice } from './watchMode.js';

const CHECK_MS = 1000;

export interface PartAStandbyOptions {
  layout: RelayLayout;
  judge: ServerLivenessJudge;
  /** The live Part-A server, as the judge found it. */
  server: ServerLiveness & { state: 'alive' };
  watchChoice: WatchChoice;
  log: (line: string) => void;
  onError: (error: unknown) => void;
  /** The Part-A server has stopped or died: `now` is the judge's latest word. Called once. */
  onGone: (now: ServerLiveness) => void;
}

export class PartAStandby {
  readonly marker: Marker;
  private running: string | undefined;
  private exit: string | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly watcher: ChangeWatcher;
  private closed = false;

  constructor(private readonly options: PartAStandbyOptions) {
    const { layout, server } = options;
    this.marker = server.marker;
    options.log(
      `${server.detail} serves ${layout.root}; a Part-A server cannot hand a directory over, so this server ` +
        `stands by, running nothing, and takes over once it has stopped (stop it with \`kill ${this.marker.pid}\` ` +
        `on ${this.marker.host} when its command has ended; if it is gone, remove ${layout.serverReady})`,
    );
    this.noteActivity();
    this.timer = setInterval(() => this.check(), CHECK_MS);
    // Events on result/ catch its `.exit` before its client takes it, so the log can say the code.
    this.watcher = new ChangeWatcher([layout.root, layout.resultDir], options.watchChoice, () =>
      this.noteActivity(),
    );
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.watcher.close();
  }

  private check(): void {
    let now: ServerLiveness;
    try {
      this.noteActivity();
      now = this.options.judge.judge();
    } catch (error) {
      this.options.onError(error);
      return;
    }
    if (now.state === 'alive' && now.partA && now.marker.raw === this.marker.raw) return;
    this.options.log(
      now.state === 'gone'
        ? `${now.detail}; taking over ${this.options.layout.root}`
        : `relay server ${describeMarker(this.marker)} (Part A) has stopped; taking over ${this.options.layout.root}`,
    );
    this.close();
    this.options.onGone(now);
  }

  /** Log its commands as they start and end: ids, and the exit code that server wrote. */
  private noteActivity(): void {
    if (this.closed) return;
    const { layout, log } = this.options;
    try {
      if (this.running !== undefined) {
        this.exit = readTextIfExists(layout.exit(this.running))?.trim() ?? this.exit;
      }
      const text = readTextIfExists(layout.running);
      const id = text === undefined ? undefined : parseRunningMarker(text).id;
      if (id === this.running) return;
      const who = `relay server ${describeMarker(this.marker)} (Part A)`;
      if (this.running !== undefined) {
        log(
          `[${this.running}] ended on ${who}: ` +
            (this.exit !== undefined
              ? `exit ${this.exit}, written by that server`
              : 'its client has taken the result'),
        );
      }
      if (id !== undefined) log(`[${id}] running on ${who}; this server leaves it alone`);
      this.running = id;
      this.exit = undefined;
    } catch (error) {
      this.options.onError(error);
    }
  }
}
