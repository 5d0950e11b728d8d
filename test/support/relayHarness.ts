/**
 * Real things for relay tests: temporary relay directories, the built `relay-dap` binary as
 * a real process (server or client), the Part-A shell fixture, and a way to prove that no
 * process outlived its command — every test command exports a unique marker variable, and
 * /proc is searched for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// The bundle, as users run it (npm install -g, npx, the VS Code extension).
export const relayDapBin = path.join(repoRoot, 'dist', 'relay-dap.cjs');
export const partAScript = path.join(repoRoot, 'test', 'fixtures', 'part-a', 'relay.sh');

if (!fs.existsSync(relayDapBin)) {
  throw new Error(`${relayDapBin} is missing: run \`npm run build\` first (npm test does).`);
}

export function tempDir(prefix = 'relay-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh relay directory path (not created: the server or client creates it). */
export function tempRelayDir(): { root: string; relayDir: string; workdir: string; cleanup: () => void } {
  const root = tempDir();
  const workdir = path.join(root, 'work');
  fs.mkdirSync(workdir);
  return {
    root,
    relayDir: path.join(root, 'relay'),
    workdir,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** A tempRelayDir whose removal is added to `cleanups` (which the test's afterEach runs). */
export function tempRelayDirUntil(cleanups: Array<() => void>): {
  root: string;
  relayDir: string;
  workdir: string;
} {
  const dirs = tempRelayDir();
  cleanups.push(dirs.cleanup);
  return dirs;
}

/** A name no other test uses: put `export NAME=1` in a command, then look for it in /proc. */
export function uniqueMarker(): string {
  return `RELAYTEST_${randomBytes(6).toString('hex')}`;
}

/** Live (non-zombie) pids whose environment or command line holds `marker`. */
export function processesWithMarker(marker: string): number[] {
  const needle = Buffer.from(marker);
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const environ = fs.readFileSync(`/proc/${pid}/environ`);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`);
      if (environ.includes(needle) || cmdline.includes(needle)) found.push(pid);
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

export function killMarked(marker: string): void {
  for (const pid of processesWithMarker(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/**
 * Waits up to `ms` for every process marked `marker` to end; kills those that do not. Returns
 * the ones that outlived the wait ("pid command line"), for the test to fail on.
 */
export async function reapMarked(marker: string, ms: number): Promise<string[]> {
  let left: number[] = [];
  try {
    await waitUntil(() => (left = processesWithMarker(marker)).length === 0, `no ${marker}`, ms);
    return [];
  } catch {
    const described = left.map(
      (pid) => `${pid} ${readIf(`/proc/${pid}/cmdline`)?.replace(/\0/g, ' ').trim() ?? '?'}`,
    );
    killMarked(marker);
    return described;
  }
}

/**
 * Polls `condition` until it holds; after `timeoutMs`, throws naming `what`, followed by
 * `diagnostics()` (say, what the servers printed: it usually says why).
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
  diagnostics?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      const why = diagnostics ? `\n${diagnostics()}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface Spawned {
  child: ChildProcess;
  stdout: () => Buffer;
  stderr: () => string;
  finished: Promise<Finished>;
}

/** Start a process, collecting its output; never throws on a non-zero exit. */
export function start(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string | Buffer } = {},
): Spawned {
  const begin = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  if (options.input !== undefined) child.stdin.end(options.input);
  else child.stdin.end();
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - begin }),
    );
  });
  return { child, stdout: () => Buffer.concat(out), stderr: () => err, finished };
}

/** `relay-dap ARGS…` as a real process. */
export function relayDap(args: readonly string[], options: Parameters<typeof start>[2] = {}): Spawned {
  return start(process.execPath, [relayDapBin, ...args], options);
}

export function runRelayDap(
  args: readonly string[],
  options: Parameters<typeof start>[2] = {},
): Promise<Finished> {
  return relayDap(args, options).finished;
}

export interface ServerProcess extends Spawned {
  relayDir: string;
  /** SIGTERM and wait for exit (SIGKILL after `killAfterMs`). */
  stop(killAfterMs?: number): Promise<Finished>;
}

