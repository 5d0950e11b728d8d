/**
 * A channel on the client's side (Part D): a Duplex stream whose writes reach the stdin of a
 * process the relay server started, and whose reads are that process's stdout and stderr.
 * Backpressure is the stream's own: a write callback waits while the window of unread chunks
 * is full, and output is taken from the directory only as fast as it is read. `end()` ends the
 * process's stdin; `stopReading()` tells the server to drop further output (the process's
 * next write fails, as on a pipe whose reader closed); `cancel()` stops its whole tree.
 * `exit` settles once the process tree has ended and its output has been read; the channel's
 * files are then removed.
 *
 * Driven by a watcher on the channel's directories (events, or polling on network
 * filesystems) and a 250 ms timer that refreshes the lease, notices a server that is gone,
 * and rescans in case an event was lost.
 */
import fs from 'node:fs';
import { Duplex } from 'node:stream';
import { ChangeWatcher } from './changeWatcher.js';
import { ChunkReader, ChunkWriter, CHUNK_BYTES, removeChannelDirectory } from './channelStream.js';
import type { ChannelExit, ChannelRequest } from './channelSession.js';
import { RelayError, startServerHint } from './errors.js';
import {
  existsNoFollow,
  isNotFound,
  PRIVATE_DIR_MODE,
  readTextIfExists,
  touch,
  writeFileAtomic,
} from './files.js';
import { newCommandId } from './ids.js';
import { channelDraftDir, channelFiles, type ChannelFiles, type RelayLayout } from './layout.js';
import type { ServerLiveness } from './liveness.js';
import { formatMarker } from './markers.js';
import type { WatchChoice } from './watchMode.js';

export type { ChannelExit, ChannelRequest } from './channelSession.js';

const CHECK_MS = 250;
const LEASE_REFRESH_MS = 1000;
/** A live server takes a channel at once; this long without `accepted` means it will not. */
const ACCEPT_TIMEOUT_MS = 15_000;

export interface ChannelContext {
  layout: RelayLayout;
  watchChoice: WatchChoice;
  serverLiveness: () => ServerLiveness;
}

interface QueuedWrite {
  data: Buffer;
  callback: (error?: Error | null) => void;
}

export class RelayChannel extends Duplex {
  readonly id: string;
  /** The process's end: its exit code, whether it was cancelled. Rejects if the relay fails (server gone). */
  readonly exit: Promise<ChannelExit>;
  private readonly files: ChannelFiles;
  private readonly input: ChunkWriter;
  private readonly output: ChunkReader;
  private readonly watcher: ChangeWatcher;
  private readonly timer: NodeJS.Timeout;
  private readonly openedAt = performance.now();
  private lastLease = performance.now();
  private queued: QueuedWrite | undefined;
  private finalCallback: ((error?: Error | null) => void) | undefined;
  private wantsData = false;
  private outputEnded = false;
  private accepted = false;
  private exitInfo: ChannelExit | undefined;
  private settled = false;
  private resolveExit!: (exit: ChannelExit) => void;
  private rejectExit!: (error: Error) => void;

  /** Use RelayClient.openChannel, which checks that the server opens channels first. */
  constructor(
    private readonly context: ChannelContext,
    request: ChannelRequest,
  ) {
    // Not destroyed by its own ends: a process that closed its output and got all its input may
    // still be running, and only an explicit destroy() (or cancel()) stops it.
    super({ allowHalfOpen: true, autoDestroy: false });
    this.id = newCommandId();
    this.files = channelFiles(context.layout, this.id);
    this.exit = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    // Whoever awaits `exit` hears of a failure; the stream's 'error' tells stream users.
    this.exit.catch(() => {});
    this.create(request);
    this.input = new ChunkWriter(this.files.inDir);
    this.output = new ChunkReader(this.files.outDir);
    this.watcher = new ChangeWatcher(
      [this.files.dir, this.files.inDir, this.files.outDir],
      context.watchChoice,
      () => this.guarded(() => this.pump()),
    );
    this.timer = setInterval(() => this.guarded(() => this.periodic()), CHECK_MS);
  }

  /**
   * Built under a draft name and renamed into place, so that the server never sees a channel
   * without its request, its lease or its two directions.
   */
  private create(request: ChannelRequest): void {
    const draft = channelDraftDir(this.context.layout, this.id);
    try {
      fs.mkdirSync(draft, { mode: PRIVATE_DIR_MODE });
      const draftFiles = { ...channelFiles(this.context.layout, this.id) };
      const inDraft = (file: string): string => file.replace(this.files.dir, draft);
      fs.mkdirSync(inDraft(draftFiles.inDir), { mode: PRIVATE_DIR_MODE });
      fs.mkdirSync(inDraft(draftFiles.outDir), { mode: PRIVATE_DIR_MODE });
      writeFileAtomic(inDraft(draftFiles.client), formatMarker(new Date().toISOString()));
      writeFileAtomic(inDraft(draftFiles.request), JSON.stringify(request));
      fs.renameSync(draft, this.files.dir);
    } catch (error) {
      fs.rmSync(draft, { recursive: true, force: true });
      throw new RelayError(
        'RELAY_DIR',
        `cannot open a channel in ${this.context.layout.channelDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): is the relay server there relay-dap's, serving this directory?`,
      );
    }
  }

