/**
 * Checks and prepares a relay directory before anyone writes into it. Never deletes
 * anything (Part B, defect 6): a directory that is there is used as it is.
 */
import fs from 'node:fs';
import { RelayError } from './errors.js';
import { PRIVATE_DIR_MODE, isNotFound } from './files.js';
import { relayLayout, type RelayLayout } from './layout.js';

function checkDirectory(dir: string, what: string, writable = true): 'missing' | 'ok' {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch (error) {
    if (isNotFound(error)) return 'missing';
    throw new RelayError('RELAY_DIR', `${what} ${dir} cannot be examined (${(error as Error).message}).`);
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
  if (!writable) return 'ok';
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK | fs.constants.R_OK);
  } catch (error) {
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} is not writable (${(error as NodeJS.ErrnoException).code ?? 'error'}): ` +
        `fix its permissions (chmod u+rwx ${dir}) or choose another directory.`,
    );
  }
  return 'ok';
}

function ensureDirectory(dir: string, what: string): void {
  if (checkDirectory(dir, what) === 'ok') return;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw new RelayError(
      'RELAY_DIR',
      `${what} ${dir} is missing and cannot be created (${(error as Error).message}): create it yourself or choose another path.`,
    );
  }
  checkDirectory(dir, what);
}

/** Creates what is missing (`0700`), refuses symlinks and unwritable directories. */
export function prepareRelayDirectory(root: string): RelayLayout {
  const layout = relayLayout(root);
  ensureDirectory(layout.root, 'relay directory');
  ensureDirectory(layout.cmdDir, 'relay command directory');
  ensureDirectory(layout.resultDir, 'relay result directory');
  return layout;
}

/**
 * While serving: the directories are still directories (not swapped for links), or a
 * RelayError. `writable: false` checks only that (what a single write needs to be safe).
 */
export function verifyRelayDirectory(
  layout: RelayLayout,
  options: { writable: boolean } = { writable: true },
): void {
  for (const [dir, what] of [
    [layout.root, 'relay directory'],
    [layout.cmdDir, 'relay command directory'],
    [layout.resultDir, 'relay result directory'],
  ] as const) {
    if (checkDirectory(dir, what, options.writable) === 'missing') {
      throw Object.assign(new Error(`${what} ${dir} is gone`), { code: 'ENOENT' });
    }
  }
}

/** For read-only callers (status): the directory must exist; nothing is created. */
export function inspectRelayDirectory(root: string): RelayLayout {
  const layout = relayLayout(root);
  if (checkDirectory(layout.root, 'relay directory') === 'missing') {
    throw new RelayError(
      'RELAY_DIR',
      `relay directory ${layout.root} does not exist: start a server with \`relay-dap serve --relay-dir ${layout.root}\`, or point --relay-dir (or $RELAY_DIR) at the right place.`,
    );
  }
  return layout;
}

export function ensureLeaseDirectory(layout: RelayLayout): void {
  ensureDirectory(layout.leaseDir, 'relay lease directory');
}
