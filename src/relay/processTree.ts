/**
 * Finding and stopping every process that belongs to one relayed command: the members of
 * its process group, every descendant of them, and every process whose environment still
 * holds `RELAY_CMD_ID=<id>` — which is how a `setsid` or double-fork escape is reached
 * after it has left both the group and the tree (Part C, whole-tree kill).
 *
 * On Linux one pass over /proc finds all three. Where there is no /proc (a laptop running
 * the embedded server on macOS), the group is signalled and tree-kill walks `ps` for the
 * descendants; environment markers cannot be read there.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export const COMMAND_ID_ENV = 'RELAY_CMD_ID';

export interface CommandProcesses {
  /** The relay id, carried in the environment of every process the command starts. */
  commandId: string;
  /** The process group (the command's bash is its leader; pgid = its pid). */
  pgid?: number;
  /**
   * Start time of the command's bash (clock ticks since boot, /proc stat field 22). Every
   * process of the command started no earlier, so older ones need not be looked at.
   */
  notBeforeTicks?: number;
  /** The command's bash pid and the kernel's fork count when it started (see `pidsSince`). */
  notBeforePid?: PidMark;
}

/** A point in pid allocation: a pid, and how many processes the kernel had created by then. */
export interface PidMark {
  pid: number;
  forks: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  zombie: boolean;
  startTicks: number;
}

const HAS_PROC = fs.existsSync('/proc/self/stat');

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    zombie: fields[0] === 'Z',
    startTicks: Number(fields[19]),
  };
}

function forksSinceBoot(): number | undefined {
  try {
    const match = /^processes (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

let cachedPidMax: number | undefined;
function pidMax(): number {
  try {
    cachedPidMax ??= Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'latin1').trim());
  } catch {
    cachedPidMax = 0;
  }
  return cachedPidMax;
}

/** Marks where pid allocation stands for a process just started. */
export function markPid(pid: number): PidMark | undefined {
  const forks = HAS_PROC ? forksSinceBoot() : undefined;
  return forks === undefined ? undefined : { pid, forks };
}

/**
 * What finds a command's processes later, taken as its bash (`pid`, the group leader) has
 * just started: its id, its group, and where process start times and pid allocation stood.
 */
export function startedCommandProcesses(commandId: string, pid: number | null): CommandProcesses {
  if (pid === null) return { commandId };
  const notBeforeTicks = processStartTicks(pid);
  const notBeforePid = markPid(pid);
  return {
    commandId,
    pgid: pid,
    ...(notBeforeTicks !== undefined ? { notBeforeTicks } : {}),
    ...(notBeforePid !== undefined ? { notBeforePid } : {}),
  };
}

/**
 * Pids are handed out in increasing order until they wrap at pid_max. If fewer processes
 * have been created since `mark` than the distance from `mark.pid` to pid_max, no wrap can
 * have happened, and every process created since has a larger pid: the rest of /proc need
 * not be read. Otherwise (a long or fork-heavy command) everything is read.
 */
function pidsToExamine(mark: PidMark | undefined): number[] {
  const pids = fs
    .readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && pid > 1 && pid !== process.pid);
  if (!mark) return pids;
  const forks = forksSinceBoot();
  // The margin covers processes created between the command's start and `mark`.
  if (forks === undefined || forks - mark.forks + 1000 >= pidMax() - mark.pid) return pids;
  return pids.filter((pid) => pid >= mark.pid);
}

/** When a process started, in clock ticks since boot; undefined without /proc. */
export function processStartTicks(pid: number): number | undefined {
  return HAS_PROC ? readStat(pid)?.startTicks : undefined;
}

/**
 * Boot time by this moment's wall clock, to 10 ms (/proc/stat's btime is whole seconds).
 * Start times count clock ticks since boot, at USER_HZ = 100 on every mainstream architecture.
 */
