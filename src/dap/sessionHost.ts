/**
 * What a debug session needs from whoever hosts it (hostedSession.ts for stdio and TCP). The
 * session declares it and the host implements it, so the session never reaches for files,
 * streams or the process itself.
 */
import type { TraceOutlets } from './sessionTrace.js';

/** What a session gets from its host: the only way out to logs, files and the connection. */
export interface SessionHost extends TraceOutlets {
  /** A line for the adapter's own log (stderr), already labelled with the session. */
  log(line: string): void;
  /** Whether the peer reads slower than we write, and a promise for when it catches up. */
  readonly congested: boolean;
  drained(): Promise<void>;
  /** Called once the session has ended and cleaned up; the host closes the connection. */
  ended(): void;
}
