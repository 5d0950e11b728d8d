/**
 * Turns relayed bytes into `output` events: decoded as UTF-8 per stream (a character split
 * across two reads stays whole), ANSI escapes stripped unless the client renders them,
 * split into events of bounded size, and slowed down when the client reads slower than the
 * job writes, so that memory stays flat however much a step prints.
 */
import { StringDecoder } from 'node:string_decoder';
import { OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { stripAnsi } from './ansi.js';

const MAX_EVENT_CHARS = 64 * 1024;

export interface OutputTransport {
  sendEvent(event: DebugProtocol.OutputEvent): void;
  readonly congested: boolean;
  drained(): Promise<void>;
}

export class OutputChannel {
  private readonly decoders = new Map<string, StringDecoder>();

  constructor(
    private readonly transport: OutputTransport,
    private readonly keepAnsi: boolean,
  ) {}

  /** Bytes of stream `key` (a step, a console command); resolves when the client has caught up. */
  write(key: string, chunk: Buffer, category: 'stdout' | 'stderr' = 'stdout'): Promise<void> | undefined {
    let decoder = this.decoders.get(key);
    if (!decoder) {
      decoder = new StringDecoder('utf8');
      this.decoders.set(key, decoder);
    }
    this.text(decoder.write(chunk), category);
    return this.transport.congested ? this.transport.drained() : undefined;
  }

  /** The stream ended: whatever partial character was held back is written. */
  end(key: string, category: 'stdout' | 'stderr' = 'stdout'): void {
    const decoder = this.decoders.get(key);
    if (!decoder) return;
    this.decoders.delete(key);
    this.text(decoder.end(), category);
  }

  /** A line from the adapter itself. */
  console(line: string, category: 'console' | 'important' = 'console'): void {
    this.send({ category, output: line.endsWith('\n') ? line : `${line}\n` });
  }

  /**
   * A step's header line. Steps are not output groups (`group: 'start'` … `'end'`): VS Code
   * (1.96, code-server 4.96.4) draws an expanded group's children only as far as they had
   * arrived when the group was first drawn, so with the console open a step's output and its
   * result line did not appear until the console was hidden and shown again. Plain lines at the
   * top level appear as they arrive, in every client.
   */
  stepHeader(title: string): void {
    this.console(title);
  }

  private text(text: string, category: 'stdout' | 'stderr'): void {
    const shown = this.keepAnsi ? text : stripAnsi(text);
    for (let at = 0; at < shown.length; at += MAX_EVENT_CHARS) {
      this.send({ category, output: shown.slice(at, at + MAX_EVENT_CHARS) });
    }
  }

  private send(body: DebugProtocol.OutputEvent['body']): void {
    const event = new OutputEvent(body.output, body.category) as DebugProtocol.OutputEvent;
    this.transport.sendEvent(event);
  }
}
