/**
 * What the Job API throws: every error leaves the job layer with a *kind*, so that the
 * session above maps kinds to its own error ids in one table and never looks at the relay's,
 * the workflow's or the file layer's error classes. The message already names the thing, the
 * reason and the next step; the kind only says which of these it is.
 */
import { recognisedAcrossBundles } from '../io/bundleCrossingClass.js';
import { isRelayError, type RelayErrorCode } from '../relay/errors.js';

export type JobErrorKind =
  /** A job file, workflow or program that cannot be used. */
  | 'invalid-job'
  /** No relay server, a relay directory that cannot be used, or a relay that went away. */
  | 'relay-unavailable'
  /** The request does not fit what the relay is doing (attach with nothing running). */
  | 'wrong-state'
  /** The job (and its relay client) was closed before this call: the session has ended. */
  | 'closed';

export class JobError extends Error {
  constructor(
    readonly kind: JobErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'JobError';
  }
}
// Thrown in one bundle, caught in another (bundleCrossingClass.ts).
recognisedAcrossBundles(JobError, 'JobError');

const RELAY_KINDS: Record<RelayErrorCode, JobErrorKind> = {
  RELAY_DIR: 'relay-unavailable',
  NO_SERVER: 'relay-unavailable',
  SERVER_GONE: 'relay-unavailable',
  HANDSHAKE_TIMEOUT: 'relay-unavailable',
  BAD_RESULT: 'relay-unavailable',
  BAD_COMMAND: 'relay-unavailable',
  DISK_FULL: 'relay-unavailable',
  NO_CHANNELS: 'relay-unavailable',
  BUSY: 'wrong-state',
  NOTHING_RUNNING: 'wrong-state',
  CLOSED: 'closed',
};

/**
 * The kind of an error that came out of the job layer (its own, or the relay's it passed
 * through), or undefined for anything else — which is then a bug, not a user's problem.
 */
export function jobErrorKind(error: unknown): JobErrorKind | undefined {
  if (error instanceof JobError) return error.kind;
  if (isRelayError(error)) return RELAY_KINDS[error.code];
  return undefined;
}