function bootEpochMs(): number | undefined {
  try {
    const uptime = Number(fs.readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    return Number.isFinite(uptime) ? Date.now() - uptime * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function ticksToEpochMs(ticks: number): number | undefined {
  const boot = bootEpochMs();
  return boot === undefined ? undefined : boot + ticks * 10;
}

/** When a local process started (ms since the epoch), from /proc; undefined without /proc. */
export function processStartEpochMs(pid: number): number | undefined {
  const ticks = processStartTicks(pid);
  return ticks === undefined ? undefined : ticksToEpochMs(ticks);
}

/** The real uid a process runs as (kept across a setuid exec), from /proc. */
function processRealUid(pid: number): number | undefined {
  try {
    const match = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function environHolds(pid: number, entry: Buffer): boolean {
  let environ: Buffer;
  try {
    environ = fs.readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  let at = environ.indexOf(entry);
  while (at >= 0) {
    if (at === 0 || environ[at - 1] === 0) return true;
    at = environ.indexOf(entry, at + 1);
  }
  return false;
}

/** Live pids of the command (never this process itself), from one pass over /proc. */
export function findCommandProcesses(target: CommandProcesses): number[] {
  if (!HAS_PROC) return [];
  const marker = Buffer.from(`${COMMAND_ID_ENV}=${target.commandId}\0`);
  const stats: ProcStat[] = [];
  for (const pid of pidsToExamine(target.notBeforePid)) {
    const stat = readStat(pid);
    if (stat && !stat.zombie && stat.startTicks >= (target.notBeforeTicks ?? 0)) stats.push(stat);
  }
  const members = new Set<number>();
  for (const stat of stats) {
    if ((target.pgid !== undefined && stat.pgid === target.pgid) || environHolds(stat.pid, marker)) {
      members.add(stat.pid);
    }
  }
  // Descendants that cleared their environment and left the group are still children.
  let grew = true;
  while (grew) {
    grew = false;
    for (const stat of stats) {
      if (!members.has(stat.pid) && members.has(stat.ppid)) {
        members.add(stat.pid);
        grew = true;
      }
    }
  }
  members.delete(process.pid);
  return [...members];
}

/** A process group named by a `running` file that a server which has since died left behind. */
export interface RecordedGroup {
  pgid: number;
  /** When the record was last written: the group's first process had started by then. */
  recordedAtMs: number;
  /** Who wrote it: the server, whose commands run as the same user. */
  uid: number;
}

/** Start times and file times come from two clocks read at 10 ms resolution: this much apart is still "no later". */
const RECORD_CLOCK_SLACK_MS = 1000;

export type RecordedGroupCheck =
  | { verdict: 'command'; pgid: number; members: number }
  | { verdict: 'empty'; pgid: number }
  /** The pgid is now another group's (the command's group ended and its pid was handed out again). */
  | { verdict: 'other'; pgid: number; members: number; reason: string };

/**
 * Is the group a `running` file names still that command's group? Pids are reused, so the
 * number alone proves nothing once the command's processes are gone: a process of that group
 * must have existed when the record was written (its oldest member started no later), be a
 * session of its own as every relayed command is, and run as the user who wrote the record.
 * Anything else is someone else's group and is left alone.
 */
export function checkRecordedGroup(group: RecordedGroup): RecordedGroupCheck {
  const { pgid } = group;
  if (!HAS_PROC) return { verdict: 'empty', pgid };
  const members: ProcStat[] = [];
  for (const pid of pidsToExamine(undefined)) {
    const stat = readStat(pid);
    if (stat && !stat.zombie && stat.pgid === pgid) members.push(stat);
  }
  if (members.length === 0) return { verdict: 'empty', pgid };
  const oldest = members.reduce((a, b) => (b.startTicks < a.startTicks ? b : a));
  const startedAt = ticksToEpochMs(oldest.startTicks);
  const uid = processRealUid(oldest.pid);
  if (startedAt !== undefined && startedAt > group.recordedAtMs + RECORD_CLOCK_SLACK_MS) {
    const late = ((startedAt - group.recordedAtMs) / 1000).toFixed(1);
    return {
      verdict: 'other',
      pgid,
      members: members.length,
      reason: `its oldest process started ${late} s after the command was recorded (the pid was reused)`,
    };
  }
  if (oldest.sid !== pgid) {
    // Both Part A and our server start a command's bash in a session of its own (setsid).
    return {
      verdict: 'other',
      pgid,
      members: members.length,
      reason: `it is not the group of a session leader (session ${oldest.sid}), as a relayed command's is`,
    };
  }
  if (uid !== group.uid) {
    return {
      verdict: 'other',
      pgid,
      members: members.length,
      reason: `its processes run as uid ${uid ?? '?'}, not as uid ${group.uid} that recorded the command`,
    };
  }
  return { verdict: 'command', pgid, members: members.length };
}

function signalPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone already, or not ours to signal: either way nothing more can be done for it.
    }
  }
}

/**
 * tree-kill is only needed where there is no /proc: loaded then (it loads child_process, which
 * a `relay-dap --version` should not pay for). A dynamic import, so that the bundle carries it.
 */
async function treeKill(pid: number, signal: NodeJS.Signals): Promise<void> {
  const { default: kill } = await import('tree-kill');
  await new Promise<void>((resolve) => kill(pid, signal, () => resolve()));
}

function signalWithoutProc(target: CommandProcesses, signal: NodeJS.Signals): Promise<void> {
  if (target.pgid === undefined) return Promise.resolve();
  const pgid = target.pgid;
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is empty.
  }
  return treeKill(pgid, signal);
}

export interface TerminationReport {
  /** How many distinct processes were signalled. */
  signalled: number;
  /** True if SIGTERM was not enough and SIGKILL was sent after the grace period. */
  escalated: boolean;
  /** Pids still alive at the end (uninterruptible sleep, or not ours to kill). */
  survivors: number[];
}

/** Between SIGTERM and SIGKILL, unless `relay-dap serve --grace` says otherwise. */
export const DEFAULT_GRACE_MS = 5000;

/**
 * SIGTERM every process of the command, keep looking for new ones (a dying shell may still
 * fork), and SIGKILL whatever is left after `graceMs`. Resolves once none is left, or a
 * bounded time after SIGKILL.
 */
export async function terminateCommandProcesses(
  target: CommandProcesses,
  graceMs: number,
  options: { initial?: number[]; afterKillMs?: number } = {},
): Promise<TerminationReport> {
  if (!HAS_PROC) {
    await signalWithoutProc(target, 'SIGTERM');
    await sleep(Math.min(graceMs, 200));
    await signalWithoutProc(target, 'SIGKILL');
    return { signalled: 0, escalated: true, survivors: [] };
  }
  const seen = new Set<number>();
  const start = performance.now();
  let escalated = false;
  let pids = options.initial ?? findCommandProcesses(target);
  let delay = 2;
  while (pids.length > 0) {
    const fresh = pids.filter((pid) => !seen.has(pid));
    fresh.forEach((pid) => seen.add(pid));
    const elapsed = performance.now() - start;
    if (!escalated && elapsed >= graceMs) {
      escalated = true;
      signalPids(pids, 'SIGKILL');
    } else {
      signalPids(escalated ? pids : fresh, escalated ? 'SIGKILL' : 'SIGTERM');
    }
    if (escalated && performance.now() - start > graceMs + (options.afterKillMs ?? 2000)) break;
    await sleep(Math.min(delay, escalated ? 20 : Math.max(1, graceMs - elapsed)));
    delay = Math.min(delay * 2, 50);
    pids = findCommandProcesses(target);
  }
  return { signalled: seen.size, escalated, survivors: pids };
}
