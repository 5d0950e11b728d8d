/**
 * The `cancel` file as a server answers it: the command it runs is cancelled (SIGTERM, then
 * SIGKILL after the grace period), a queued one is withdrawn with exit 130 without running.
 * The file stays while the running command ends: it is removed after `.exit` (Part A order).
 */
import { readTextIfExists, removeIfContent, removeIfExists } from './files.js';
import { describeInvalidId, isValidCommandId } from './ids.js';
import type { RelayLayout } from './layout.js';
import { EXIT_CANCELLED } from './results.js';
import type { RunningCommand } from './runningCommand.js';
import { runningNames } from './runningMarker.js';
import type { ServerConsole } from './serverConsole.js';
import { withdrawQueuedCommand } from './withdraw.js';

export interface CancelRequestContext {
  layout: RelayLayout;
  serverConsole: ServerConsole;
  /** The server's claim token: a withdrawal is a claim too. */
  claimToken: string;
  /** The command the server runs now, if any. */
  running: RunningCommand | undefined;
  /** Only a serving server withdraws queued commands (one stepping down leaves them to its successor). */
  serving: boolean;
}

export function answerCancelRequest({
  layout,
  serverConsole,
  claimToken,
  running,
  serving,
}: CancelRequestContext): void {
  const text = readTextIfExists(layout.cancel);
  if (text === undefined) return;
  const id = text.trim();
  if (running && running.id === id) {
    if (!running.cancelRequested) serverConsole.log(`[${id}] cancel requested`);
    running.cancel('cancelled by a client');
    return; // removed after .exit (Part A order)
  }
  if (!serving) return;
  if (!isValidCommandId(id)) {
    serverConsole.warnOnce(`cancel:${text}`, `ignoring a cancel file holding ${describeInvalidId(id)}`);
    removeIfContent(layout.cancel, text);
    return;
  }
  // A predecessor that is stepping down still owns its running command and its cancel.
  if (runningNames(readTextIfExists(layout.running), id)) return;
  // Remove the queued command and give it exit code 130 without running it.
  const reason = 'cancelled before it started';
  if (withdrawQueuedCommand(layout, id, reason, { claimer: claimToken, publish: true })) {
    removeIfExists(layout.lease(id));
    serverConsole.log(`[${id}] withdrawn before it started (exit ${EXIT_CANCELLED})`);
  }
  removeIfContent(layout.cancel, text);
}
