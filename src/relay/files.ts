/**
 * File operations the protocol depends on: atomic replacement, reads that do not race a
 * delete (no test-then-read), removal that leaves a newer writer's file alone, and private
 * modes. Synchronous on purpose: every file here is tiny, and a server that holds no
 * half-done state across an await is simpler to reason about.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

export function isNotFound(error: unknown): boolean {
  return isCode(error, 'ENOENT', 'ENOTDIR');
}

export function isPermissionDenied(error: unknown): boolean {
  return isCode(error, 'EACCES', 'EPERM');
}

/**
 * Write to a unique hidden temporary name in the same directory, then rename over the
 * target: a reader sees the old content or the new, never a part. The temporary name
 * starts with `.` and ends in `.tmp`, so it never looks like a command (`*.sh`) or a
 * result (`*.exit`), and two writers never share one (Part B, defect 8).
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode = PRIVATE_FILE_MODE): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (error) {
    // A failed write (ENOSPC) names no file: name the temporary one, which fileOfWriteError maps back.
    if (error instanceof Error) (error as NodeJS.ErrnoException).path ??= tmp;
    try {
      fs.unlinkSync(tmp);
    } catch {
      // The temporary file was never created, or is already gone.
    }
    throw error;
  }
}

/**
 * The file a failed write was for: an atomic write's error names its temporary file, which
 * means nothing to a reader of the log.
 */
export function fileOfWriteError(error: unknown): string | undefined {
  const file = (error as NodeJS.ErrnoException | undefined)?.path;
  if (file === undefined) return undefined;
  const tmp = /^\.(.+)\.\d+\.[0-9a-f]{8}\.tmp$/.exec(path.basename(file));
  return tmp ? path.join(path.dirname(file), tmp[1]!) : file;
}

/**
 * The files polled most (`cancel`, `.exit`) are usually absent; asking first avoids an
 * exception per look. A file deleted between the two calls is still reported as absent.
 */
export function readTextIfExists(file: string): string | undefined {
  if (!fs.statSync(file, { throwIfNoEntry: false })) return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function readBytesIfExists(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function removeIfExists(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Remove `file` only if it still holds `expected`. A cancel or marker that another process
 * replaced since we read it is theirs now, and stays.
 */
export function removeIfContent(file: string, expected: string): boolean {
  if (readTextIfExists(file) !== expected) return false;
  return removeIfExists(file);
}

/** Rename `from` to `to`; false if `from` was already taken by someone else. */
export function renameIfExists(from: string, to: string): boolean {
  try {
    fs.renameSync(from, to);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export function existsNoFollow(file: string): boolean {
  try {
    return fs.lstatSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export function listDirectory(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
}

/** Update a file's mtime to now, as a sign of life; false if it is gone. */
export function touch(file: string): boolean {
  const now = new Date();
  try {
    fs.utimesSync(file, now, now);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
