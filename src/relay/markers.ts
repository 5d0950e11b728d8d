/**
 * The `host:pid:stamp` markers (owner, server.ready, client.ready, handshake.done, heartbeat),
 * and the liveness judgement built on them.
 */
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

/** Epoch milliseconds of a heartbeat marker, or undefined if it does not hold one. */
export function heartbeatMillis(marker: Marker | undefined): number | undefined {
  if (!marker) return undefined;
  const ms = Number(marker.stamp);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export function describeMarker(marker: Marker): string {
  return `${marker.host}:${marker.pid}`;
}
