/**
 * Events or polling? Filesystem events (inotify) only report changes made by this kernel.
 * On network and FUSE filesystems the other side's writes never raise one, so there we poll.
 */
import fs from 'node:fs';

/** statfs(2) magic numbers of filesystems whose changes may come from another kernel. */
const REMOTE_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0x6969, 'nfs'],
  [0x517b, 'smb'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x65735546, 'fuse'],
  [0x01021997, '9p'],
  [0x0bd00bd0, 'lustre'],
  [0x47504653, 'gpfs'],
  [0x00c36400, 'ceph'],
  [0x5346414f, 'afs'],
  [0x6b414653, 'kafs'],
  [0x7461636f, 'ocfs2'],
  [0x01161970, 'gfs2'],
  [0x19830326, 'beegfs'],
  [0xaad7aaea, 'panfs'],
  [0x786f4256, 'vboxsf'],
  [0x794c7630, 'overlay'],
]);

const LOCAL_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x01021994, 'tmpfs'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
]);

export const DEFAULT_FALLBACK_POLL_MS = 100;

export interface WatchChoice {
  mode: 'events' | 'polling';
  /** Polling: how often. Events: how often a safety rescan runs, in case an event is lost. */
  intervalMs: number;
  fsType: string;
  /** One line for the console: which mode, and why. */
  reason: string;
}

export function filesystemType(dir: string): { name: string; remote: boolean } {
  try {
    const type = fs.statfsSync(dir).type >>> 0;
    const remote = REMOTE_FILESYSTEMS.get(type);
    if (remote) return { name: remote, remote: true };
    return { name: LOCAL_FILESYSTEMS.get(type) ?? `0x${type.toString(16)}`, remote: false };
  } catch {
    return { name: 'unknown', remote: false };
  }
}

/** `pollMs` (from `--poll MS`) forces polling; otherwise the filesystem type decides. */
export function chooseWatchMode(dir: string, pollMs?: number): WatchChoice {
  const fsType = filesystemType(dir);
  if (pollMs !== undefined) {
    return {
      mode: 'polling',
      intervalMs: pollMs,
      fsType: fsType.name,
      reason: `polling every ${pollMs} ms (--poll; filesystem ${fsType.name})`,
    };
  }
  if (fsType.remote) {
    return {
      mode: 'polling',
      intervalMs: DEFAULT_FALLBACK_POLL_MS,
      fsType: fsType.name,
      reason: `polling every ${DEFAULT_FALLBACK_POLL_MS} ms: ${dir} is on ${fsType.name}, whose changes from another machine raise no events (set --poll MS to change the interval)`,
    };
  }
  return {
    mode: 'events',
    intervalMs: 1000,
    fsType: fsType.name,
    reason: `filesystem events (${fsType.name}), with a rescan every second in case one is lost`,
  };
}
