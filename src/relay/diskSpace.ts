/**
 * A full disk under the relay directory: telling it from other failures, describing it in
 * one line, and the small reserve a server keeps so that a command's exit code still gets
 * through when the command's own output has filled the disk.
 *
 * What a full disk still allows: unlink, rename, utimes and creating an empty file need no
 * data blocks; writing even one byte to a new file does. The server's heartbeat and `.exit`
 * are new files (written atomically), so both fail, and a client that only looks at the
 * heartbeat would take a live server for a dead one. Hence: the server touches the heartbeat
 * (a sign of life that needs no space), the client asks statfs why the heartbeat stopped
 * changing, and the server frees its reserve to write a result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { RelayError } from './errors.js';
import { PRIVATE_FILE_MODE } from './files.js';
import { filesystemType } from './watchMode.js';

/**
 * The reserve's size, and the free space below which a disk counts as full. A result takes
 * two small files (`.json`, `.exit`), each written to a temporary name first: a few blocks
 * of at most 4 KiB, plus room for a directory to grow; 64 KiB is all of that several times.
 */
export const RESERVE_BYTES = 64 * 1024;

/** ENOSPC (no blocks left) or EDQUOT (the user's quota on it is used up). */
export function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** Bytes an unprivileged writer can still use on the filesystem holding `dir`. */
export function freeBytes(dir: string): number | undefined {
  try {
    const stat = fs.statfsSync(dir);
    return stat.bavail * stat.bsize;
  } catch {
    return undefined;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * "the disk holding relay directory /x is full (tmpfs, 0 bytes free)", or undefined while
 * there is room. statfs cannot see quotas: `error` (EDQUOT) names that case.
 */
export function describeFullDisk(dir: string, error?: unknown): string | undefined {
  if ((error as NodeJS.ErrnoException | undefined)?.code === 'EDQUOT') {
    return `your disk quota on the filesystem holding relay directory ${dir} is used up (EDQUOT)`;
  }
  const free = freeBytes(dir);
  if (free === undefined || (free >= RESERVE_BYTES && error === undefined)) return undefined;
  return `the disk holding relay directory ${dir} is full (${filesystemType(dir).name}, ${formatBytes(free)} free)`;
}

/** The next step, for the end of a disk-full line. */
export function freeSpaceHint(dir: string): string {
  return `free space on it (df -h ${dir})`;
}

/**
 * Bytes held in reserve by the server, in its relay directory, and given back when a result
 * cannot be written for lack of space. Filled with random bytes: a compressing filesystem
 * (btrfs, ZFS) would store zeros in no space at all.
 */
export class SpaceReserve {
  constructor(private readonly file: string) {}

  /** Create the reserve if it is missing; false if there is not room for it. */
  ensure(): boolean {
    // lstat: a link planted in its place is not ours, and unlinking it would free nothing.
    const stat = fs.lstatSync(this.file, { throwIfNoEntry: false });
    if (stat?.isFile() && stat.size === RESERVE_BYTES) return true;
    // Not the last free blocks: a write that fails half way would take them from others for a moment.
    const free = freeBytes(path.dirname(this.file));
    if (free !== undefined && free < 2 * RESERVE_BYTES) return false;
    const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
    try {
      const fd = fs.openSync(this.file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, PRIVATE_FILE_MODE);
      try {
        fs.writeFileSync(fd, randomBytes(RESERVE_BYTES));
      } finally {
        fs.closeSync(fd);
      }
      return true;
    } catch (error) {
      this.release();
      if (isDiskFull(error)) return false;
      throw error;
    }
  }

  /** Give the space back; true if there was a reserve to give. */
  release(): boolean {
    try {
      fs.unlinkSync(this.file);
      return true;
    } catch {
      return false;
    }
  }
}

/** What a client could not write for lack of space, as an error that says what to do; other errors as they are. */
export function diskFullError(relayRoot: string, what: string, error: unknown): Error {
  if (!isDiskFull(error)) return error as Error;
  const full = describeFullDisk(relayRoot, error) ?? `the disk holding relay directory ${relayRoot} is full`;
  return new RelayError('DISK_FULL', `cannot ${what}: ${full}; ${freeSpaceHint(relayRoot)}, then try again.`);
}
