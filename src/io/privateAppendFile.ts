/**
 * A file that relay-dap appends its own lines to at a path the user named: a session's trace
 * (`trace: "FILE"`), the adapter's `--log-file`. What goes there may be secret (a trace holds
 * every launch argument, `env` values included), and the path is often in a directory every
 * local user can write (the README's own example is /tmp/dap.log). So a link planted there is
 * never followed (nor a file with a second, hard-linked name), a file that another user owns or can read is never written to, and a new
 * file is created 0600 by this process, not merely opened.
 */
import fs from 'node:fs';
import { octalMode, selfUid } from './fileOwner.js';
import { describeFileType } from './userFile.js';

export class PrivateFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrivateFileError';
  }
}

/** Why an existing file must not be written to, or undefined when it is a private file of ours. */
function refusal(file: string, what: string, stat: fs.Stats): string | undefined {
  const elsewhere = 'or name a file in a directory only you can write (e.g. under ~/.cache)';
  if (!stat.isFile()) return `the ${what} ${file} is ${describeFileType(stat)}: name a regular file`;
  const uid = selfUid();
  if (stat.uid !== uid) {
    return (
      `refusing the ${what} ${file}: it belongs to uid ${stat.uid}, not to you (uid ${uid}), with mode ${octalMode(stat.mode)}, ` +
      `so its owner could read what relay-dap writes there (secrets included): remove it, ${elsewhere}`
    );
  }
  if (stat.nlink > 1) {
    // A hard link planted in a shared directory (possible wherever fs.protected_hardlinks is
    // off) would make relay-dap append to the linked file, wherever it is.
    return (
      `refusing the ${what} ${file}: it has ${stat.nlink} names (hard links), so what relay-dap writes there would also land ` +
      `in a file elsewhere: remove it, ${elsewhere}`
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    return (
      `refusing the ${what} ${file}: it is yours (uid ${uid}) but has mode ${octalMode(stat.mode)}, so other users could read ` +
      `what relay-dap writes there (secrets included): run chmod 600 ${file}, ${elsewhere}`
    );
  }
  return undefined;
}

/**
 * Opens `file` for appending: created 0600 if it does not exist (O_CREAT|O_EXCL, so nothing
 * planted in between is opened instead), else appended to only when it is a regular file of
 * this user that nobody else can read or write. Never follows a symbolic link. `what` names
 * the file in errors ("trace file", "log file (--log-file)"). Throws PrivateFileError (one line).
 */
export function openPrivateAppendFile(file: string, what: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  // Two tries: the file may be removed between finding it there and opening it.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotOpen(file, what, error);
    }
    let fd: number;
    try {
      // O_NONBLOCK: a FIFO planted there must not block the open (it is refused just below).
      fd = fs.openSync(file, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code === 'ELOOP') {
        throw new PrivateFileError(
          `refusing the ${what} ${file}: it is a symbolic link, and relay-dap does not follow links for the files ` +
            'it writes (one planted in a shared directory would send them elsewhere): remove it, or name the real file',
        );
      }
      if (code === 'ENXIO') throw new PrivateFileError(`the ${what} ${file} is a FIFO: name a regular file`);
      throw cannotOpen(file, what, error);
    }
    const reason = refusal(file, what, fs.fstatSync(fd));
    if (reason === undefined) return fd;
    fs.closeSync(fd);
    throw new PrivateFileError(reason);
  }
  throw new PrivateFileError(
    `cannot open the ${what} ${file}: it keeps appearing and disappearing; name a file in a directory only you can write`,
  );
}

function cannotOpen(file: string, what: string, error: unknown): PrivateFileError {
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new PrivateFileError(
    `cannot open the ${what} ${file} (${code}): check that its directory exists and that you can write there`,
  );
}

/** A private append-only file of lines (a session's trace): opened as openPrivateAppendFile opens it. */
export interface PrivateLineFile {
  writeLine(line: string): void;
  close(): void;
}

export function openPrivateLineFile(file: string, what: string): PrivateLineFile {
  const fd = openPrivateAppendFile(file, what);
  return {
    writeLine: (line) => fs.writeSync(fd, line + '\n'),
    close: () => fs.closeSync(fd),
  };
}
