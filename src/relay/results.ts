/**
 * What a finished command leaves in `result/`: the `.exit` code (Part A) and the `.json`
 * record (Part C), and the exit codes the relay itself assigns.
 */
import os from 'node:os';
import { writeFileAtomic } from './files.js';
import type { RelayLayout } from './layout.js';

/** A cancelled command (Part A). */
export const EXIT_CANCELLED = 130;
/** The relay lost the command: its server died while it ran, so its own code is unknown. */
export const EXIT_RELAY_LOST = 125;
/** bash could not be started (missing workdir, no bash). Same as a shell's "command not found". */
export const EXIT_CANNOT_START = 127;
/** The command text holds a NUL byte, which no argument or script can carry to bash. */
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
