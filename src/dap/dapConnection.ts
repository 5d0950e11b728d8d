/**
 * DAP framing over a pair of streams (stdio, or a TCP socket): `Content-Length` headers,
 * JSON bodies. Replaces @vscode/debugadapter's own stream handling, which re-concatenates
 * its whole buffer on every chunk (quadratic for a large message), accepts any size, and in
 * stdio mode exits the process 100 ms after a body that is not JSON.
 *
 * Here, a header that cannot be trusted (no or bad Content-Length, over the size limit, no
 * end in sight) ends the connection, because nothing after it can be framed; a body that is
 * not a DAP message is reported and skipped, because the frame around it was sound.
 */
import type { Readable, Writable } from 'node:stream';

/** Larger messages are refused: no DAP request comes near this; a hostile one must not fill memory. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export interface DapConnectionHandlers {
  message(message: Record<string, unknown>): void;
  /** A message that could not be used; the connection goes on. */
  invalid(problem: string): void;
  /**
   * Nothing more will be read: the peer closed its side (no problem), or what it sent cannot
   * be framed (`problem`). What is still sent goes out until `end()`, if the peer listens.
   */
  inputClosed(problem?: string): void;
}

export class DapConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private bodyLength: number | undefined;
  private inputDone = false;
  private outputDone = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly handlers: DapConnectionHandlers,
  ) {
    input.on('data', (chunk: Buffer) => this.receive(chunk));
    input.on('end', () => this.stopReading());
    input.on('close', () => this.stopReading());
    input.on('error', (error) => this.stopReading(`input failed: ${error.message}`));
    output.on('error', () => {
      // The peer is gone (EPIPE, reset): nothing more can be sent; the input side tells the rest.
      this.outputDone = true;
      this.stopReading();
    });
  }

  /** True while the peer reads slower than we write; `drained` says when to go on. */
  get congested(): boolean {
    return this.output.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.congested || this.outputDone) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.output.off('drain', done);
        this.output.off('close', done);
        resolve();
      };
      this.output.on('drain', done);
      this.output.on('close', done);
    });
  }

  send(message: object): void {
    if (this.outputDone) return;
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    this.output.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  }

  /** End the connection from our side, after the last message has been written. */
  end(): void {
    this.stopReading();
    if (this.outputDone) return;
    this.outputDone = true;
    this.output.end();
  }

  private stopReading(problem?: string): void {
    if (this.inputDone) return;
    this.inputDone = true;
    this.chunks = [];
    this.buffered = 0;
    this.input.pause();
    this.handlers.inputClosed(problem);
  }

  private receive(chunk: Buffer): void {
    if (this.inputDone) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.inputDone) {
      if (this.bodyLength === undefined) {
        if (!this.readHeader()) return;
      } else {
        if (this.buffered < this.bodyLength) return;
        const all = this.take(this.buffered);
        const body = all.subarray(0, this.bodyLength);
        const rest = all.subarray(this.bodyLength);
        this.bodyLength = undefined;
        if (rest.length > 0) {
          this.chunks = [rest];
          this.buffered = rest.length;
        }
        this.deliver(body);
      }
    }
  }

  /** Parses a header if one is complete; false if more bytes are needed. */
  private readHeader(): boolean {
    const all = this.take(this.buffered);
    const end = all.indexOf(HEADER_END);
    if (end < 0) {
      this.chunks = [all];
      this.buffered = all.length;
      if (all.length > MAX_HEADER_BYTES) this.stopReading('a header with no end: these bytes are not DAP');
      return false;
    }
    const header = all.subarray(0, end).toString('latin1');
    const rest = all.subarray(end + HEADER_END.length);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    const match = /^content-length: *(\d+) *$/im.exec(header);
    if (!match) {
      this.stopReading(`a header without a valid Content-Length (${JSON.stringify(header.slice(0, 80))})`);
      return false;
    }
    const length = Number(match[1]);
    if (length > MAX_MESSAGE_BYTES) {
      this.stopReading(`a message of ${length} bytes, over the limit of ${MAX_MESSAGE_BYTES}`);
      return false;
    }
    this.bodyLength = length;
    return true;
  }

  private take(length: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, length);
    this.chunks = [];
    this.buffered = 0;
    return all;
  }

  private deliver(body: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(body.toString('utf8'));
    } catch {
      this.handlers.invalid(`a message that is not JSON (${body.length} bytes)`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.handlers.invalid('a message that is not a JSON object');
      return;
    }
    this.handlers.message(message as Record<string, unknown>);
  }
}
