/**
 * The file of `relay-dap --socket PATH`: a Unix domain socket that only its owner can reach.
 *
 * Node does not expose the peer's credentials (SO_PEERCRED) on a Unix socket, so the uid of
 * a client cannot be checked as it is over TCP. The protection is the directory instead: the
 * socket lives in a directory that is ours and 0700, so no other user can even reach the
 * name, and every directory above it is one that only we or root can rename things in, so
 * no one can swap ours for theirs. The socket is bound with umask 0177 (born 0600, inside
 * that directory): there is no moment when another user could connect.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { octalMode, selfUid } from './fileOwner.js';
import { untrustedAncestor } from './trustedAncestors.js';

const PRIVATE_DIR_MODE = 0o700;
const SOCKET_MODE = 0o600;
/** sun_path holds 108 bytes on Linux, the last one a NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * The directory of the socket: created 0700 when missing; otherwise it must be a directory
 * that is ours and open to no one else. Returns its real path (symlinks resolved).
 */
function claimDirectory(dir: string): string {
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    fs.chmodSync(dir, PRIVATE_DIR_MODE); // whatever the umask took away or left
  }
  const real = fs.realpathSync(dir);
  const stat = fs.statSync(real);
  const shown = real === dir ? dir : `${dir} (${real})`;
  if (!stat.isDirectory())
    throw new Error(`--socket: ${shown} is not a directory: choose a path inside a directory of your own`);
  if (stat.uid !== selfUid() || (stat.mode & 0o077) !== 0)
    throw new Error(
      `--socket: the directory ${shown} is owned by uid ${stat.uid} with mode ${octalMode(stat.mode)}; ` +
        `it must be yours (uid ${selfUid()}) and private: ` +
        (stat.uid === selfUid()
          ? `chmod 700 ${real}, or name a directory that does not exist yet (relay-dap creates it 0700)`
          : 'choose a directory of your own (for example under $XDG_RUNTIME_DIR)'),
    );
  checkAncestors(real);
  return real;
}

/**
 * Every directory above: owned by us or root, and not writable by others unless sticky (as
 * /tmp is), so that no other user can rename our directory away and put theirs in its place.
 */
function checkAncestors(real: string): void {
  const found = untrustedAncestor(real);
  if (found)
    throw new Error(
      `--socket: ${found.dir}, above the socket's directory, is owned by uid ${found.uid} with mode ${octalMode(found.mode)}: ` +
        `another user could replace what is inside it; choose a directory of your own (for example under $XDG_RUNTIME_DIR)`,
    );
}

/** Whether an adapter (or anything) is listening on the socket at `file`. */
function answers(file: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(new Error(`--socket: cannot tell whether ${file} is in use: ${error.message}`));
    });
  });
}

/**
 * Makes `socketPath` ready to bind: its directory private, nothing in the way. A socket left
 * by an adapter that died (nothing answers on it) is removed; a live one, or any other kind
 * of file, is refused. Returns the absolute path to bind.
 */
export async function claimSocketPath(socketPath: string, log: (line: string) => void): Promise<string> {
  const given = path.resolve(socketPath);
  const file = path.join(claimDirectory(path.dirname(given)), path.basename(given));
  if (Buffer.byteLength(file) > MAX_SOCKET_PATH_BYTES)
    throw new Error(
      `--socket: ${file} is ${Buffer.byteLength(file)} bytes long; a Unix socket path may have at most ${MAX_SOCKET_PATH_BYTES}: choose a shorter path`,
    );
  const existing = fs.lstatSync(file, { throwIfNoEntry: false });
  if (existing === undefined) return file;
  if (!existing.isSocket()) {
    const kind = existing.isFile()
      ? 'a regular file'
      : existing.isDirectory()
        ? 'a directory'
        : 'not a socket';
    throw new Error(
      `--socket: ${file} exists and is ${kind}; relay-dap replaces only a stale socket: remove it, or choose another path`,
    );
  }
  if (await answers(file))
    throw new Error(
      `--socket: ${file} is in use (an adapter is listening on it): connect to that one, stop it, or choose another path`,
    );
  fs.rmSync(file, { force: true });
  log(`removed the stale socket ${file} (nothing was listening on it: an adapter that did not exit cleanly)`);
  return file;
}

/**
 * Binds `server` to `file` with umask 0177, so that the socket is 0600 from its first moment
 * (the bind is synchronous in `listen`), and removes it when this process exits however it
 * exits (`close()` removes it too).
 */
export function listenPrivately(server: net.Server, file: string): void {
  const umask = process.umask(0o177);
  try {
    server.listen(file);
  } finally {
    process.umask(umask);
  }
  // First among the 'listening' listeners: the mode is final before anyone is told the path.
  server.prependOnceListener('listening', () => {
    fs.chmodSync(file, SOCKET_MODE);
    const ours = fs.lstatSync(file);
    process.once('exit', () => {
      // Only the socket this process bound: a later adapter's socket of the same name stays.
      const now = fs.lstatSync(file, { throwIfNoEntry: false });
      if (now?.isSocket() && now.ino === ours.ino && now.dev === ours.dev) fs.rmSync(file, { force: true });
    });
  });
}

/**
 * A socket path of our own in a new directory (mkdtemp makes it 0700 and unguessable), for a
 * socket that lives as long as one task; `remove` takes the directory away with it.
 */
export function newPrivateSocketPath(prefix: string): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { file: path.join(dir, 'socket'), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
