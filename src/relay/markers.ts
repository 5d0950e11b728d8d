/**
 * The `host:pid:stamp` markers (owner, server.ready, client.ready, handshake.done, heartbeat),
 * and the liveness judgement built on them.
 */
import fs from 'node:fs';
import os from 'node:os';

export interface Marker {
  host: string;
  pid: number;
  /** The rest after the second colon: an ISO date, epoch_ns or epoch_ms, depending on the file. */
  stamp: string;
  raw: string;
}

export function formatMarker(stamp: string, pid: number = process.pid): string {
  return `${os.hostname()}:${pid}:${stamp}\n`;
}

/** ISO-8601 stamps hold colons themselves, so only the first two colons separate fields. */
export function parseMarker(text: string | undefined): Marker | undefined {
  if (text === undefined) return undefined;
  const raw = text.trim();
  const first = raw.indexOf(':');
  const second = first < 0 ? -1 : raw.indexOf(':', first + 1);
  if (first <= 0 || second < 0) return undefined;
  const pidText = raw.slice(first + 1, second);
  if (!/^\d{1,10}$/.test(pidText)) return undefined;
  const pid = Number(pidText);
  if (pid <= 0) return undefined;
  return { host: raw.slice(0, first), pid, stamp: raw.slice(second + 1), raw };
}

export function isThisHost(marker: Marker): boolean {
  return marker.host === os.hostname();
}

/** True if a process with this pid exists here (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When a local process started (ms since the epoch), from /proc; undefined without /proc.
 * Linux reports it in clock ticks since boot, at USER_HZ = 100 on every mainstream architecture.
 */
export function processStartMillis(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const boot = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
    return boot && Number.isFinite(ticks) ? Number(boot[1]) * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Epoch milliseconds of a heartbeat marker, or undefined if it does not hold one. */
export function heartbeatMillis(marker: Marker | undefined): number | undefined {
  if (!marker) return undefined;
  const ms = Number(marker.stamp);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export function describeMarker(marker: Marker): string {
  return `${marker.host}:${marker.pid}`;
}
