/**
 * Small measuring tools for the fault tests (test/reliability/faults.*.test.ts): what a process
 * holds (inotify watches, open descriptors, children), who it runs as, and a way to start
 * `relay-dap` as if on another host (another user: test/support/otherUser.ts), each probed first so that a test can
 * skip with the reason instead of faking the condition.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { probeFailure, probeSetpriv, type Probe } from '../support/otherUser.js';
import { relayDap, relayDapBin, start, type Spawned } from '../support/relayHarness.js';

/** `1.23 s`: how the figures in docs/reliability.md give times. */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

/** Inotify watches held by process `pid`: `inotify wd:` lines over all its descriptors. */
export function inotifyWatches(pid: number): number {
  return inotifyWatchedInodes(pid).length;
}

/** The inode number of everything process `pid` watches with inotify (one entry per watch). */
export function inotifyWatchedInodes(pid: number): number[] {
  const inodes: number[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fdinfo`)) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1');
    } catch {
      continue; // closed while we looked
    }
    for (const line of text.split('\n')) {
      const match = /^inotify wd:\S+ ino:([0-9a-f]+)/.exec(line);
      if (match) inodes.push(parseInt(match[1]!, 16));
    }
  }
  return inodes;
}

/** Open file descriptors of process `pid`. */
export function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

export interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
}

export function procStat(pid: number): ProcStat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      state: fields[0] ?? '?',
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      sid: Number(fields[3]),
    };
  } catch {
    return undefined;
  }
}

/** Live (non-zombie) children of `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const stat = /^\d+$/.test(name) ? procStat(Number(name)) : undefined;
    if (stat && stat.ppid === pid && stat.state !== 'Z') children.push(stat.pid);
  }
  return children;
}

export function isAlive(spawned: Spawned): boolean {
  return spawned.child.exitCode === null && spawned.child.signalCode === null;
}

// ---------------------------------------------------------------------------------------
// Another host: a client in its own UTS namespace has another hostname, so it cannot look at
// the server's pid and must judge it by the heartbeat alone, as a client on another machine.

export const OTHER_HOST = 'relay-test-other-host';

function probeOtherHost(): Probe {
  const which = spawnSync('sh', ['-c', 'command -v unshare'], { encoding: 'utf8' });
  if (which.status !== 0) return { ok: false, reason: 'util-linux unshare is not installed' };
  const prefix = [which.stdout.trim(), '--uts', 'sh', '-c', `hostname ${OTHER_HOST} && exec "$@"`, 'sh'];
  const probe = spawnSync(prefix[0]!, [...prefix.slice(1), 'hostname'], { encoding: 'utf8' });
  if (probe.status !== 0 || probe.stdout.trim() !== OTHER_HOST)
    return probeFailure('cannot give a process its own hostname with unshare --uts', probe);
  return { ok: true, prefix };
}

export const otherHost = probeOtherHost();

/** `relay-dap ARGS…`, on this host or (with `elsewhere`) in a UTS namespace named OTHER_HOST. */
export function relayDapOn(
  elsewhere: boolean,
  args: readonly string[],
  options: Parameters<typeof start>[2] = {},
): Spawned {
  if (!elsewhere) return relayDap(args, options);
  if (!otherHost.ok) throw new Error(otherHost.reason);
  const [command, ...prefix] = otherHost.prefix;
  return start(command!, [...prefix, process.execPath, relayDapBin, ...args], options);
}

// ---------------------------------------------------------------------------------------
// A small disk: a tmpfs of its own, so that a test can fill it up without touching the
// machine's. Needs mount(2) (root, or CAP_SYS_ADMIN): probed once, and a test skips with the
// reason when it cannot have one.

function probeSmallDisk(): Probe {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'mounting a small tmpfs needs root' };
  const dir = fs.mkdtempSync('/tmp/relay-disk-probe-');
  try {
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { encoding: 'utf8' });
    if (mount.status !== 0) return probeFailure('cannot mount a tmpfs', mount);
    spawnSync('umount', [dir]);
    return { ok: true, prefix: [] };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const smallDisk = probeSmallDisk();

/** Mount a tmpfs of `size` (mount's syntax: `2m`) on `dir` (created); returns the unmount. */
export function mountSmallDisk(dir: string, size: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
    encoding: 'utf8',
  });
  if (mount.status !== 0) throw new Error(`mount -t tmpfs on ${dir} failed: ${mount.stderr}`);
  // Lazily: a process of the test that still holds a file there must not keep it mounted.
  return () => void spawnSync('umount', ['-l', dir]);
}

/** Bytes free on the filesystem holding `dir`. */
export function bytesFree(dir: string): number {
  const stat = fs.statfsSync(dir);
  return stat.bavail * stat.bsize;
}

// Root without its permission bypass: root ignores permission bits (CAP_DAC_OVERRIDE), so a
// chmod 000 fault needs a process that lacks it. Dropping the capability keeps uid 0, so a
// process that must share the test's uid (a TCP peer that is checked for it) still does.

function probeNoDacOverride(): Probe {
  return probeSetpriv(
    ['--bounding-set=-dac_override,-dac_read_search'],
    ['grep', 'CapEff', '/proc/self/status'],
    (stdout) => {
      // CAP_DAC_OVERRIDE is bit 1, CAP_DAC_READ_SEARCH bit 2.
      const effective = /CapEff:\s*([0-9a-f]+)/.exec(stdout)?.[1];
      return effective !== undefined && (BigInt(`0x${effective}`) & 0b110n) === 0n;
    },
    {
      notRoot: 'not running as root: permission bits already apply',
      cannot: 'cannot drop CAP_DAC_OVERRIDE with setpriv --bounding-set',
    },
  );
}

/** `prefix`: runs a command as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH. */
export const rootWithoutDacOverride = probeNoDacOverride();
