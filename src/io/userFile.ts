/**
 * Reading a file the user named (a job file, a workflow, `run --file`): only a regular file,
 * and only up to a limit. `/dev/zero` would otherwise be read until memory runs out, and a FIFO
 * with no writer would block the open — and with it the whole process, signals included.
 * Symbolic links are followed: a linked job file is legitimate; what it points to is checked.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Job files and workflows: real ones are well under 100 KB. */
export const JOB_FILE_LIMIT = 1024 * 1024;

/**
 * `relay-dap run --file`: a command text is held whole by the client, by the server and by bash
 * (one string, for eval), so this bounds all three well under 100 MB each, while leaving room
 * for scripts that carry data (a heredoc payload); a hand-written script is a few KiB.
 */
export const COMMAND_FILE_LIMIT = 16 * 1024 * 1024;

export class UserFileError extends Error {
  constructor(
    what: string,
    file: string,
    /** What is wrong and what to do, after "the job file X ": "is a FIFO …: name a regular file". */
    readonly reason: string,
  ) {
    super(`the ${what} ${file} ${reason}`);
    this.name = 'UserFileError';
  }
}

/** 1536 → "1.5 KiB" */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** "a FIFO (named pipe)", "a directory": what a path is when it is not a regular file. */
export function describeFileType(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO (named pipe)';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** `size`: the size seen, or undefined when reading went past the limit. */
export function tooLarge(what: string, file: string, size: number | undefined, limit: number): UserFileError {
  const over = size === undefined ? 'is larger than' : `is ${formatBytes(size)}, over`;
  return new UserFileError(
    what,
    file,
    `${over} the limit of ${formatBytes(limit)} for a ${what} (it keeps a wrong path from filling memory): ` +
      'use a smaller one, or put large data on the other side and have the command read it there',
  );
}

function checkOpened(what: string, file: string, stat: fs.Stats, limit: number): void {
  if (!stat.isFile()) {
    throw new UserFileError(
      what,
      file,
      `is ${describeFileType(stat)}, not a regular file: name a regular file`,
    );
  }
  if (stat.size > limit) throw tooLarge(what, file, stat.size, limit);
}

// O_NONBLOCK: opening a FIFO does not wait for a writer (it is then refused by its type).
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;
const CHUNK = 64 * 1024;

/**
 * The bytes of `file`, a regular file of at most `limit` bytes; `what` names it in errors
 * ("job file"). Throws UserFileError when it is not a regular file or too large, and the
 * open's own error (ENOENT, EACCES) otherwise, for the caller to phrase.
 */
export async function readUserFile(file: string, what: string, limit: number): Promise<Buffer> {
  const handle = await fs.promises.open(file, OPEN_FLAGS);
  try {
    checkOpened(what, file, await handle.stat(), limit);
    // Read to the limit, not to the size seen: the file may grow after the stat.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(CHUNK), 0, CHUNK, null);
      if (bytesRead === 0) break;
      chunks.push(buffer.subarray(0, bytesRead));
      total += bytesRead;
      if (total > limit) throw tooLarge(what, file, undefined, limit);
    }
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/**
 * The file a launch argument names (`program`, `eventPath`; relative to the adapter's cwd), as
 * UTF-8 text read as readUserFile reads it, within JOB_FILE_LIMIT; an open's own error (ENOENT,
 * EACCES) becomes one line naming `what`, the file, the reason and `nextStep`.
 */
export async function readUserText(
  given: string,
  what: string,
  nextStep: string,
): Promise<{ file: string; text: string }> {
  const file = path.resolve(given);
  try {
    return { file, text: (await readUserFile(file, what, JOB_FILE_LIMIT)).toString('utf8') };
  } catch (error) {
    if (error instanceof UserFileError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new Error(`cannot read the ${what} ${file} (${reason}): ${nextStep}`, { cause: error });
  }
}
