/**
 * The relay as its files show it, for `relay-dap status`, and clearing it for `relay-dap
 * flush` (Part A): the server's liveness, the handshake, the running command and the queue.
 */
import fs from 'node:fs';
import { RelayError } from './errors.js';
import { existsNoFollow, listDirectory, readTextIfExists, removeIfContent, removeIfExists } from './files.js';
import { isValidCommandId } from './ids.js';
import { commandIdFromFileName, type RelayLayout } from './layout.js';
import type { ServerLiveness } from './liveness.js';
import { parseRunningMarker } from './runningMarker.js';
import type { WatchChoice } from './watchMode.js';

export interface RelayStatus {
  relayDir: string;
  server: ServerLiveness;
  handshake: 'done' | 'requested' | 'none';
  running: { id: string; pgid: number | undefined } | undefined;
  pending: string[];
  watch: WatchChoice;
}

export interface FlushReport {
  removedCommands: number;
  removedResults: number;
  staleRunning: string | undefined;
}

export function readRelayStatus(
  layout: RelayLayout,
  server: ServerLiveness,
  watch: WatchChoice,
): RelayStatus {
  const runningText = readTextIfExists(layout.running);
  const running = runningText?.trim() ? parseRunningMarker(runningText) : undefined;
  // What a server would run: regular files with a command's name (not a FIFO, a directory, a bad id).
  const pending = listDirectory(layout.cmdDir)
    .map(commandIdFromFileName)
    .filter(
      (id): id is string =>
        id !== undefined &&
        isValidCommandId(id) &&
        fs.lstatSync(layout.command(id), { throwIfNoEntry: false })?.isFile() === true,
    )
    .sort();
  return {
    relayDir: layout.root,
    server,
    handshake: existsNoFollow(layout.handshakeDone)
      ? 'done'
      : existsNoFollow(layout.clientReady)
        ? 'requested'
        : 'none',
    running: running ? { id: running.id, pgid: running.pgid } : undefined,
    pending,
    watch,
  };
}

/**
 * Clear the handshake, the queue and all results (Part A). Refused while a live server runs
 * a command; a `running` left by a dead server no longer blocks it (Part B, defect 4).
 */
export function flushRelay(layout: RelayLayout, status: RelayStatus): FlushReport {
  if (status.running && status.server.state === 'alive') {
    throw new RelayError(
      'BUSY',
      `command ${status.running.id} is running in ${layout.root}: cancel it first (relay-dap cancel) or wait for it to end.`,
    );
  }
  const clear = (dir: string): number =>
    listDirectory(dir).filter((name) => removeIfExists(`${dir}/${name}`)).length;
  removeIfExists(layout.clientReady);
  removeIfExists(layout.handshakeDone);
  const removedCommands = clear(layout.cmdDir);
  const removedResults = clear(layout.resultDir);
  let staleRunning: string | undefined;
  if (status.running) {
    staleRunning = status.running.id;
    const text = readTextIfExists(layout.running);
    if (text !== undefined) removeIfContent(layout.running, text);
  }
  return { removedCommands, removedResults, staleRunning };
}
