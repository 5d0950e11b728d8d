/**
 * `trace: true` (stderr) or `trace: "FILE"`: every DAP message of one session, in order, one
 * JSON line each with its direction. Never stdout, which carries DAP itself. A trace holds
 * the launch arguments, `env` values included (it is asked for, and documented so), which is
 * why the file must be private: the host opens it (see openPrivateAppendFile), the session
 * only writes lines.
 */
import { PrivateFileError, type PrivateLineFile } from '../io/privateAppendFile.js';
import { ErrorId, RequestError } from './errors.js';

/** What the session's host provides for traces: its stderr, and private files it opens. */
export interface TraceOutlets {
  trace(line: string): void;
  openTraceFile(file: string): PrivateLineFile;
}

export class SessionTrace {
  private constructor(
    private readonly write: (line: string) => void,
    private readonly closeFile: () => void,
    private readonly label: string,
  ) {}

  static open(
    target: boolean | string | undefined,
    label: string,
    outlets: TraceOutlets,
  ): SessionTrace | undefined {
    if (target === undefined || target === false || target === '') return undefined;
    if (target === true)
      return new SessionTrace(
        (line) => outlets.trace(line),
        () => {},
        label,
      );
    let file: PrivateLineFile;
    try {
      file = outlets.openTraceFile(target);
    } catch (error) {
      if (error instanceof PrivateFileError) throw new RequestError(ErrorId.InvalidArguments, error.message);
      throw error;
    }
    return new SessionTrace(
      (line) => file.writeLine(line),
      () => file.close(),
      label,
    );
  }

  record(direction: 'from client' | 'to client', message: unknown): void {
    try {
      this.write(`${new Date().toISOString()} ${this.label} ${direction} ${JSON.stringify(message)}`);
    } catch {
      // A full disk must not stop the session.
    }
  }

  close(): void {
    try {
      this.closeFile();
    } catch {
      // Already closed.
    }
  }
}
