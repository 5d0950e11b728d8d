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
import { terminateCommandProcesses } from './processTree.js';

const [root, graceText] = process.argv.slice(2);
if (root === undefined || !path.isAbsolute(root)) {
  process.stderr.write('usage: embeddedReaper.js ROOT GRACE_MS (an internal helper of the embedded relay)\n');
  process.exit(2);
}
const layout = relayLayout(path.join(root, 'relay'));
let running: string | undefined;
try {
  running = fs.readFileSync(layout.running, 'utf8').trim();
} catch {
  running = undefined; // nothing was running
}
const id = running?.slice(0, Math.max(0, running.lastIndexOf(':')));
// By the id in their environment only, as a restarting server does: the recorded pid may
// have been reused since its group died.
if (id !== undefined && isValidCommandId(id)) {
  await terminateCommandProcesses({ commandId: id }, Number(graceText) || 5000);
}
fs.rmSync(root, { recursive: true, force: true });
