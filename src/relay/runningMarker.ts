/**
 * The `running` file, `<id>:<pgid>` of the command a server runs now (Part A), read and
 * written in this one place. Besides its text, a server settling a dead predecessor's command
 * needs to know when the file was last written and by whom: the process group it names is
 * that command's only if the group existed then and belongs to that user (pids are reused).
 */
import fs from 'node:fs';
import { isNotFound } from './files.js';
import { isValidCommandId } from './ids.js';
import type { RelayLayout } from './layout.js';

export interface RunningMarker {
  /** The file's text, as read (for removing it only if unchanged). */
  text: string;
  /** Everything before the last colon (ids never hold one), or the whole text if it has no pgid part. */
  id: string;
  /** The command's process group (Part A: its bash is the leader, so pgid = its pid). */
  pgid: number | undefined;
}

export interface RunningMarkerOnDisk extends RunningMarker {
  /** When the file was last written (or touched, by our servers), ms since the epoch. */
  writtenAtMs: number;
  /** The uid that wrote it: its server, and so the user the command ran as. */
  uid: number;
}

export function formatRunningMarker(id: string, pgid: number): string {
  return `${id}:${pgid}\n`;
}

export function parseRunningMarker(text: string): RunningMarker {
  const trimmed = text.trim();
  const colon = trimmed.lastIndexOf(':');
  if (colon <= 0) return { text, id: trimmed, pgid: undefined };
  const pgidText = trimmed.slice(colon + 1);
  const pgid = /^\d{1,10}$/.test(pgidText) ? Number(pgidText) : 0;
  return { text, id: trimmed.slice(0, colon), pgid: pgid > 1 ? pgid : undefined };
}

/**
 * Whether `running` marks a command: every server writes `<id>:<pgid>` with a valid id. A text
 * without the colon is no marker of a command (settling it would write a result for an id no
 * client ever submitted); a pgid part that is not a number still names the command.
 */
export function marksACommand(marker: RunningMarker): boolean {
  return isValidCommandId(marker.id) && marker.text.includes(':');
}

/** `running` as it is now, text and stat from one open file; undefined if there is none. */
export function readRunningMarker(layout: RelayLayout): RunningMarkerOnDisk | undefined {
  let fd: number;
  try {
    fd = fs.openSync(
      layout.running,
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    );
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const text = fs.readFileSync(fd, 'utf8');
    return { ...parseRunningMarker(text), writtenAtMs: stat.mtimeMs, uid: stat.uid };
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether `running` names command `id` (whatever pgid it records). */
export function runningNames(text: string | undefined, id: string): boolean {
  return text !== undefined && parseRunningMarker(text).id === id;
}
