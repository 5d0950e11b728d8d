/**
 * One debug session on one connection (stdio, or a TCP socket): framing in, the session in
 * the middle, framing out. Resolves `done` once the session has ended, cleaned up, and the
 * connection is closed.
 */
import type { Readable, Writable } from 'node:stream';
import { openPrivateLineFile } from '../io/privateAppendFile.js';
import { childAddressOf, ChildSessionLink } from './childSessionLink.js';
import { DapConnection } from './dapConnection.js';
import { RelayDebugSession } from './relayDebugSession.js';
import { SeqRenumbering } from './seqRenumbering.js';

export interface HostedSession {
  session: RelayDebugSession;
  /** End the session as if the adapter were told to stop (a signal): the job is cancelled. */
  stop(reason: string): Promise<void>;
  done: Promise<void>;
  /**
   * After `done`: resolves once the client has closed its side of the connection, or after
   * `timeoutMs`. Whatever it still sends is read and dropped.
   */
  clientClosed(timeoutMs: number): Promise<void>;
}

export function hostSession(
  input: Readable,
  output: Writable,
  options: {
    label: string;
    log: (line: string) => void;
    /** Where `trace: true` goes (default: the log). */
    trace?: (line: string) => void;
  },
): HostedSession {
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const log = (line: string): void => options.log(`[${options.label}] ${line}`);
  let child: ChildSessionLink | undefined;
  let initialize: Record<string, unknown> | undefined;
  /** The child's messages come from debugpy with its own numbering; they continue ours. */
  const numbering = new SeqRenumbering();
  const end = (reason: string): Promise<void> =>
    session.finish(reason, true).then(() => {
      child?.end();
      connection.end();
      resolveDone();
    });
  const connection = new DapConnection(input, output, {
    message: (message) => {
      if (child) return child.fromClient(numbering.incoming(message));
      const childAddress = childAddressOf(message);
      if (childAddress) {
        // A `!debug` child session: from its launch on, the connection is debugpy's.
        child = new ChildSessionLink(
          childAddress,
          initialize,
          message,
          (m) => connection.send(numbering.outgoing(m)),
          () => void end('the child session ended'),
        );
        return;
      }
      if (message.command === 'initialize') initialize = message;
      try {
        session.handleMessage(message as never);
      } catch (error) {
        log(`failed to handle a message: ${(error as Error).stack ?? String(error)}`);
      }
    },
    invalid: (problem) => session.reportInvalidMessage(problem),
    inputClosed: (problem) => {
      if (problem) session.reportInvalidMessage(`${problem}; closing the connection`);
      void end(problem ? `the connection is unusable: ${problem}` : 'the client closed the connection');
    },
  });
  const session: RelayDebugSession = new RelayDebugSession(
    {
      log,
      trace: options.trace ?? log,
      // The session never opens files itself: a `trace: "FILE"` is opened here, privately.
      openTraceFile: (file) => openPrivateLineFile(file, 'trace file'),
      get congested() {
        return connection.congested;
      },
      drained: () => connection.drained(),
      ended: () => {
        connection.end();
        resolveDone();
      },
    },
    options.label,
  );
  // Running "inline" (a listener on onDidSendMessage) also keeps the library from ever
  // calling process.exit on its own: this process decides when it ends.
  session.onDidSendMessage((message) => {
    numbering.carried((message as { seq?: number }).seq ?? 0);
    connection.send(message);
  });
  let inputEnded = false;
  for (const event of ['end', 'close', 'error']) input.once(event, () => (inputEnded = true));
  const clientClosed = (timeoutMs: number): Promise<void> =>
    new Promise((resolve) => {
      if (inputEnded) return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      for (const event of ['end', 'close', 'error'])
        input.once(event, () => {
          clearTimeout(timer);
          resolve();
        });
      // The connection stopped reading when the session ended; the end can only be seen by reading.
      input.resume();
    });
  return { session, stop: end, done, clientClosed };
}
