/**
 * Errors of the relay. Each message names the thing, the reason and the next step; `code`
 * lets the command line map them to exit statuses without parsing text.
 */
import { recognisedAcrossBundles } from '../io/bundleCrossingClass.js';

export type RelayErrorCode =
  | 'RELAY_DIR' // the relay directory is missing, not a directory, a symlink, or not writable
  | 'NO_SERVER' // no server.ready
  | 'SERVER_GONE' // server.ready is there but its server stopped answering
  | 'HANDSHAKE_TIMEOUT'
  | 'BAD_RESULT' // a result file that does not hold what the protocol says
  | 'BAD_COMMAND' // a command text that bash cannot be given
  | 'BUSY' // flush while a command runs
  | 'DISK_FULL' // the disk holding the relay directory has no room (ENOSPC, EDQUOT)
  | 'CLOSED' // the RelayClient was closed (its session ended) before this request
  | 'NO_CHANNELS' // the relay server does not open channels (a Part-A server, or an older relay-dap)
  | 'NOTHING_RUNNING';

export class RelayError extends Error {
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}
// Thrown in one bundle, caught in another (bundleCrossingClass.ts).
recognisedAcrossBundles(RelayError, 'RelayError');

export function isRelayError(error: unknown, code?: RelayErrorCode): error is RelayError {
  return error instanceof RelayError && (code === undefined || error.code === code);
}

export function startServerHint(relayDir: string): string {
  return `start one where the commands should run with \`relay-dap serve --relay-dir ${relayDir}\``;
}
