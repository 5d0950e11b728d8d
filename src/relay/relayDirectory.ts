/**
 * Checks and prepares a relay directory before anyone writes into it. Never deletes
 * anything (Part B, defect 6): a directory that is there is used as it is — if it can be
 * trusted. As ssh's StrictModes, a directory (or its cmd/, result/, lease/) that belongs to
 * another user, or that group or others may write to, is refused: whoever can write to
 * `cmd/` runs commands as whoever serves it, and whoever owns a directory can write to it.
 */
import fs from 'node:fs';
import { describeUid, octalMode, selfUid } from '../io/fileOwner.js';
import { untrustedAncestor } from '../io/trustedAncestors.js';
import { RelayError } from './errors.js';
import { PRIVATE_DIR_MODE, isNotFound, isPermissionDenied } from './files.js';
import { relayLayout, type RelayLayout } from './layout.js';

/**
 * The next step when a relay file or directory belongs to another uid. The common cause is
 * not an attack but a client and a server running as different users (`docker run --user`).
 */
export function uidMismatchHint(ownerUid: number): string {
  return (
    `run the relay server and its clients as one user (here ${describeUid(selfUid())} and ${describeUid(ownerUid)}; ` +
    `with docker, start the container with \`--user $(id -u)\`, or enter it with \`docker exec --user UID\`)`
  );
}

interface CheckOptions {
  /** Also require that this process can write to it. */
  writable?: boolean;
  /** Strip group and other bits from a directory of ours (0755 → 0700): see `prepareRelayDirectory`. */
  tighten?: boolean;
}

/** Refuses a directory this process must not trust: another user's, or one others can write to. */
function checkTrust(dir: string, what: string, stat: fs.Stats): void {
  const self = selfUid();
  const mode = octalMode(stat.mode);
  if (stat.uid !== self) {
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} belongs to ${describeUid(stat.uid)} (mode ${mode}), not to ${describeUid(self)} that runs this, ` +
        `so it is not used (its owner could queue commands in it): if both sides are yours, ${uidMismatchHint(stat.uid)}; ` +
        `else use a relay directory of your own, or take this one with \`chown ${self} ${dir} && chmod 700 ${dir}\`.`,
    );
  }
  if ((stat.mode & 0o022) !== 0) {
    const who =
      (stat.mode & 0o022) === 0o022 ? 'its group and others' : stat.mode & 0o020 ? 'its group' : 'others';
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} (${describeUid(stat.uid)}, mode ${mode}) is writable by ${who}: ` +
        `another user could queue commands in it, so it is not used. Fix it with \`chmod 700 ${dir}\`, or choose a directory of your own.`,
    );
  }
}

/**
 * Refuses a relay directory below a directory that another user controls: they could rename
 * ours away and put theirs in its place between two of our checks (each tick), and then read
 * what we write there (results, command texts) or feed us `cancel`s and results.
 */
function checkAncestors(root: string): void {
  let found;
  try {
    found = untrustedAncestor(root);
  } catch (error) {
    throw new RelayError(
      'RELAY_DIR',
      `the directories above the relay directory ${root} cannot be examined (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ` +
        `fix their permissions, or choose another path.`,
    );
  }
  if (found === undefined) return;
  const mode = octalMode(found.mode);
  const why =
    found.reason === 'link'
      ? `is a symlink that belongs to ${describeUid(found.uid)}, who can point it elsewhere`
      : found.reason === 'owner'
        ? `belongs to ${describeUid(found.uid)} (mode ${mode}), who can rename what is in it`
        : `(${describeUid(found.uid)}, mode ${mode}) is writable by others and not sticky, so anyone can rename what is in it`;
  throw new RelayError(
    'RELAY_DIR',
    `relay directory ${root} is not used: ${found.dir}, above it, ${why} — and so swap the relay directory for one of theirs. ` +
      `Choose a relay directory under a directory of your own (e.g. ./.relay in your project, or under $XDG_RUNTIME_DIR).`,
  );
}

function checkDirectory(dir: string, what: string, options: CheckOptions = {}): 'missing' | 'ok' {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    if (isNotFound(error)) return 'missing';
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} cannot be examined (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): ` +
        `fix the permissions of the directories above it, or choose another path.`,
    );
  }
  if (stat.isSymbolicLink()) {
    let target = '?';
    try {
      target = fs.realpathSync(dir);
    } catch {
      // A dangling link: the message says so through the '?'.
    }
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} is a symlink (to ${target}); relay files are never followed through links, ` +
        `so that no one can redirect commands or results elsewhere: use the real directory instead.`,
    );
  }
  if (!stat.isDirectory()) {
    throw new RelayError('RELAY_DIR', `${what} ${dir} is not a directory: remove it or choose another path.`);
  }
  checkTrust(dir, what, stat);
  // Only group and other bits go: a mode the owner set on purpose (chmod 500) stays theirs.
  if (options.tighten && (stat.mode & 0o077) !== 0) fs.chmodSync(dir, stat.mode & 0o700);
  if (!options.writable) return 'ok';
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK | fs.constants.R_OK);
  } catch (error) {
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'}): ` +
        `fix its permissions (mode ${octalMode(stat.mode)}: chmod 700 ${dir}) or choose another directory.`,
    );
  }
  return 'ok';
}

