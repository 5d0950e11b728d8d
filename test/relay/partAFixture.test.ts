// Proves that the Part-A stand-in (test/fixtures/part-a/relay.sh) works on its own: its
// client against its server, with real processes and real files. Other tests rely on it to
// prove interoperability with our TypeScript client and server, so it must be right first.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIf, waitUntil } from '../support/relayHarness.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/part-a/relay.sh', import.meta.url));
const ID = /^\d{19}_\d+$/;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Ctx {
  dir: string;
  relayDir: string;
  workDir: string;
  /** Unique per test; in the environment of every process we start, and in command texts. */
  marker: string;
  env: NodeJS.ProcessEnv;
  server: ChildProcess | undefined;
  serverOutput: string;
  children: ChildProcess[];
}

let ctx: Ctx;

beforeEach(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-parta-'));
  const marker = `parta-marker-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PARTA_POLL_SECONDS: '0.1', PARTA_TEST_MARKER: marker };
  delete env.RELAY_DIR;
  const workDir = path.join(dir, 'work');
  fs.mkdirSync(workDir);
  ctx = {
    dir,
    relayDir: path.join(dir, 'relay'),
    workDir,
    marker,
    env,
    server: undefined,
    serverOutput: '',
    children: [],
  };
});

afterEach(async () => {
  const { server } = ctx;
  if (server) await stop(server);
  for (const child of ctx.children) if (running(child)) await stop(child);
  // Nothing we started may survive: not the server, not a client, not a command.
  const deadline = Date.now() + 15_000;
  let survivors = markedProcesses(ctx.marker);
  while (survivors.length > 0 && Date.now() < deadline) {
    await sleep(100);
    survivors = markedProcesses(ctx.marker);
  }
  for (const line of survivors) {
    try {
      process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(ctx.dir, { recursive: true, force: true });
  expect(survivors, 'processes that survived the test').toEqual([]);
});

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function stop(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const gone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!gone && running(child)) {
    child.kill('SIGKILL');
    await Promise.race([exited, sleep(5_000)]);
  }
}

/** Live (non-zombie) processes whose command line or environment holds `marker`, as "pid cmdline". */
function markedProcesses(marker: string, except: number[] = []): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || except.includes(Number(entry))) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const environ = fs.readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (cmdline.includes(marker) || environ.includes(marker)) found.push(`${entry} ${cmdline}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

function rel(...parts: string[]): string {
  return path.join(ctx.relayDir, ...parts);
}

function read(...parts: string[]): string {
  return fs.readFileSync(rel(...parts), 'utf8');
}

/** Up to 30 s; a timeout shows what the server said. */
const waitFor = (what: string, condition: () => boolean) =>
  waitUntil(condition, what, 30_000, () => `--- server output ---\n${ctx.serverOutput}`);

/** Starts `relay.sh [--relay-dir R] ...args`; resolves when it has exited and closed its output. */
function relay(args: string[]): { child: ChildProcess; done: Promise<Outcome> } {
  const child = spawn('bash', [SCRIPT, '--relay-dir', ctx.relayDir, ...args], {
    env: ctx.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ctx.children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const done = new Promise<Outcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

function client(...args: string[]): Promise<Outcome> {
  return relay(args).done;
}

async function startServer(): Promise<ChildProcess> {
  const { child } = relay(['--workdir', ctx.workDir, 'serve']);
  ctx.server = child;
  child.stdout?.on('data', (s: string) => (ctx.serverOutput += s));
  child.stderr?.on('data', (s: string) => (ctx.serverOutput += s));
  // relay.sh writes server.ready non-atomically (Part B, defect 11): wait for its whole line.
  await waitFor('server.ready', () => /\n$/.test(readIf(rel('server.ready')) ?? '') || !running(child));
  expect(running(child), `server exited early:\n${ctx.serverOutput}`).toBe(true);
  return child;
}

async function handshake(): Promise<void> {
  const result = await client('handshake');
  expect(result.code, result.stderr).toBe(0);
  expect(fs.existsSync(rel('handshake.done'))).toBe(true);
}

async function startServerAndHandshake(): Promise<ChildProcess> {
  const server = await startServer();
  await handshake();
  return server;
}

/** `running` = `<id>:<pgid>`, once a command runs. */
async function waitForRunning(): Promise<{ id: string; pgid: number }> {
  await waitFor('running', () => fs.existsSync(rel('running')));
  const [id = '', pgid = ''] = read('running').trim().split(':');
  expect(id).toMatch(ID);
  expect(pgid).toMatch(/^\d+$/);
  return { id, pgid: Number(pgid) };
}

function statusLines(result: Outcome): string[] {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').filter((line) => line !== '');
}

describe('Part-A fixture relay.sh: its client against its server', () => {
  it('is a valid bash script', async () => {
    const check = spawn('bash', ['-n', SCRIPT], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    check.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((resolve) => check.once('close', resolve));
    expect(code, stderr).toBe(0);
    expect(fs.statSync(SCRIPT).mode & 0o111).not.toBe(0);
  });

  it('publishes owner and server.ready, refuses run before the handshake, then handshakes', async () => {
    const server = await startServer();
    expect(read('owner')).toMatch(new RegExp(`^[^:]+:${server.pid}:\\d{19}\\n$`));
    expect(read('server.ready')).toMatch(
      new RegExp(`^[^:]+:${server.pid}:\\d{4}-\\d\\d-\\d\\dT[0-9:+Z-]+\\n$`),
    );
    expect(fs.existsSync(rel('cmd'))).toBe(true);
    expect(fs.existsSync(rel('result'))).toBe(true);

    const refused = await client('run', 'echo', 'hello');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/handshake/);
    expect(refused.stdout).toBe('');
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);

    await handshake();
    expect(read('client.ready')).toMatch(/^[^:]+:\d+:\d{4}-\d\d-\d\dT/);
    expect(read('handshake.done')).toMatch(new RegExp(`^[^:]+:${server.pid}:\\d{4}-\\d\\d-\\d\\dT`));
  });

  it('queues work until it has seen client.ready, then runs it one at a time in id order in the workdir', async () => {
    await startServer();
    // Submitted by hand, larger id first: order must come from the ids, not from creation time.
    fs.writeFileSync(rel('cmd', '1000000000000000001_1.sh'), 'echo second >> order.txt\n');
    fs.writeFileSync(rel('cmd', '1000000000000000000_2.sh'), 'echo first >> order.txt\n');
    await sleep(1_000); // ten polls of the server; a server that ran early would have run by now
    expect(fs.readdirSync(rel('cmd')).sort()).toEqual([
      '1000000000000000000_2.sh',
      '1000000000000000001_1.sh',
    ]);
    expect(statusLines(await client('status'))).toContain('Pending commands: 2');

    await handshake();
    await waitFor('both results', () =>
      ['1000000000000000000_2', '1000000000000000001_1'].every((id) =>
        fs.existsSync(rel('result', `${id}.exit`)),
      ),
    );
    expect(read('result', '1000000000000000000_2.exit')).toBe('0\n');
    expect(read('result', '1000000000000000001_1.exit')).toBe('0\n');
    expect(fs.readFileSync(path.join(ctx.workDir, 'order.txt'), 'utf8')).toBe('first\nsecond\n');
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
    await waitFor('running to be removed', () => !fs.existsSync(rel('running')));
  });

  it('runs `echo hello`: prints hello, exits 0, deletes its result files', async () => {
    await startServerAndHandshake();
    const result = await client('run', 'echo', 'hello');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('hello\n');
    expect(fs.readdirSync(rel('result'))).toEqual([]);
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
  });

  it("runs 'exit 7' and exits 7; joins arguments with spaces (defect 10)", async () => {
    await startServerAndHandshake();
    const seven = await client('run', 'exit 7');
    expect(seven.code, seven.stderr).toBe(7);
    expect(seven.stdout).toBe('');

    const joined = await client('run', 'echo', 'a   b');
    expect(joined.code, joined.stderr).toBe(0);
    expect(joined.stdout).toBe('a b\n');
  });

  it('prints the four status lines', async () => {
    expect(statusLines(await client('status'))).toEqual([
      'Server: not running',
      'Handshake: not done',
      'Running: none',
      'Pending commands: 0',
    ]);
    const server = await startServerAndHandshake();
    const lines = statusLines(await client('status'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`^Server: running \\([^:]+:${server.pid}\\)$`));
    expect(lines.slice(1)).toEqual(['Handshake: done', 'Running: none', 'Pending commands: 0']);
  });

  it('cancels a long sleep: SIGTERM to the group, [cancelled] as the last log line, exit 130', async () => {
    const server = await startServerAndHandshake();
    const run = relay(['run', `echo ${ctx.marker}-started; sleep 120; echo ${ctx.marker}-finished`]);
    const { id, pgid } = await waitForRunning();
    expect(id.endsWith(`_${run.child.pid}`)).toBe(true);
    await waitFor('output in the log', () => read('result', `${id}.log`).includes(`${ctx.marker}-started`));
    expect(markedProcesses(ctx.marker).some((line) => line.startsWith(`${pgid} `))).toBe(true);

    const lines = statusLines(await client('status'));
    expect(lines[2]).toBe(`Running: ${id}`);

    const cancel = await client('cancel');
    expect(cancel.code, cancel.stderr).toBe(0);

    const result = await run.done;
    expect(result.code, result.stderr).toBe(130);
    expect(result.stdout).toBe(`${ctx.marker}-started\n[cancelled]\n`);
    // The whole command group is gone; only the server (and nothing it ran) still carries the marker.
    await waitFor(
      'the command to be gone',
      () => markedProcesses(ctx.marker, [server.pid ?? -1]).length === 0,
    );
    await waitFor(
      'running and cancel to be removed',
      () => !fs.existsSync(rel('running')) && !fs.existsSync(rel('cancel')),
    );
    expect(fs.readdirSync(rel('result'))).toEqual([]);
  });

  it('refuses flush while a command runs and accepts it afterwards', async () => {
    await startServerAndHandshake();
    const run = relay(['run', `sleep 120; : ${ctx.marker}`]);
    await waitForRunning();

    const refused = await client('flush');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/running/);
    expect(fs.existsSync(rel('handshake.done'))).toBe(true);
    expect(fs.existsSync(rel('client.ready'))).toBe(true);

    expect((await client('cancel')).code).toBe(0);
    expect((await run.done).code).toBe(130);
    await waitFor('running to be removed', () => !fs.existsSync(rel('running')));
    fs.writeFileSync(rel('result', 'leftover.log'), 'x\n');

    const flushed = await client('flush');
    expect(flushed.code, flushed.stderr).toBe(0);
    for (const name of ['client.ready', 'handshake.done']) expect(fs.existsSync(rel(name))).toBe(false);
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
    expect(fs.readdirSync(rel('result'))).toEqual([]);
    expect(statusLines(await client('status'))[1]).toBe('Handshake: not done');
    expect((await client('run', 'true')).code).toBe(1);
  });

  it('times out after --timeout polls with exit 1, throwing the output away (defect 7)', async () => {
    await startServerAndHandshake();
    const started = Date.now();
    const result = await client('--timeout', '3', 'run', `echo ${ctx.marker}-out; sleep 120`);
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const match =
      /timed out after 3 polls waiting for (\d{19}_\d+) \((cancel sent|not running, dropped)\)/.exec(
        result.stderr,
      );
    expect(match, result.stderr).not.toBeNull();
    expect(elapsed).toBeLessThan(30_000); // 3 polls of 0.1 s, not 600 and not 3 seconds each
    const [, id = '', what] = match ?? [];
    expect(fs.existsSync(rel('cmd', `${id}.sh`))).toBe(false);
    if (what === 'cancel sent') {
      // The client cancelled its own running command; the server settles it, and its .exit and
      // log are left behind because the client already deleted "its files".
      await waitFor('the cancelled .exit', () => fs.existsSync(rel('result', `${id}.exit`)));
      expect(read('result', `${id}.exit`)).toBe('130\n');
      expect(read('result', `${id}.log`).trimEnd().split('\n').at(-1)).toBe('[cancelled]');
    }
  });
});
