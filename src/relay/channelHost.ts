/**
 * The server's side of channels (Part D): announces that this server opens them
 * (`channels.ready`), takes each new `channel/<id>/` a client renames into place, runs its
 * process (channelSession.ts) beside the one queued command, and makes sure nothing of a
 * channel outlives it: a client that stops refreshing its lease (or, on this host, whose
 * process is gone) gets its channel's process tree stopped and its directory removed; at
 * shutdown every channel is stopped and removed; and if this server dies without shutting
 * down (SIGKILL), a watchdog outside it (channelReaper.ts) does the same.
 *
 * Concurrency model: as the server's, every file operation runs synchronously from a watcher
 * callback, the server's tick, or a channel's pipes; none spans an await.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ChangeWatcher } from './changeWatcher.js';
import { startDeathWatchdog, type DeathWatchdog } from './deathWatchdog.js';
import { ChannelSession, parseChannelRequest } from './channelSession.js';
import { removeChannelDirectory } from './channelStream.js';
import {
  existsNoFollow,
  listDirectory,
  readTextIfExists,
  removeIfContent,
  removeIfExists,
  writeFileAtomic,
} from './files.js';
import { isValidCommandId } from './ids.js';
import { channelFiles, type ChannelFiles, type RelayLayout } from './layout.js';
import type { ChangeClock } from './liveness.js';
import { isProcessAlive, isThisHost, parseMarker } from './markers.js';
import { terminateCommandProcesses } from './processTree.js';
import { ensureChannelDirectory } from './relayDirectory.js';
import { EXIT_CANNOT_START } from './results.js';
import type { WatchChoice } from './watchMode.js';

const REAPER = fileURLToPath(new URL('./channelReaper.js', import.meta.url));

/** A draft directory (`.<id>.draft`) left this long was abandoned by a client that died while opening. */
const DRAFT_ABANDONED_MS = 60_000;

export interface ChannelHostOptions {
  layout: RelayLayout;
  watchChoice: WatchChoice;
  /** This server's claim token: `accepted` names it, and the reaper looks for it. */
  claimToken: string;
  /** This server's `server.ready` text, copied to `channels.ready`. */
  readyText: string;
  workdir: string;
  env: NodeJS.ProcessEnv;
  graceMs: number;
  leaseStaleMs: number;
  clock: ChangeClock;
  log: (line: string) => void;
  warnOnce: (key: string, line: string) => void;
}

/** What `accepted` holds (JSON). */
export interface ChannelAcceptance {
  token: string;
  host: string;
  serverPid: number;
  pid: number | null;
}

/** What a channel's `accepted` says, or undefined before a server took it (or while it writes it). */
export function readChannelAcceptance(files: ChannelFiles): Partial<ChannelAcceptance> | undefined {
  try {
    return (
      (JSON.parse(readTextIfExists(files.accepted) ?? 'null') as Partial<ChannelAcceptance> | null) ??
      undefined
    );
  } catch {
    return undefined;
  }
}

interface OpenChannel {
  files: ChannelFiles;
  session: ChannelSession;
  watcher: ChangeWatcher;
  removing: boolean;
}

export class ChannelHost {
  private readonly channels = new Map<string, OpenChannel>();
  /** Foreign channels being stopped (see settleLeftovers). */
  private readonly settling = new Set<string>();
  private watcher: ChangeWatcher | undefined;
  private watchdog: DeathWatchdog | undefined;
  private stopping = false;

  constructor(private readonly options: ChannelHostOptions) {}

  /**
   * Announce channels and take those already waiting. `predecessorGone`: the server before
   * this one died; channels it accepted that are still here (its watchdog could not run) are
   * stopped and removed.
   */
  start(predecessorGone = false): void {
    this.stopping = false;
    ensureChannelDirectory(this.options.layout);
    this.announce();
    this.watcher?.close();
    this.watcher = new ChangeWatcher([this.options.layout.channelDir], this.options.watchChoice, () =>
      this.guard('scan', () => this.scan()),
    );
    this.settleLeftovers(predecessorGone);
    this.scan();
  }

