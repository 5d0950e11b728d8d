/**
 * Stable error ids of the adapter's error responses, so that clients and tests can tell
 * failures apart without reading text. `showUser` is set where the user can act on it.
 */
export const ErrorId = {
  /** launch/attach arguments that are missing or wrong. */
  InvalidArguments: 2001,
  /** No relay server in relayDir within connectTimeout, or it went away. */
  RelayUnavailable: 2002,
  /** A request that needs a job, before launch or attach. */
  NoJob: 2003,
  /** A request that needs the job paused (or running) when it is not. */
  WrongState: 2004,
  /** A frame, variable or source reference that does not exist (any more). */
  UnknownReference: 2005,
  /** An expression that cannot be evaluated. */
  Evaluate: 2006,
  /** A request relay-dap does not support; the message says what to use instead. */
  Unsupported: 2007,
  /** The request was cancelled (`message` is exactly "cancelled", as DAP says). */
  Cancelled: 2008,
  /** A job file or workflow that cannot be used. */
  InvalidJob: 2009,
  /** A request after the session ended (terminate, disconnect, a signal): start a new session. */
  SessionEnded: 2010,
  /** A handler failed unexpectedly: a bug in relay-dap. */
  Internal: 2099,
} as const;

export class RequestError extends Error {
  constructor(
    readonly id: number,
    message: string,
    readonly showUser = true,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** Launch or attach arguments that do not fit their schema (launchSchema.ts). */
export class ArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArgumentError';
  }
}
