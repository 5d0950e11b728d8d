/**
 * The job's own folder on the far side of the relay (RUNNER_TEMP: step scripts, GITHUB_ENV and
 * GITHUB_OUTPUT files), and the folders that adapters killed before their cleanup left behind.
 *
 * Nothing on the far side outlives a killed adapter that could remove its folder (the relay
 * server runs commands, not sessions; the folder may be in a container), so each folder records
 * its adapter (`host:pid:start`), and the next job made through any relay reaps the folders of
 * adapters that are dead: only on the adapter's own host can that be judged, so folders of
 * another host's adapters stay. On a shared TMPDIR the reaping touches only directories the
 * far side's user owns, never a symbolic link, never a folder without a readable record.
 */
import os from 'node:os';
import { isProcessAlive, parseMarker } from '../relay/markers.js';
import { processStartEpochMs } from '../relay/processTree.js';
import { shellQuote } from '../workflow/shellQuote.js';

const PREFIX = 'relay-dap-job.';
/** In each folder: the adapter that made it. */
const OWNER_FILE = 'relay-dap-owner';
/** A process's start time read twice can differ by a clock tick; a reused pid starts much later. */
const START_TOLERANCE_MS = 1000;

/** Anything that runs a command on the far side and returns its output (the job runner). */
export interface FarSide {
  captureCommand(text: string): Promise<{ exitCode: number; output: Buffer }>;
}

/** `host:pid:start-epoch-ms` of this adapter process. */
function ownerRecord(): string {
  return `${os.hostname()}:${process.pid}:${processStartEpochMs(process.pid) ?? 0}`;
}

/** The record names a process of this host that is gone (or whose pid now belongs to a later one). */
function isDeadOwner(record: string): boolean {
  const marker = parseMarker(record);
  if (marker === undefined || marker.host !== os.hostname()) return false;
  if (!isProcessAlive(marker.pid)) return true;
  const recorded = Number(marker.stamp);
  const started = processStartEpochMs(marker.pid);
  return started !== undefined && recorded > 0 && Math.abs(started - recorded) > START_TOLERANCE_MS;
}

/**
 * One command: make the folder, record its adapter, print its path, then one line
 * `folder<TAB>record` for every other folder of ours (owned by us, not a link, with a record).
 */
function makeAndListScript(record: string): string {
  return [
    'base=${TMPDIR:-/tmp}',
    `d=$(mktemp -d "$base/${PREFIX}XXXXXXXX") || exit 1`,
    `printf '%s\\n' ${shellQuote(record)} > "$d/${OWNER_FILE}" || exit 1`,
    `printf '%s\\n' "$d"`,
    `for o in "$base"/${PREFIX}*/${OWNER_FILE}; do`,
    `  f=\${o%/${OWNER_FILE}}`,
    '  [ "$f" != "$d" ] && [ -d "$f" ] && [ ! -L "$f" ] && [ -O "$f" ] && [ -f "$o" ] && [ ! -L "$o" ] || continue',
    `  printf '%s\\t%s\\n' "$f" "$(head -c 200 -- "$o" | tr -d '\\t\\n')"`,
    'done',
    'exit 0',
  ].join('\n');
}

/** Removes folders, checking each again where it is (still ours, still not a link). */
function removeScript(folders: string[]): string {
  return `for f in ${folders.map(shellQuote).join(' ')}; do [ -d "$f" ] && [ ! -L "$f" ] && [ -O "$f" ] && rm -rf -- "$f"; done; exit 0`;
}

/**
 * Makes the job's folder on the far side and reaps the folders of this host's dead adapters.
 * Returns the folder's path, or the far side's words when it could not be made.
 */
export async function makeJobFolder(farSide: FarSide): Promise<{ folder: string } | { error: string }> {
  const made = await farSide.captureCommand(makeAndListScript(ownerRecord()));
  const [folder = '', ...others] = made.output.toString('utf8').split('\n');
  if (made.exitCode !== 0 || !folder.startsWith('/')) return { error: folder.trim() };
  const parent = folder.slice(0, folder.lastIndexOf('/') + 1);
  const stale = others.flatMap((line) => {
    const tab = line.indexOf('\t');
    const path = line.slice(0, tab);
    const name = path.slice(parent.length);
    // Only what the listing can have printed: a mktemp name in the same parent.
    const ours =
      tab > 0 &&
      path.startsWith(parent) &&
      name.startsWith(PREFIX) &&
      /^[A-Za-z0-9]+$/.test(name.slice(PREFIX.length));
    return ours && isDeadOwner(line.slice(tab + 1)) ? [path] : [];
  });
  if (stale.length > 0) await farSide.captureCommand(removeScript(stale));
  return { folder };
}