  /**
   * Channels accepted by another server that is gone: stopped and removed. `all`: the server
   * before this one died (judged at start), so every foreign channel is its; otherwise only
   * those whose server ran on this host and whose process is gone (a server that died after
   * this one took over, or whose death was not yet plain at start).
   */
  private settleLeftovers(all: boolean): void {
    const { layout, claimToken, graceMs, log } = this.options;
    for (const id of listDirectory(layout.channelDir)) {
      if (!isValidCommandId(id) || this.channels.has(id) || this.settling.has(id)) continue;
      const files = channelFiles(layout, id);
      // Unreadable while being written: looked at again next time.
      const accepted = readChannelAcceptance(files);
      if (!accepted || accepted.token === claimToken) continue;
      const deadHere =
        accepted.host === os.hostname() &&
        typeof accepted.serverPid === 'number' &&
        !isProcessAlive(accepted.serverPid);
      if (!all && !deadHere) continue;
      this.settling.add(id);
      log(`[channel ${id}] left open by a relay server that is gone; stopping its processes and removing it`);
      void terminateCommandProcesses({ commandId: id }, graceMs).then(() => {
        this.guard(`removing channel ${id}`, () => removeChannelDirectory(files.dir));
        this.settling.delete(id);
      });
    }
  }

  private announce(): void {
    const { layout, readyText } = this.options;
    if (readTextIfExists(layout.channelsReady) !== readyText)
      writeFileAtomic(layout.channelsReady, readyText);
  }

