/**
 * The relay as its files show it, for `relay-dap status`, and clearing it for `relay-dap
 * flush` (Part A): the server's liveness, the handshake, the running command and the queue,
 * and the channels open beside it (Part D). Ids only: never a command's text or environment
 * (a channel's `request` is not read).
 */
import fs from 'node:fs';
import { readChannelAcceptance } from './channelHost.js';
import { untakenBytes } from './channelStream.js';
import { RelayError } from './errors.js';
import { existsNoFollow, listDirectory, readTextIfExists, removeIfContent, removeIfExists } from './files.js';
import { isValidCommandId } from './ids.js';
import { channelFiles, commandIdFromFileName, type RelayLayout } from './layout.js';
import type { ServerLiveness } from './liveness.js';
import { isProcessAlive, isThisHost, parseMarker } from './markers.js';
import { parseRunningMarker } from './runningMarker.js';
import type { WatchChoice } from './watchMode.js';

export interface RelayStatus {
  relayDir: string;
  server: ServerLiveness;
  handshake: 'done' | 'requested' | 'none';
  running: { id: string; pgid: number | undefined } | undefined;
  pending: string[];
  channels: ChannelStatus[];
  watch: WatchChoice;
}

/** One open channel, as its files show it. Times are read against this machine's clock. */
export interface ChannelStatus {
  id: string;
  /** When its client opened it (the id's time), ISO-8601. */
  openedAt: string | undefined;
  ageMs: number | undefined;
  /** `waiting`: no server has taken it yet; `ended`: its process has ended, its client has not read that yet. */
  state: 'waiting' | 'open' | 'ended';
  /** The process the server started for it. */
  pid: number | undefined;
  /** The client that holds it: `alive` is known only on the client's own host. */
  client: { host: string; pid: number; alive: boolean | undefined } | undefined;
  /** Since the client last renewed its lease (the mtime of `client`). */
  leaseAgeMs: number | undefined;
  /** Written and not yet taken by the other side: client → process, process → client. */
  pendingBytes: { toProcess: number; fromProcess: number };
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
    channels: listDirectory(layout.channelDir)
      .filter(isValidCommandId)
      .sort()
      .map((id) => readChannelStatus(layout, id))
      .filter((channel): channel is ChannelStatus => channel !== undefined),
    watch,
  };
}

/** undefined when it is not a channel's directory (or went away while being looked at). */
function readChannelStatus(layout: RelayLayout, id: string): ChannelStatus | undefined {
  const files = channelFiles(layout, id);
  if (fs.lstatSync(files.dir, { throwIfNoEntry: false })?.isDirectory() !== true) return undefined;
  const now = Date.now();
  // `<epoch_ns>_<pid>`: our clients' ids say when they opened the channel.
  const opened = /^(\d{19})_\d+$/.exec(id) ? Number(BigInt(id.slice(0, 19)) / 1_000_000n) : undefined;
  const accepted = readChannelAcceptance(files);
  const marker = parseMarker(readTextIfExists(files.client));
  const lease = fs.lstatSync(files.client, { throwIfNoEntry: false });
  return {
    id,
    openedAt: opened === undefined ? undefined : new Date(opened).toISOString(),
    ageMs: opened === undefined ? undefined : Math.max(0, now - opened),
    state: existsNoFollow(files.exit) ? 'ended' : accepted ? 'open' : 'waiting',
    pid: typeof accepted?.pid === 'number' ? accepted.pid : undefined,
    client: marker && {
      host: marker.host,
      pid: marker.pid,
      alive: isThisHost(marker) ? isProcessAlive(marker.pid) : undefined,
    },
    leaseAgeMs: lease ? Math.max(0, now - lease.mtimeMs) : undefined,
    pendingBytes: { toProcess: untakenBytes(files.inDir), fromProcess: untakenBytes(files.outDir) },
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
