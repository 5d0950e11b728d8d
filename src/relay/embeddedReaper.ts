/**
 * Started by an embedded relay's watchdog only when the process that hosted the relay died
 * without cleaning up (SIGKILL, the OOM killer, a crash): no server is left to settle its
 * running command, so this stops that command's whole process tree (the same search a
 * restarted `relay-dap serve` uses) and deletes the relay's private temporary directory.
 *
 * Usage (internal): node embeddedReaper.js ROOT GRACE_MS
 */
import fs from 'node:fs';
import path from 'node:path';
import { isValidCommandId } from './ids.js';
import { relayLayout } from './layout.js';
import { checkRecordedGroup, terminateCommandProcesses } from './processTree.js';
import { readRunningMarker } from './runningMarker.js';

const [root, graceText] = process.argv.slice(2);
if (root === undefined || !path.isAbsolute(root)) {
  process.stderr.write('usage: embeddedReaper.js ROOT GRACE_MS (an internal helper of the embedded relay)\n');
  process.exit(2);
}
const layout = relayLayout(path.join(root, 'relay'));
let running: ReturnType<typeof readRunningMarker>;
try {
  running = readRunningMarker(layout);
} catch {
  running = undefined; // unreadable: as if nothing was running
}
// By the id in their environment, and by the recorded process group as a restarting server
// does: only while that group is still the command's (the pid may have been reused since).
if (running !== undefined && isValidCommandId(running.id)) {
  const group =
    running.pgid === undefined
      ? undefined
      : checkRecordedGroup({ pgid: running.pgid, recordedAtMs: running.writtenAtMs, uid: running.uid });
  await terminateCommandProcesses(
    { commandId: running.id, ...(group?.verdict === 'command' ? { pgid: group.pgid } : {}) },
    Number(graceText) || 5000,
  );
}
fs.rmSync(root, { recursive: true, force: true });
