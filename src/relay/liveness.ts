/**
 * Is there a relay server, and is it alive? Part A has only `server.ready`, which a killed
 * server leaves behind (Part B, defect 4); Part C adds the heartbeat. Two clocks are never
 * compared: on the server's own host the heartbeat's timestamp is read against the same
 * clock, and from another host only *changes* of the heartbeat count, timed locally.
 */
import fs from 'node:fs';
import { describeFullDisk } from './diskSpace.js';
import { readTextIfExists } from './files.js';
import type { RelayLayout } from './layout.js';
import {
  describeMarker,
  heartbeatMillis,
  isProcessAlive,
  isThisHost,
  parseMarker,
  type Marker,
} from './markers.js';
import { processStartEpochMs } from './processTree.js';

/** The server writes its heartbeat every second; this much silence means it is gone. */
export const DEFAULT_STALE_AFTER_MS = 3500;
/**
 * On the server's own host its process can be seen directly, so a late heartbeat only means
 * a loaded machine; this much silence from a live process means it hangs.
 */
export const LOCAL_HUNG_AFTER_MS = 30_000;

export type ServerLiveness =
  | { state: 'none'; detail: string }
  /** server.ready exists but does not hold a marker yet: a Part-A server writes it in place. */
  | { state: 'starting'; detail: string }
  | {
      state: 'alive';
      marker: Marker;
      heartbeatAgeMs: number | undefined;
      /**
       * No heartbeat of its own: a Part-A server. It never reads `owner`, so it cannot hand the
       * directory over; and it never touches `running`, so its command looks stale while it runs.
       */
      partA: boolean;
      detail: string;
      /** Alive, but its heartbeat stopped changing because the disk is full (from statfs). */
      diskFull?: string;
    }
  | { state: 'gone'; marker: Marker; detail: string };

/** Remembers when a watched value last changed, by this process's monotonic clock. */
export class ChangeClock {
  private last = new Map<string, { value: string; changedAt: number }>();

  /** Milliseconds since `value` last changed for `key`; 0 the first time it is seen. */
  sinceChange(key: string, value: string): number {
    const now = performance.now();
    const seen = this.last.get(key);
    if (!seen || seen.value !== value) {
      this.last.set(key, { value, changedAt: now });
      return 0;
    }
    return now - seen.changedAt;
  }

  forget(key: string): void {
    this.last.delete(key);
  }
}

/**
 * The process named by server.ready is alive and is the one that wrote it: it started before
 * the marker's time (a pid reused by a later process started after it).
 */
function isSameProcess(ready: Marker): boolean {
  if (!isProcessAlive(ready.pid)) return false;
  const started = processStartEpochMs(ready.pid);
  const written = Date.parse(ready.stamp);
  return started === undefined || Number.isNaN(written) || started <= written + 2000;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export class ServerLivenessJudge {
  private readonly clock = new ChangeClock();

  constructor(
    private readonly layout: RelayLayout,
    private readonly staleAfterMs = DEFAULT_STALE_AFTER_MS,
  ) {}

  judge(): ServerLiveness {
    const readyText = readTextIfExists(this.layout.serverReady);
    const ready = parseMarker(readyText);
    if (readyText === undefined) {
      return { state: 'none', detail: `no relay server at ${this.layout.root} (no server.ready)` };
    }
    if (!ready) {
      return {
        state: 'starting',
        detail: `relay server at ${this.layout.root} is starting (server.ready holds ${JSON.stringify(readyText.slice(0, 40))}, not host:pid:time)`,
      };
    }
    const heartbeatText = readTextIfExists(this.layout.heartbeat);
    // Only the server's own heartbeat counts: one left by an earlier server (ours, killed) says
    // nothing about a Part-A server that came after it.
    const beat = parseMarker(heartbeatText);
    const heartbeat = beat && beat.host === ready.host && beat.pid === ready.pid ? beat : undefined;
    const who = `relay server ${describeMarker(ready)}`;
    const age = this.heartbeatAge(heartbeat, heartbeatText);
    const touchedAgo = this.heartbeatTouchedAgo();
    let staleAfter = this.staleAfterMs;
    let alive = false;
    if (isThisHost(ready)) {
      if (isSameProcess(ready)) {
        alive = true;
        staleAfter = Math.max(staleAfter, LOCAL_HUNG_AFTER_MS);
      } else if (age === undefined || age > 1500) {
        // (A live server in another pid namespace on the same hostname still beats: that case stays alive.)
        return { state: 'gone', marker: ready, detail: `${who} is not running (no process ${ready.pid})` };
      }
    }
    // A heartbeat that stopped changing on a full disk: the server cannot write it, and
    // touches it instead (see diskSpace.ts). Its process, or that touch, says it is alive.
    const diskFull =
      age !== undefined && age > this.staleAfterMs ? describeFullDisk(this.layout.root) : undefined;
    if (diskFull !== undefined) {
      if (alive || (touchedAgo !== undefined && touchedAgo <= this.staleAfterMs)) {
        return {
          state: 'alive',
          marker: ready,
          heartbeatAgeMs: age,
          partA: false,
          diskFull,
          detail: `${who} is alive but cannot write its heartbeat: ${diskFull}`,
        };
      }
      return {
        state: 'gone',
        marker: ready,
        detail: `${who} stopped answering (no heartbeat for ${seconds(age!)}), and ${diskFull}`,
      };
    }
    if (age !== undefined && age > staleAfter) {
      return {
        state: 'gone',
        marker: ready,
        detail: `${who} stopped answering (no heartbeat for ${seconds(age)})`,
      };
    }
    return {
      state: 'alive',
      marker: ready,
      heartbeatAgeMs: age,
      partA: heartbeat === undefined,
      detail:
        age === undefined
          ? `${who} (no heartbeat: a Part-A server)`
          : `${who}, heartbeat ${seconds(age)} ago`,
    };
  }

  /** Since the heartbeat's mtime last changed, by this process's clock (never the server's). */
  private heartbeatTouchedAgo(): number | undefined {
    try {
      return this.clock.sinceChange('heartbeat mtime', String(fs.statSync(this.layout.heartbeat).mtimeMs));
    } catch {
      return undefined;
    }
  }

  private heartbeatAge(heartbeat: Marker | undefined, text: string | undefined): number | undefined {
    if (!heartbeat || text === undefined) return undefined;
    const millis = heartbeatMillis(heartbeat);
    if (isThisHost(heartbeat) && millis !== undefined) return Math.max(0, Date.now() - millis);
    return this.clock.sinceChange('heartbeat', text);
  }
}

/**
 * Whether the server running a command is still there, judged from the `running` file it
 * touches every second, for a server that took over from a predecessor it cannot ask.
 */
export function runningFileAge(layout: RelayLayout, clock: ChangeClock): number | undefined {
  try {
    const stat = fs.statSync(layout.running);
    return clock.sinceChange('running', `${stat.mtimeMs}:${stat.ino}`);
  } catch {
    return undefined;
  }
}
