/**
 * A debug session's lease on the terminals it opened (Part D): `R/session/<token>`, written by
 * the session (`host:pid:ISO-8601`), its mtime refreshed every second, removed when the session
 * ends. A terminal opened for the session (`relay-dap shell` with `RELAY_DAP_SESSION=<token>`)
 * watches it and closes its channel once it is gone: the editor starts that terminal, not the
 * adapter, so the relay directory is the one thing both can see — on any host.
 */
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { PRIVATE_DIR_MODE, readTextIfExists, removeIfExists, touch, writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';
import type { ChangeClock } from './liveness.js';
import { formatMarker, isProcessAlive, isThisHost, parseMarker } from './markers.js';

/** The environment variable that ties a terminal to its debug session. */
export const SESSION_ENV = 'RELAY_DAP_SESSION';
const REFRESH_MS = 1000;
/** A lease unchanged this long belongs to a session that stopped (as a channel client's lease). */
export const SESSION_STALE_MS = 10_000;

export function isSessionToken(token: string): boolean {
  return /^[0-9a-f]{32}$/.test(token);
}

export interface SessionLease {
  readonly token: string;
  /** Remove the lease: the session's terminals close. */
  release(): void;
}

export function holdSessionLease(layout: RelayLayout): SessionLease {
  const token = randomBytes(16).toString('hex');
  const file = layout.session(token);
  fs.mkdirSync(layout.sessionDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  writeFileAtomic(file, formatMarker(new Date().toISOString()));
  const timer = setInterval(() => touch(file), REFRESH_MS);
  timer.unref();
  return {
    token,
    release: () => {
      clearInterval(timer);
      removeIfExists(file);
    },
  };
}

/**
 * Why the session holding `token` has ended, or undefined while it lasts. From another host
 * only changes of the lease's mtime count, timed by this process's clock.
 */
export function sessionEnded(layout: RelayLayout, token: string, clock: ChangeClock): string | undefined {
  const file = layout.session(token);
  const marker = parseMarker(readTextIfExists(file));
  let mtime: number;
  try {
    mtime = fs.statSync(file).mtimeMs;
  } catch {
    return 'the debug session that opened this terminal has ended';
  }
  if (marker && isThisHost(marker) && !isProcessAlive(marker.pid))
    return `the debug adapter that opened this terminal (pid ${marker.pid}) is gone`;
  if (clock.sinceChange(token, String(mtime)) > SESSION_STALE_MS)
    return `the debug session that opened this terminal stopped answering (its lease in ${layout.sessionDir} is ${SESSION_STALE_MS / 1000} s old)`;
  return undefined;
}