  private guarded(work: () => void): void {
    if (this.settled) return;
    try {
      work();
    } catch (error) {
      this.fail(
        error instanceof RelayError
          ? error
          : // Its files vanish only when the channel is removed (which may be under way still).
            isNotFound(error) || !existsNoFollow(this.files.dir)
            ? this.lostError()
            : new RelayError(
                'RELAY_DIR',
                `channel ${this.id} in ${this.context.layout.root}: ${(error as NodeJS.ErrnoException).code ?? 'error'} (${(error as Error).message})`,
              ),
      );
    }
  }

  private periodic(): void {
    if (performance.now() - this.lastLease >= LEASE_REFRESH_MS) {
      this.lastLease = performance.now();
      touch(this.files.client);
    }
    const server = this.context.serverLiveness();
    if (server.state !== 'alive') {
      // What the server published before it went still counts.
      this.pump();
      if (this.settled) return;
      throw this.lostError(server);
    }
    if (!this.accepted) {
      this.accepted = existsNoFollow(this.files.accepted);
      if (!this.accepted && performance.now() - this.openedAt > ACCEPT_TIMEOUT_MS) {
        throw new RelayError(
          'NO_CHANNELS',
          `${server.detail} did not take channel ${this.id} within ${ACCEPT_TIMEOUT_MS / 1000} s: restart it with a relay-dap that opens channels (relay-dap serve --relay-dir ${this.context.layout.root}).`,
        );
      }
    }
    this.pump();
  }

  private pump(): void {
    if (this.settled) return;
    if (!existsNoFollow(this.files.dir)) throw this.lostError();
    this.flushWrites();
    while (this.wantsData && !this.outputEnded) {
      const data = this.output.take();
      if (data === undefined) break;
      if (data === 'end') {
        this.outputEnded = true;
        this.push(null);
      } else {
        this.wantsData = this.push(data);
      }
    }
    if (this.exitInfo === undefined) {
      const text = readTextIfExists(this.files.exit);
      if (text !== undefined) this.exitInfo = JSON.parse(text) as ChannelExit;
    }
    if (this.exitInfo !== undefined && (this.outputEnded || this.output.isClosed)) this.finish(this.exitInfo);
  }

  /** The channel's directory is gone, or its server: which, in the words of the server's liveness. */
  private lostError(server = this.context.serverLiveness()): RelayError {
    const removed = `channel ${this.id} was removed from ${this.context.layout.channelDir} and its process stopped`;
    if (server.state === 'alive') {
      // Its server stopped it (shutting down, or it took this client for gone), or that server
      // died and its watchdog cleaned up (the heartbeat takes a moment to say so).
      return new RelayError(
        'SERVER_GONE',
        `${removed}, by its relay server or that server's watchdog: ${server.detail}.`,
      );
    }
    return new RelayError(
      server.state === 'none' ? 'NO_SERVER' : 'SERVER_GONE',
      `${server.detail}: ${removed}; ${startServerHint(this.context.layout.root)}.`,
    );
  }

  private flushWrites(): void {
    while (this.queued) {
      if (this.input.readerClosed()) {
        // The process reads no more (it closed stdin, or ended): what is written is dropped.
        const { callback } = this.queued;
        this.queued = undefined;
        callback();
        break;
      }
      if (!this.input.hasRoom()) return;
      const { data, callback } = this.queued;
      this.input.write(data.subarray(0, CHUNK_BYTES));
      if (data.length > CHUNK_BYTES) {
        this.queued = { data: data.subarray(CHUNK_BYTES), callback };
      } else {
        this.queued = undefined;
        callback();
      }
    }
    if (this.finalCallback && !this.queued) {
      const callback = this.finalCallback;
      this.finalCallback = undefined;
      if (!this.input.readerClosed()) this.input.end();
      callback();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.queued = { data: chunk, callback };
    this.guarded(() => this.flushWrites());
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this._write(Buffer.concat(chunks.map((entry) => entry.chunk)), 'binary', callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finalCallback = callback;
    this.guarded(() => this.flushWrites());
  }

  override _read(): void {
    this.wantsData = true;
    this.guarded(() => this.pump());
  }

  /** Read no more output: the server drops it, and the process's further writes fail. */
  stopReading(): void {
    this.guarded(() => {
      this.output.close();
      this.pump();
    });
  }

  /** Stop the process and everything it started (SIGTERM, then SIGKILL after the server's grace period). */
  cancel(): void {
    this.guarded(() => {
      if (!existsNoFollow(this.files.cancel)) writeFileAtomic(this.files.cancel, 'cancel\n');
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // A stream destroyed before its process ended: the process goes too, and the channel's
    // files are removed once it has (the timers keep running until then).
    if (!this.settled) {
      this.cancel();
      this.stopReading();
    }
    const pending = this.queued;
    this.queued = undefined;
    pending?.callback(error);
    callback(error);
  }

  private finish(exit: ChannelExit): void {
    this.settled = true;
    this.close();
    this.resolveExit(exit);
  }

  private fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.close();
    this.rejectExit(error);
    if (!this.destroyed) this.destroy(error);
  }

  private close(): void {
    this.watcher.close();
    clearInterval(this.timer);
    // Ours to remove: the server removes it too when it sees us gone, whichever comes first.
    removeChannelDirectory(this.files.dir);
  }
}