function ensureDirectory(dir: string, what: string): void {
  if (checkDirectory(dir, what, { writable: true, tighten: true }) === 'ok') return;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} is missing and cannot be created (${(error as Error).message}): create it yourself or choose another path.`,
    );
  }
  checkDirectory(dir, what, { writable: true, tighten: true });
}

const SUBDIRECTORIES = (layout: RelayLayout) =>
  [
    [layout.cmdDir, 'relay command directory'],
    [layout.resultDir, 'relay result directory'],
  ] as const;

/**
 * For the server (the only one that creates a relay directory): creates what is missing
 * (`0700`), refuses symlinks, foreign and group/other-writable directories, and strips
 * group and other bits from ours — so that what a Part-A `flush` or a hand-made `mkdir`
 * left at 0755 ends private once served.
 */
export function prepareRelayDirectory(root: string): RelayLayout {
  const layout = relayLayout(root);
  // The directory's own faults first (they name the simpler fix); then what is above it,
  // before creating anything in a place someone else controls, and again once created (a
  // missing part above it may have been made by someone else in between).
  checkDirectory(layout.root, 'relay directory');
  checkAncestors(layout.root);
  ensureDirectory(layout.root, 'relay directory');
  checkAncestors(layout.root);
  for (const [dir, what] of SUBDIRECTORIES(layout)) ensureDirectory(dir, what);
  checkDirectory(layout.leaseDir, 'relay lease directory', { tighten: true });
  checkDirectory(layout.channelDir, 'relay channel directory', { tighten: true });
  return layout;
}

/**
 * While serving: the directories are still ours and still directories (not swapped for
 * links, not opened to others), or a RelayError. `writable: false` checks only that (what a
 * single write needs to be safe); `writable: true` (the server's tick) also re-tightens.
 */
export function verifyRelayDirectory(
  layout: RelayLayout,
  options: { writable: boolean } = { writable: true },
): void {
  const check = { writable: options.writable, tighten: options.writable };
  for (const [dir, what] of [[layout.root, 'relay directory'] as const, ...SUBDIRECTORIES(layout)]) {
    if (checkDirectory(dir, what, check) === 'missing') {
      throw Object.assign(new Error(`${what} ${dir} is gone`), { code: 'ENOENT' });
    }
  }
  checkAncestors(layout.root);
  checkDirectory(layout.leaseDir, 'relay lease directory', check);
  checkDirectory(layout.channelDir, 'relay channel directory', check);
}

/**
 * For clients (run, status, cancel, flush, handshake, the adapter): the directory must exist
 * and be trusted; nothing is created, so that a mistyped or relative path leaves no litter.
 * `waitedMs`: how long the caller waited for a server to create it, said in the error.
 * A missing cmd/ or result/ is left for the server to create (until one serves, there is no
 * work to see and none can be done).
 */
export function openRelayDirectory(root: string, waitedMs = 0): RelayLayout {
  const layout = relayLayout(root);
  if (checkDirectory(layout.root, 'relay directory', { writable: true }) === 'missing') {
    // Saying how long we waited tells a user whether a longer connectTimeout could help.
    const waited = waitedMs > 0 ? ` after waiting ${waitedMs / 1000} s` : '';
    throw new RelayError(
      'RELAY_DIR',
      `relay directory ${layout.root} does not exist${waited}: start a server with \`relay-dap serve --relay-dir ${layout.root}\`, or point --relay-dir (or $RELAY_DIR) at the right place.`,
    );
  }
  checkAncestors(layout.root);
  for (const [dir, what] of SUBDIRECTORIES(layout)) checkDirectory(dir, what, { writable: true });
  checkDirectory(layout.leaseDir, 'relay lease directory');
  checkDirectory(layout.channelDir, 'relay channel directory');
  return layout;
}

export function ensureLeaseDirectory(layout: RelayLayout): void {
  ensureDirectory(layout.leaseDir, 'relay lease directory');
}

/** Created by a server that opens channels (Part D), when it starts serving and whenever it is missing. */
export function ensureChannelDirectory(layout: RelayLayout): void {
  ensureDirectory(layout.channelDir, 'relay channel directory');
}

/**
 * A relay file this process may not read or write because another user owns it: the files
 * of a client and a server that run as different users. Undefined for any other failure.
 */
export function foreignFileError(file: string, error: unknown, doing: string): RelayError | undefined {
  if (!isPermissionDenied(error)) return undefined;
  const stat = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!stat || stat.uid === selfUid()) return undefined;
  return new RelayError(
    'RELAY_DIR',
    `cannot ${doing} ${file}: it belongs to ${describeUid(stat.uid)} (mode ${octalMode(stat.mode)}) and this runs as ${describeUid(selfUid())}; ` +
      `${uidMismatchHint(stat.uid)}.`,
  );
}

/**
 * A filesystem error met while using the relay directory, as one line that names the
 * directory at fault and the fix: the first of the relay's directories that is no longer
 * usable, or a file of another user's, or else the file and the error.
 */
export function relayFilesystemError(layout: RelayLayout, error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  try {
    for (const [dir, what] of [[layout.root, 'relay directory'] as const, ...SUBDIRECTORIES(layout)]) {
      if (checkDirectory(dir, what, { writable: true }) === 'missing') {
        return new RelayError(
          'RELAY_DIR',
          `${what} ${dir} is gone: it comes back when a server serves it (\`relay-dap serve --relay-dir ${layout.root}\`).`,
        );
      }
    }
  } catch (found) {
    if (found instanceof RelayError) return found;
  }
  const failure = error as NodeJS.ErrnoException;
  const foreign = failure.path ? foreignFileError(failure.path, error, 'use') : undefined;
  if (foreign) return foreign;
  return new RelayError(
    'RELAY_DIR',
    `relay directory ${layout.root}: ${failure.code ?? 'error'} on ${failure.path ?? 'a relay file'} (${failure.message}).`,
  );
}