  private guard(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      const message = `channels: ${what} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
      this.options.warnOnce(message, message);
    }
  }

  /** Every second, from the server's tick. */
  tick(): void {
    if (this.stopping) return;
    this.guard('tick', () => {
      ensureChannelDirectory(this.options.layout);
      this.announce();
      this.settleLeftovers(false);
      this.scan();
    });
    for (const open of this.channels.values()) {
      this.guard(`channel ${open.files.id}`, () => {
        this.checkClient(open);
        this.pumpChannel(open);
      });
    }
  }

  private scan(): void {
    if (this.stopping) return;
    for (const name of listDirectory(this.options.layout.channelDir)) {
      if (name.startsWith('.')) this.removeIfAbandonedDraft(name);
      else if (!this.channels.has(name) && isValidCommandId(name)) this.accept(name);
    }
  }

  private removeIfAbandonedDraft(name: string): void {
    const dir = `${this.options.layout.channelDir}/${name}`;
    const stat = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > DRAFT_ABANDONED_MS)
      fs.rmSync(dir, { recursive: true, force: true });
  }

  private accept(id: string): void {
    const { layout, claimToken } = this.options;
    const files = channelFiles(layout, id);
    // Already taken (by us before a restart of serving, or by another server): not new.
    if (existsNoFollow(files.accepted)) return;
    const text = readTextIfExists(files.request);
    if (text === undefined) return;
    const acceptance: ChannelAcceptance = {
      token: claimToken,
      host: os.hostname(),
      serverPid: process.pid,
      pid: null,
    };
    let request;
    try {
      request = parseChannelRequest(text);
    } catch (error) {
      writeFileAtomic(files.accepted, JSON.stringify(acceptance) + '\n');
      removeIfExists(files.request);
      const reason = `the channel request is not valid: ${(error as Error).message}`;
      writeFileAtomic(
        files.exit,
        JSON.stringify({ exitCode: EXIT_CANNOT_START, signal: null, cancelled: false, reason }) + '\n',
      );
      this.options.log(`[channel ${id}] refused: ${reason}`);
      return;
    }
    // Before the process exists: a server killed from here on leaves a channel its reaper finds.
    writeFileAtomic(files.accepted, JSON.stringify(acceptance) + '\n');
    this.startWatchdog();
    // Set once the channel is registered: a pipe event before that has nothing to pump yet.
    const registered: { open?: OpenChannel } = {};
    const pump = (): void => {
      const open = registered.open;
      if (open) this.guard(`channel ${id}`, () => this.pumpChannel(open));
    };
    const session = new ChannelSession({
      files,
      request,
      workdir: this.options.workdir,
      env: this.options.env,
      graceMs: this.options.graceMs,
      onChange: pump,
    });
    // The request may hold environment values: it is not left lying around.
    removeIfExists(files.request);
    writeFileAtomic(files.accepted, JSON.stringify({ ...acceptance, pid: session.pid }) + '\n');
    const watcher = new ChangeWatcher([files.dir, files.inDir, files.outDir], this.options.watchChoice, pump);
    const open: OpenChannel = { files, session, watcher, removing: false };
    registered.open = open;
    this.channels.set(id, open);
    this.options.log(`[channel ${id}] opened, pid ${session.pid ?? '-'}`);
    this.pumpChannel(open);
  }

  private pumpChannel(open: OpenChannel): void {
    const { files, session } = open;
    if (open.removing) return;
    if (!existsNoFollow(files.dir)) {
      // Its client removed it: done (after reading `exit`), or gone early, which is a cancel.
      if (!session.processGone)
        this.options.log(`[channel ${files.id}] its directory was removed; stopping it`);
      void this.remove(open, 'its directory was removed');
      return;
    }
    session.pump();
  }

  /** The client keeps `client`'s mtime fresh; on this host its process can be seen directly. */
  private checkClient(open: OpenChannel): void {
    const { files } = open;
    if (open.removing) return;
    const marker = parseMarker(readTextIfExists(files.client));
    let gone: string | undefined;
    if (marker && isThisHost(marker) && !isProcessAlive(marker.pid)) {
      gone = `its client (pid ${marker.pid}) is gone`;
    } else {
      const stat = fs.statSync(files.client, { throwIfNoEntry: false });
      const age = this.options.clock.sinceChange(`channel:${files.id}`, String(stat?.mtimeMs ?? 'none'));
      if (age > this.options.leaseStaleMs) {
        gone = `its client stopped refreshing its lease ${(age / 1000).toFixed(1)} s ago`;
      }
    }
    if (gone === undefined) return;
    this.options.log(`[channel ${files.id}] ${gone}; stopping it and removing its files`);
    void this.remove(open, gone);
  }

  /** Stop the channel's process tree, then remove its directory and forget it. */
  private remove(open: OpenChannel, reason: string): Promise<void> {
    if (open.removing) return open.session.gone;
    open.removing = true;
    open.session.cancel(reason);
    return open.session.gone.then(() => {
      open.watcher.close();
      this.channels.delete(open.files.id);
      this.options.clock.forget(`channel:${open.files.id}`);
      this.guard(`removing channel ${open.files.id}`, () => removeChannelDirectory(open.files.dir));
    });
  }

  /**
   * If this server dies without shutting down (SIGKILL, the OOM killer), the reaper stops its
   * channels and removes their files. One idle bash per server that opened a channel; none for
   * a server that never did.
   */
  private startWatchdog(): void {
    if (this.watchdog || !fs.existsSync(REAPER)) return;
    const { layout, claimToken, graceMs } = this.options;
    this.watchdog = startDeathWatchdog(REAPER, [
      layout.root,
      claimToken,
      String(graceMs),
      String(process.pid),
    ]);
  }

  /** Shutdown: stop every channel (with the grace period), remove their files and the announcement. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.watcher?.close();
    this.watcher = undefined;
    await Promise.all(
      [...this.channels.values()].map((open) => this.remove(open, 'relay server shutting down')),
    );
    try {
      removeIfContent(this.options.layout.channelsReady, this.options.readyText);
    } catch {
      // An unusable directory: the announcement stays, and is judged by the heartbeat beside it.
    }
    const watchdog = this.watchdog;
    this.watchdog = undefined;
    await watchdog?.release();
  }
}