/** `relay-dap serve` as a real process, resolved once it has written its heartbeat. */
export async function startServer(
  relayDir: string,
  args: readonly string[] = [],
  options: Parameters<typeof start>[2] = {},
): Promise<ServerProcess> {
  const spawned = relayDap(['serve', '--relay-dir', relayDir, ...args], options);
  await waitUntil(() => {
    if (!isRunning(spawned)) throw new Error(`relay-dap serve exited early:\n${spawned.stderr()}`);
    return /serving /.test(spawned.stderr());
  }, 'relay-dap serve to start');
  return { ...spawned, relayDir, stop: (killAfterMs = 20_000) => stopProcess(spawned, killAfterMs) };
}

export function isRunning(spawned: Spawned): boolean {
  return spawned.child.exitCode === null && spawned.child.signalCode === null;
}

/** SIGTERM, then SIGKILL if it has not exited after `killAfterMs`. */
export async function stopProcess(spawned: Spawned, killAfterMs = 15_000): Promise<Finished> {
  if (isRunning(spawned)) {
    spawned.child.kill('SIGTERM');
    spawned.child.kill('SIGCONT'); // in case a test left it stopped
  }
  const timer = setTimeout(() => spawned.child.kill('SIGKILL'), killAfterMs);
  const finished = await spawned.finished;
  clearTimeout(timer);
  return finished;
}

/** The Part-A fixture (`test/fixtures/part-a/relay.sh`), polling every 0.1 s to keep tests short. */
export function partA(args: readonly string[], options: Parameters<typeof start>[2] = {}): Spawned {
  return start('bash', [partAScript, ...args], {
    ...options,
    env: { PARTA_POLL_SECONDS: '0.1', ...options.env },
  });
}

/**
 * The one line that says a Part-A server (pid `pid`) opens no channels: the server, why, and
 * how to get channels; `prefix` is what the caller puts before it (`no terminal: `).
 */
export function noChannelsLine(relayDir: string, pid: number, prefix = ''): RegExp {
  const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${escape(prefix)}relay server \\S+:${pid} .*does not open channels \\(a Part-A shell server\\): ` +
      escape(
        `serve ${relayDir} with a current relay-dap (relay-dap serve --relay-dir ${relayDir}) to use channels and relay-dap shell.`,
      ) +
      '$',
  );
}

/** Write a command file exactly as Part A says: `cmd/<id>.sh.tmp`, then rename. */
export function queueCommandFile(relayDir: string, id: string, text: string | Buffer): void {
  const cmd = path.join(relayDir, 'cmd');
  fs.mkdirSync(cmd, { recursive: true });
  fs.writeFileSync(path.join(cmd, `${id}.sh.tmp`), text);
  fs.renameSync(path.join(cmd, `${id}.sh.tmp`), path.join(cmd, `${id}.sh`));
}

let idCounter = 0;
/** A Part-A id: 19 digits of epoch nanoseconds, `_`, a pid; strictly increasing. */
export function partAId(pid = 4242): string {
  const ns = BigInt(Date.now()) * 1_000_000n + BigInt(idCounter++);
  return `${ns.toString().padStart(19, '0')}_${pid}`;
}

export function readIf(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Resolves with `promise`, or rejects after `ms` saying what did not happen. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface TreeEntry {
  file: string;
  kind: 'file' | 'dir' | 'other';
  mode: number;
}

/** Every entry under `dir` (itself included), by lstat; entries that vanish while we look are skipped. */
export function walkTree(dir: string): TreeEntry[] {
  const found: TreeEntry[] = [];
  const visit = (file: string): void => {
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(file);
    } catch {
      return;
    }
    const kind = stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
    found.push({ file, kind, mode: stat.mode & 0o777 });
    if (kind !== 'dir') return;
    let names: string[];
    try {
      names = fs.readdirSync(file);
    } catch {
      return;
    }
    for (const name of names) visit(path.join(file, name));
  };
  visit(dir);
  return found;
}

/** Wait until the server has run `count` more one-second ticks (each one also rescans cmd/). */
export async function waitForServerTicks(relayDir: string, count: number): Promise<void> {
  const seen = new Set<string>();
  await waitUntil(
    () => {
      const beat = readIf(path.join(relayDir, 'heartbeat'));
      if (beat !== undefined) seen.add(beat);
      return seen.size > count;
    },
    `${count} server ticks`,
    count * 1000 + 15_000,
  );
}
