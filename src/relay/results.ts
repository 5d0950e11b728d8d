/**
 * What a finished command leaves in `result/`: the `.exit` code (Part A) and the `.json`
 * record (Part C), and the exit codes the relay itself assigns.
 */
import fs from 'node:fs';
import os from 'node:os';
import { describeFullDisk, isDiskFull, RESERVE_BYTES, type SpaceReserve } from './diskSpace.js';
import { writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';

/** A cancelled command (Part A). */
export const EXIT_CANCELLED = 130;
/** The relay lost the command: its server died while it ran, so its own code is unknown. */
export const EXIT_RELAY_LOST = 125;
/** bash could not be started (missing workdir, no bash). Same as a shell's "command not found". */
export const EXIT_CANNOT_START = 127;
/**
 * Not run: the command text holds a NUL byte, which no argument or script can carry to bash,
 * or its command file belongs to another user than the server's (a uid mismatch).
 */
export const EXIT_CANNOT_EXECUTE = 126;

/** The last line of a cancelled command's log (Part A). */
export const CANCELLED_LINE = '[cancelled]';

export interface ResultRecord {
  id: string;
  host: string;
  /** The command's bash, also its process group id; null if it never started. */
  pid: number | null;
  startedAt: string | null;
  endedAt: string;
  durationMs: number | null;
  exitCode: number;
  /** The signal that ended bash itself, if one did. */
  signal: string | null;
  cancelled: boolean;
  /** Why it was cancelled: a client's cancel, the server shutting down, an expired lease. */
  cancelReason?: string;
  /** Processes still alive when bash ended or was cancelled, and then stopped. */
  leftoverProcesses?: number;
  /** SIGTERM was not enough; SIGKILL was sent after the grace period. */
  escalated?: boolean;
  /** Written by a later server for a command whose server died. */
  recovered?: boolean;
  note?: string;
  /** The disk holding the relay directory was full when the command ended: its output may be cut short. */
  diskFull?: string;
}

export function formatExitCode(code: number): string {
  return `${code}\n`;
}

/** A decimal exit code and a newline; anything else is not one. */
export function parseExitCode(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,3}$/.test(trimmed)) return undefined;
  const code = Number(trimmed);
  return code <= 255 ? code : undefined;
}

export function parseResultRecord(text: string | undefined): ResultRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as ResultRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** A result for a command that never ran (withdrawn) or whose run the relay lost (recovered). */
export function resultWithoutRun(
  id: string,
  exitCode: number,
  extra: Partial<ResultRecord> = {},
): ResultRecord {
  return {
    id,
    host: os.hostname(),
    pid: null,
    startedAt: null,
    endedAt: new Date().toISOString(),
    durationMs: null,
    exitCode,
    signal: null,
    cancelled: false,
    ...extra,
  };
}

/** `.json` first, then `.exit`: a client that sees `.exit` finds the record too (Part C). */
export function writeResultFiles(layout: RelayLayout, record: ResultRecord): void {
  writeFileAtomic(layout.meta(record.id), JSON.stringify(record, null, 2) + '\n');
  writeFileAtomic(layout.exit(record.id), formatExitCode(record.exitCode));
}

/**
 * Write a result on a disk that may be full. A full disk is most often full of the command's
 * own output, and its exit code matters more than anything else the relay could still say:
 *
 * 1. The server's reserve (space.reserve) is given back and the result written into it. No
 *    output is lost; the client takes the result, then the log, and deletes both, which
 *    frees what the command filled.
 * 2. Without a reserve (the disk was already full when the server started): the last
 *    RESERVE_BYTES of the command's log, a file the relay itself created, are dropped, and
 *    the record says how many. Output the client already streamed was shown before it was
 *    dropped; a client that reads only at the end (Part A) loses that tail, never more.
 * 3. If even that leaves no room, the error is thrown and the server retries every second:
 *    the client, which sees a live server that cannot write, says the disk is full.
 *
 * Returns undefined if the disk had room, else what was done to make some (for the log).
 */
export function writeResultMakingRoom(
  layout: RelayLayout,
  record: ResultRecord,
  reserve: SpaceReserve,
): string | undefined {
  const fullBefore = describeFullDisk(layout.root);
  if (fullBefore !== undefined) record.diskFull = fullBefore;
  try {
    writeResultFiles(layout, record);
    return undefined;
  } catch (error) {
    if (!isDiskFull(error)) throw error;
    record.diskFull = describeFullDisk(layout.root, error) ?? fullBefore ?? 'the disk was full';
    if (!reserve.release()) return dropLogTailAndWrite(layout, record, error);
  }
  writeResultFiles(layout, record);
  return `gave back the server's reserve (${layout.spaceReserve}) to write it`;
}

function dropLogTailAndWrite(layout: RelayLayout, record: ResultRecord, cause: unknown): string {
  const dropped = dropLogTail(layout.log(record.id));
  if (dropped === 0) throw cause;
  record.note = `the last ${dropped} bytes of its output were dropped to make room for its exit code: the disk was full`;
  writeResultFiles(layout, record);
  return `dropped the last ${dropped} bytes of its log to write it (no reserve left)`;
}

/** Truncate a finished command's log by up to RESERVE_BYTES; returns the bytes dropped. */
function dropLogTail(log: string): number {
  let fd: number;
  try {
    fd = fs.openSync(log, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return 0;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const keep = Math.max(0, size - RESERVE_BYTES);
    fs.ftruncateSync(fd, keep);
    return size - keep;
  } finally {
    fs.closeSync(fd);
  }
}
