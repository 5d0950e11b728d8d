/**
 * Whether another user could swap what is at a path for something of theirs. Checking a
 * directory's own owner and mode is not enough: whoever can rename entries in a directory
 * above it (its owner, or anyone when it is writable by others and not sticky) can move ours
 * away and put theirs in its place between our check and our next open, as often as they
 * like — so every directory above must be ours or root's, and open to no one else unless
 * sticky (as /tmp is: there only an entry's owner may rename it). A symbolic link on the way
 * counts as well: its owner can point it elsewhere (protected_symlinks is often off). The
 * rule of ssh's StrictModes, with sticky directories allowed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { selfUid } from './fileOwner.js';

export interface UntrustedAncestor {
  /** The directory (or link) above the path that another user controls. */
  dir: string;
  uid: number;
  mode: number;
  /** Why: owned by another user, writable by others without the sticky bit, or a link of another user's. */
  reason: 'owner' | 'writable' | 'link';
}

function ownerOrRoot(uid: number): boolean {
  return uid === 0 || uid === selfUid();
}

function judge(dir: string, stat: fs.Stats): UntrustedAncestor | undefined {
  const found = { dir, uid: stat.uid, mode: stat.mode };
  if (stat.isSymbolicLink()) return ownerOrRoot(stat.uid) ? undefined : { ...found, reason: 'link' };
  if (!ownerOrRoot(stat.uid)) return { ...found, reason: 'owner' };
  const sticky = (stat.mode & 0o1000) !== 0;
  if ((stat.mode & 0o022) !== 0 && !sticky) return { ...found, reason: 'writable' };
  return undefined;
}

/** Each existing directory from `/` down to `dir` itself, as named (not resolved). */
function existingPrefixes(dir: string): string[] {
  const prefixes: string[] = [];
  for (let at = dir; ; at = path.dirname(at)) {
    prefixes.unshift(at);
    if (at === path.dirname(at)) break;
  }
  return prefixes.filter((prefix) => fs.lstatSync(prefix, { throwIfNoEntry: false }) !== undefined);
}

/**
 * The first directory above `target` (not `target` itself) through which another user could
 * replace it, or undefined when there is none. Parts that do not exist yet are not judged (a
 * caller that creates them checks again afterwards).
 */
export function untrustedAncestor(target: string): UntrustedAncestor | undefined {
  const parent = path.dirname(path.resolve(target));
  const prefixes = existingPrefixes(parent);
  // As named: a link of another user's on the way could be re-pointed.
  for (const prefix of prefixes) {
    const stat = fs.lstatSync(prefix, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) {
      const link = judge(prefix, stat);
      if (link) return link;
    }
  }
  // As resolved: the directories that are really traversed.
  const deepest = prefixes.at(-1);
  if (deepest === undefined) return undefined;
  const real = fs.realpathSync(deepest);
  for (let dir = real; ; dir = path.dirname(dir)) {
    const found = judge(dir, fs.statSync(dir));
    if (found) return found;
    if (dir === path.dirname(dir)) return undefined;
  }
}
