/**
 * Streams a log that another process is still appending to. The file descriptor is opened
 * once and kept: the client deletes the log as soon as `.exit` appears (Part A), and what is
 * left of it is still read, at the consumer's pace, from the open descriptor.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { isNotFound, isPermissionDenied } from './files.js';

// A file descriptor and node:fs's callbacks, not a FileHandle: loading node:fs/promises costs
// `relay-dap run` about 5 ms of start-up (it loads readline too), and `run` is called in loops.
const openToRead = (file: string): Promise<number> =>
  new Promise((resolve, reject) => fs.open(file, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
const readAt = (fd: number, buffer: Buffer, position: number): Promise<number> =>
  new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, buffer.length, position, (error, bytesRead) =>
      error ? reject(error) : resolve(bytesRead),
    ),
  );
const closeFd = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));

const CHUNK_BYTES = 1 << 20;
/**
 * After catching up with the writer, wait this long before reading again. A fast writer
 * raises an event per write; answering each with its own small read halves throughput on
 * two cores, while 2 ms of batching is invisible to a person reading the output.
 */
const CATCH_UP_PAUSE_MS = 2;

export class LogFollower {
  readonly stream: Readable;
  private handle: number | undefined;
  private opening: Promise<boolean> | undefined;
  private offset = 0;
  private reading = false;
  private again = false;
  private paused = false;
  private ending = false;
  private unpaced = false;
  private caughtUpAt = -Infinity;
  private deferred: NodeJS.Timeout | undefined;
  private finished = false;
  private resolveDrained: (() => void) | undefined;

  constructor(private readonly path: string) {
    this.stream = new Readable({
      read: () => {
        this.paused = false;
        this.pump();
      },
      destroy: (error, callback) => {
        this.finished = true;
        void this.closeHandle().then(() => callback(error));
      },
    });
  }

  get bytesRead(): number {
    return this.offset;
  }

  /**
   * Open the log now if it exists, so that it can be read after it is deleted. One open is
   * in flight at a time (two would leak a handle); an open that found no file does not
   * answer for a later call, which tries again — the log may have appeared since.
   */
  async open(): Promise<boolean> {
    for (;;) {
      if (this.handle !== undefined) return true;
      const pending = this.opening;
      if (!pending) break;
      if (await pending) return true;
      if (this.opening === pending) this.opening = undefined;
    }
    const attempt = openToRead(this.path).then(
      (handle) => {
        this.handle = handle;
        return true;
      },
      (error: unknown) => {
        // Not there yet, or its directory unreadable for now (chmod 000): tried again on the
        // next change; the client reports the directory meanwhile.
        if (isNotFound(error) || isPermissionDenied(error)) return false;
        throw error;
      },
    );
    this.opening = attempt;
    return attempt;
  }

  /** Read whatever has been appended since the last read. */
  pump(): void {
    if (this.finished) return;
    if (!this.ending) {
      const wait = this.caughtUpAt + CATCH_UP_PAUSE_MS - performance.now();
      if (wait > 0) {
        this.deferred ??= setTimeout(() => {
          this.deferred = undefined;
          this.pump();
        }, wait);
        return;
      }
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    void this.readAvailable().finally(() => {
      this.reading = false;
      if (this.again && !this.paused) {
        this.again = false;
        this.pump();
      } else if (this.ending && !this.paused) {
        this.pump();
      }
    });
  }

  /**
   * The writer is done: read to the end, then end the stream. If no one has ever read the
   * stream, there is no pace to keep: the rest is buffered in it so the file can be closed now.
   */
  end(): Promise<void> {
    this.ending = true;
    if (this.stream.readableFlowing === null && this.stream.listenerCount('readable') === 0) {
      this.unpaced = true;
      this.paused = false;
    }
    const drained = new Promise<void>((resolve) => (this.resolveDrained = resolve));
    this.pump();
    return drained;
  }

  private async readAvailable(): Promise<void> {
    try {
      if (this.handle === undefined && !(await this.open())) {
        if (this.ending) await this.finish();
        return;
      }
      const handle = this.handle!;
      while (!this.paused && !this.finished) {
        const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
        // An empty read means the end only if the writer was already done when it began: one
        // issued before `end()` may have looked before the last bytes were written.
        const endingBeforeRead = this.ending;
        const bytesRead = await readAt(handle, buffer, this.offset);
        if (bytesRead === 0) {
          if (endingBeforeRead) await this.finish();
          else if (this.ending) continue;
          else this.caughtUpAt = performance.now();
          return;
        }
        this.offset += bytesRead;
        if (!this.stream.push(buffer.subarray(0, bytesRead)) && !this.unpaced) this.paused = true;
      }
    } catch (error) {
      this.stream.destroy(error as Error);
      this.resolveDrained?.();
    }
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.closeHandle();
    this.stream.push(null);
    this.resolveDrained?.();
  }

  private async closeHandle(): Promise<void> {
    clearTimeout(this.deferred);
    this.deferred = undefined;
    await this.opening?.catch(() => false);
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined) await closeFd(handle);
  }

  /** Stop following without reading further (the command was abandoned). */
  async abandon(error?: Error): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.closeHandle();
    if (error) this.stream.destroy(error);
    else this.stream.push(null);
    this.resolveDrained?.();
  }
}
