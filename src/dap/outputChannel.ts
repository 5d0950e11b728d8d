/**
 * Turns relayed bytes into `output` events: decoded as UTF-8 per stream (a character split
 * across two reads stays whole), secrets masked, ANSI escapes stripped unless the client renders
 * them, split into events of bounded size, and slowed down when the client reads slower than the
 * job writes, so that memory stays flat however much a step prints.
 *
 * Every `output` event of a session is made here, so this is where secrets are masked for the
 * debug console: each stream through its own masking state (a secret split across two reads is
 * still caught, and a stream's `::add-mask::VALUE` line masks VALUE from then on, in every
 * channel, as on GitHub), and each line of the adapter's own (log points, notes) whole.
 */
import { OutputEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { SecretMasker } from '../job/jobSession.js';
import { stripAnsi } from './ansi.js';

const MAX_EVENT_CHARS = 64 * 1024;

export interface OutputTransport {
  sendEvent(event: DebugProtocol.OutputEvent): void;
  readonly congested: boolean;
  drained(): Promise<void>;
}

export class OutputChannel {
  private readonly streams = new Map<string, ReturnType<SecretMasker['stream']>>();

  constructor(
    private readonly transport: OutputTransport,
    private readonly keepAnsi: boolean,
    private readonly masker: SecretMasker,
  ) {}

  /** Bytes of stream `key` (a step, a console command); resolves when the client has caught up. */
  write(key: string, chunk: Buffer, category: 'stdout' | 'stderr' = 'stdout'): Promise<void> | undefined {
    let stream = this.streams.get(key);
    if (!stream) {
      stream = this.masker.stream({ addMaskCommands: true });
      this.streams.set(key, stream);
    }
    this.text(stream.write(chunk), category);
    return this.transport.congested ? this.transport.drained() : undefined;
  }

  /** The stream ended: whatever was held back (a partial character, a possible secret) is written. */
  end(key: string, category: 'stdout' | 'stderr' = 'stdout'): void {
    const stream = this.streams.get(key);
    if (!stream) return;
    this.streams.delete(key);
    this.text(stream.end(), category);
  }

  /** A line from the adapter itself. */
  console(line: string, category: 'console' | 'important' = 'console'): void {
    const masked = this.masker.mask(line);
    this.send({ category, output: masked.endsWith('\n') ? masked : `${masked}\n` });
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
