/**
 * Taking a queued command back before any server starts it. The rename out of `cmd/` is
 * atomic, so exactly one of a server starting it and a client withdrawing it wins; the
 * winner of a withdrawal gives it its result (exit 130, `[cancelled]`) so that whoever
 * waits for it — its own client, or another — is answered. No `cancel` file is involved,
 * so cancels of different commands by different clients never overwrite each other.
 */
import { randomBytes } from 'node:crypto';
import { removeIfExists, renameIfExists, writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';
import { CANCELLED_LINE, EXIT_CANCELLED, resultWithoutRun, writeResultFiles } from './results.js';

export function withdrawQueuedCommand(
  layout: RelayLayout,
  id: string,
  reason: string,
  options: { claimer?: string; publish: boolean },
): boolean {
  const claimed = layout.commandClaimed(id, options.claimer ?? `w${randomBytes(4).toString('hex')}`);
  if (!renameIfExists(layout.command(id), claimed)) return false;
  try {
    if (options.publish) {
      writeFileAtomic(layout.log(id), `${CANCELLED_LINE}\n`);
      writeResultFiles(
        layout,
        resultWithoutRun(id, EXIT_CANCELLED, { cancelled: true, cancelReason: reason }),
      );
    }
  } finally {
    removeIfExists(claimed);
  }
  return true;
}
