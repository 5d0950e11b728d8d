// Events or polling, decided from the filesystem type of real directories on this machine.
// A network or FUSE filesystem (where polling must be chosen) cannot be mounted in this
// test environment, so that branch is covered only by the --poll case, not by a real mount.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseWatchMode, filesystemType } from '../../src/relay/watchMode.js';

const dirs: string[] = [];
/** Disk filesystems whose every change is made by this kernel, as /proc/mounts names them. */
const LOCAL_TYPES = new Set(['ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'tmpfs']);

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function mkdtemp(parent: string): string {
  const dir = fs.mkdtempSync(path.join(parent, 'relay-watch-'));
  dirs.push(dir);
  return dir;
}

/** The filesystem type of `dir` from /proc/mounts (longest mount point that contains it). */
function mountType(dir: string): string | undefined {
  let mounts: string;
  try {
    mounts = fs.readFileSync('/proc/mounts', 'utf8');
  } catch {
    return undefined;
  }
  const real = fs.realpathSync(dir);
  let best: { point: string; type: string } | undefined;
  for (const line of mounts.split('\n')) {
    const [, point, type] = line.split(' ');
    if (!point || !type) continue;
    const within = real === point || real.startsWith(point.endsWith('/') ? point : point + '/');
    if (within && (!best || point.length >= best.point.length)) best = { point, type };
  }
  return best?.type;
}

describe('chooseWatchMode', () => {
  it('a temporary directory on this machine: events, with the filesystem type named', ({ skip }) => {
    const dir = mkdtemp(os.tmpdir());
    const mounted = mountType(dir);
    if (mounted !== undefined && !LOCAL_TYPES.has(mounted)) {
      skip(`${os.tmpdir()} is on ${mounted} here, not on a local disk filesystem`);
    }
    const choice = chooseWatchMode(dir);
    expect(choice.mode).toBe('events');
    expect(choice.fsType).not.toMatch(/^0x|unknown/);
    expect(choice.fsType).toBe(filesystemType(dir).name);
    if (mounted !== undefined) expect(choice.fsType).toBe(mounted);
    expect(choice.reason).toContain(choice.fsType);
    expect(choice.reason).toMatch(/event/);
    expect(choice.intervalMs).toBeGreaterThan(0);
    expect(filesystemType(dir).remote).toBe(false);
  });

  it('pollMs forces polling at that interval, and says so', () => {
    const dir = mkdtemp(os.tmpdir());
    const choice = chooseWatchMode(dir, 250);
    expect(choice.mode).toBe('polling');
    expect(choice.intervalMs).toBe(250);
    expect(choice.reason).toContain('250 ms');
    expect(choice.reason).toMatch(/--poll/);
    expect(choice.reason).toContain(choice.fsType);
  });

  it('a tmpfs directory (/dev/shm): events, tmpfs named', ({ skip }) => {
    if (!fs.existsSync('/dev/shm') || mountType('/dev/shm') !== 'tmpfs')
      skip('/dev/shm is not a tmpfs mount here');
    const dir = mkdtemp('/dev/shm');
    const choice = chooseWatchMode(dir);
    expect(choice.mode).toBe('events');
    expect(choice.fsType).toBe('tmpfs');
    expect(choice.reason).toContain('tmpfs');
  });

  it('a directory that does not exist: events on an unknown filesystem, without throwing', () => {
    const dir = path.join(mkdtemp(os.tmpdir()), 'missing');
    expect(filesystemType(dir)).toEqual({ name: 'unknown', remote: false });
    expect(chooseWatchMode(dir).mode).toBe('events');
  });
});
