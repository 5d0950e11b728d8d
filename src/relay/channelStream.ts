/**
 * One direction of a channel (Part D): numbered chunk files in a directory, written by one
 * side and taken by the other. The reader *deletes* each chunk once it holds it: that deletion
 * is the acknowledgement. A writer never has more than WINDOW_CHUNKS chunks of at most
 * CHUNK_BYTES unacknowledged, so a reader that falls behind stops the writer (which stops
 * reading its own source: the process, or the client's stream) instead of letting the
 * directory or anyone's memory grow. No separate ack file: one file per chunk, created by
 * rename and removed by its reader, is the least a shared directory can carry, and a deleted
 * name is seen the same way on every filesystem, NFS included.
 *
 * Names: `<seq>` (12 digits) holds data; `<seq>.end` says the writer wrote nothing after
 * seq-1; `closed` says the reader stopped reading (the writer then drops what it has).
 * Synchronous, as every relay file operation here (see files.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  existsNoFollow,
  listDirectory,
  readBytesIfExists,
  removeIfExists,
  writeFileAtomic,
} from './files.js';

/** Bytes in one chunk file at most: large enough that 100 MB is 400 files, small enough to hold in memory. */
export const CHUNK_BYTES = 256 * 1024;
/** Unacknowledged chunks a writer may have: this bounds a direction's files at 4 MiB. */
export const WINDOW_CHUNKS = 16;

const CLOSED = 'closed';
/** A chunk's name: `<seq>`, 12 digits. */
const CHUNK_NAME = /^\d{12}$/;

function chunkName(seq: number): string {
  return String(seq).padStart(12, '0');
}

export class ChunkWriter {
  private nextSeq = 0;
  /** Chunks below this have been taken by the reader. */
  private acked = 0;
  private ended = false;

  constructor(private readonly dir: string) {}

  /** Whether another chunk may be written now (the reader has taken enough of the earlier ones). */
  hasRoom(): boolean {
    while (this.acked < this.nextSeq && !existsNoFollow(path.join(this.dir, chunkName(this.acked)))) {
      this.acked++;
    }
    return this.nextSeq - this.acked < WINDOW_CHUNKS;
  }

  /** True once the reader has taken every chunk written so far. */
  allTaken(): boolean {
    this.hasRoom();
    return this.acked === this.nextSeq;
  }

  /** The reader said it reads no more: whatever is written is dropped. */
  readerClosed(): boolean {
    return existsNoFollow(path.join(this.dir, CLOSED));
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Write `data` (at most CHUNK_BYTES) as the next chunk. The caller checked hasRoom(). */
  write(data: Buffer): void {
    writeFileAtomic(path.join(this.dir, chunkName(this.nextSeq)), data);
    this.nextSeq++;
  }

  /** Nothing follows: the reader sees end-of-stream after the chunks written so far. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    writeFileAtomic(path.join(this.dir, `${chunkName(this.nextSeq)}.end`), '');
  }
}

export class ChunkReader {
  private nextSeq = 0;
  private ended = false;
  private closed = false;

  constructor(private readonly dir: string) {}

  get isEnded(): boolean {
    return this.ended;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The next chunk in order (and takes it: the writer may write another), 'end', or undefined for nothing yet. */
  take(): Buffer | 'end' | undefined {
    if (this.ended || this.closed) return undefined;
    const file = path.join(this.dir, chunkName(this.nextSeq));
    const data = readBytesIfExists(file);
    if (data !== undefined) {
      removeIfExists(file);
      this.nextSeq++;
      return data;
    }
    const end = `${file}.end`;
    if (!existsNoFollow(end)) return undefined;
    removeIfExists(end);
    this.ended = true;
    return 'end';
  }

  /** Read no more: tell the writer, and drop what it has written (which acknowledges it). */
  close(): void {
    if (this.closed || this.ended) return;
    this.closed = true;
    try {
      writeFileAtomic(path.join(this.dir, CLOSED), '');
      for (const name of listDirectory(this.dir)) {
        if (/^\d{12}(\.end)?$/.test(name)) removeIfExists(path.join(this.dir, name));
      }
    } catch (error) {
      // The channel's directory is already gone: there is no writer left to tell.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Bytes written to a direction and not yet taken by its reader (its chunks' sizes: nothing is
 * read, so this is cheap and shows no content). At most the window, WINDOW_CHUNKS × CHUNK_BYTES.
 */
export function untakenBytes(dir: string): number {
  let bytes = 0;
  for (const name of listDirectory(dir)) {
    if (CHUNK_NAME.test(name))
      bytes += fs.lstatSync(path.join(dir, name), { throwIfNoEntry: false })?.size ?? 0;
  }
  return bytes;
}

/**
 * Remove a channel's directory, whoever else is removing it or still writing a last chunk
 * into it (the other side, before it has noticed): retried while a file appears in it.
 */
export function removeChannelDirectory(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
}
