/**
 * `trace: true` (stderr) or `trace: "FILE"`: every DAP message of one session, in order, one
 * JSON line each with its direction. Never stdout, which carries DAP itself. A trace holds
 * the launch arguments, `env` values included (it is asked for, and documented so), which is
 * why the file must be private: see openPrivateAppendFile.
 */
import fs from 'node:fs';
import { openPrivateAppendFile, PrivateFileError } from '../io/privateAppendFile.js';
import { ErrorId, RequestError } from './errors.js';

export class SessionTrace {
  private constructor(
    private readonly write: (line: string) => void,
    private readonly closeFile: () => void,
    private readonly label: string,
  ) {}

  static open(
    target: boolean | string | undefined,
    label: string,
    stderr: (line: string) => void,
  ): SessionTrace | undefined {
    if (target === undefined || target === false || target === '') return undefined;
    if (target === true) return new SessionTrace(stderr, () => {}, label);
    let fd: number;
    try {
      fd = openPrivateAppendFile(target, 'trace file');
    } catch (error) {
      if (error instanceof PrivateFileError) throw new RequestError(ErrorId.InvalidArguments, error.message);
      throw error;
    }
    return new SessionTrace(
      (line) => fs.writeSync(fd, line + '\n'),
      () => fs.closeSync(fd),
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
