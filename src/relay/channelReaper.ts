/**
 * Started by a relay server's channel watchdog only when that server died without shutting
 * down (SIGKILL, the OOM killer, a crash): no server is left to stop its channels, so this
 * stops each one's whole process tree (by the channel id in their environment, as a cancel
 * does) and removes its files, and withdraws the server's channel announcement.
 *
 * Usage (internal): node channelReaper.js RELAY_DIR CLAIM_TOKEN GRACE_MS SERVER_PID
 */
import fs from 'node:fs';
import path from 'node:path';
import { listDirectory, readTextIfExists } from './files.js';
import { isValidCommandId } from './ids.js';
import { channelFiles, relayLayout } from './layout.js';
import { removeChannelDirectory } from './channelStream.js';
import { parseMarker } from './markers.js';
import { terminateCommandProcesses } from './processTree.js';

const [root, token, graceText, serverPidText] = process.argv.slice(2);
if (root === undefined || !path.isAbsolute(root) || !token) {
  process.stderr.write(
    'usage: channelReaper.js RELAY_DIR CLAIM_TOKEN GRACE_MS SERVER_PID (an internal helper of relay-dap serve)\n',
  );
  process.exit(2);
}
const layout = relayLayout(root);
const serverPid = Number(serverPidText);

function acceptedBy(file: string): string | undefined {
  try {
    return (JSON.parse(readTextIfExists(file) ?? '{}') as { token?: string }).token;
  } catch {
    return undefined;
  }
}

// First the announcement, which is the dead server's (a successor writes its own): no client
// opens a channel on the strength of it any more.
const announced = parseMarker(readTextIfExists(layout.channelsReady));
if (announced !== undefined && announced.pid === serverPid) fs.rmSync(layout.channelsReady, { force: true });
const ours = listDirectory(layout.channelDir).filter(
  (id) => isValidCommandId(id) && acceptedBy(channelFiles(layout, id).accepted) === token,
);
await Promise.all(
  ours.map(async (id) => {
    await terminateCommandProcesses({ commandId: id }, Number(graceText) || 5000);
    removeChannelDirectory(channelFiles(layout, id).dir);
  }),
);
