/**
 * `trace: true` (stderr) or `trace: "FILE"`: every DAP message of one session, in order, one
 * JSON line each with its direction. Never stdout, which carries DAP itself. A trace holds
 * the launch arguments, `env` values included (it is asked for, and documented so), which is
 * why the file must be private: the host opens it (see openPrivateAppendFile), the session
 * only writes lines.
 *
 * Secrets are not written, as GitHub keeps them out of its logs: every text of a message goes
 * through the job's masker (its secrets, and each `::add-mask::` value seen so far), and the
 * values of a launch's `secrets` argument are written as `***` whatever the masker knows yet
 * (the launch request is traced before the job, and its secrets files, are read).
 */
import { PrivateFileError, type PrivateLineFile } from '../io/privateAppendFile.js';
import type { SecretMasker } from '../job/jobSession.js';
import { ErrorId, RequestError } from './errors.js';

/** What the session's host provides for traces: its stderr, and private files it opens. */
export interface TraceOutlets {
  trace(line: string): void;
  openTraceFile(file: string): PrivateLineFile;
}

const MASK = '***';

/** Every string in `value` (not the keys) masked; a launch's `secrets` values all `***`. */
function masked(value: unknown, masker: SecretMasker, key?: string): unknown {
  if (typeof value === 'string') return masker.mask(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => masked(item, masker));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([name, item]) => [
      name,
      key === 'arguments' && name === 'secrets' && item !== null && typeof item === 'object'
        ? Object.fromEntries(Object.keys(item).map((secret) => [secret, MASK]))
        : masked(item, masker, name),
    ]),
  );
}

export class SessionTrace {
  private constructor(
    private readonly write: (line: string) => void,
    private readonly closeFile: () => void,
    private readonly label: string,
    private readonly masker: SecretMasker,
  ) {}

  static open(
    target: boolean | string | undefined,
    label: string,
    outlets: TraceOutlets,
    masker: SecretMasker,
  ): SessionTrace | undefined {
    if (target === undefined || target === false || target === '') return undefined;
    if (target === true)
      return new SessionTrace(
        (line) => outlets.trace(line),
        () => {},
        label,
        masker,
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
      masker,
    );
  }

  record(direction: 'from client' | 'to client', message: unknown): void {
    try {
      const text = JSON.stringify(masked(message, this.masker));
      this.write(`${new Date().toISOString()} ${this.label} ${direction} ${text}`);
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
