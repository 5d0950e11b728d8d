// Hostile input (reliability suite): garbage on the DAP wire, garbage in the relay directory,
// and what the adapter and the relay expose (network, logs, file modes). Real processes only;
// each test records what it saw as a row of docs/reliability.md.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createAdapterContext,
  errorId,
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  waitForExit,
  type AdapterContext,
  useAdapterContext,
  type SpawnedAdapter,
} from '../support/adapterHarness.js';
import { heldCommand, runArgs } from '../support/heldRun.js';
import { encodeDapFrame, type DapClient } from '../support/dapClient.js';
import {
  partA,
  partAId,
  queueCommandFile,
  readIf,
  relayDapBin,
  start,
  type Spawned,
  waitForServerTicks,
  waitUntil,
  walkTree,
  within,
  type Finished,
} from '../support/relayHarness.js';
import { describeInvalidId } from '../../src/relay/ids.js';
import { OTHER_UID, otherUser, startAsOtherUser } from '../support/otherUser.js';
import { connectAsOtherUser, type OtherUserAttempt } from '../support/otherUserClient.js';
import { expectOneLine, finish, useRelayTestContext } from '../support/relayTestContext.js';
import { ERR } from '../support/errorIds.js';
import { itNeeds, reliabilityRow } from './report.js';
import { parseRunningMarker } from '../../src/relay/runningMarker.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(
    fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

function lines(text: string): string[] {
  return text.split('\n');
}

/** Entries under `dir` that are not private: files must be 0600, directories 0700. */
function notPrivate(dir: string): { checked: number; wrong: string[] } {
  const entries = walkTree(dir);
  const wrong = entries
    .filter((e) => e.kind === 'other' || e.mode !== (e.kind === 'dir' ? 0o700 : 0o600))
    .map((e) => `${path.relative(dir, e.file) || '.'} (${e.kind}, 0${e.mode.toString(8)})`);
  return { checked: entries.length, wrong };
}

// ---------------------------------------------------------------------------------------------
// The relay side: servers, clients, directories, cleaned up after each test.

/** The relay test context of the describe block running now (each registers its own hooks). */
let relay: ReturnType<typeof useRelayTestContext>;
const relayDirs = () => relay.relayDirs();
const scratch = () => relay.scratchDir();
const serve = (relayDir: string, workdir: string, args: readonly string[] = []) =>
  relay.serve(relayDir, workdir, args);
/** Fresh relay and work directories, and a server already serving them. */
/** This file's row of the reliability report for `scenario`. */
const hostileRow = (scenario: string) => reliabilityRow('hostile input', scenario);
/** A test with its `hostile input` row that needs the other user (see itNeeds). */
const hostileNeedsOtherUser = (
  name: string,
  scenario: string,
  body: Parameters<typeof itNeeds<typeof otherUser>>[4],
  timeout?: number,
): void => itNeeds(otherUser, name, 'hostile input', scenario, body, timeout);

/** A test's row (see hostileRow) and a served relay (see serving), for a test that needs both. */
async function servedRow(scenario: string) {
  return { row: hostileRow(scenario), ...(await serving()) };
}

async function serving() {
  const { relayDir, workdir } = relayDirs();
  return { relayDir, workdir, server: await serve(relayDir, workdir) };
}
const launch = (args: readonly string[]) => relay.launch(args);
const marker = () => relay.ctx().marker;

function run(relayDir: string, text: string, ms = 30_000): Promise<Finished> {
  return finish(
    launch(['run', '--relay-dir', relayDir, '--', text]),
    ms,
    `relay-dap run ${JSON.stringify(text)}`,
  );
}

function runningText(relayDir: string): string | undefined {
  return readIf(path.join(relayDir, 'running'));
}

/** Write a relay file as a peer would: a temporary name, then rename. */
function writeAtomically(file: string, data: string | Buffer): void {
  const tmp = `${path.dirname(file)}/.hostile.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/**
 * A scratch directory `base` of `mode` holding `work/` (the workdir); the relay directory is to
 * be `base/x/.relay`, x made by the test (by whom, and how open, is what it is about).
 */
function relayBelowX(mode: number): { base: string; x: string; relayDir: string; workdir: string } {
  const base = scratch();
  fs.chmodSync(base, mode);
  const x = path.join(base, 'x');
  const workdir = path.join(base, 'work');
  fs.mkdirSync(workdir);
  return { base, x, relayDir: path.join(x, '.relay'), workdir };
}

/** The server log lines that name `link` as a symlink, once the server has scanned three more times. */
async function saidSymlink(relayDir: string, server: Spawned, link: string): Promise<string[]> {
  await waitForServerTicks(relayDir, 3);
  return lines(server.stderr()).filter((line) => /symlink/.test(line) && line.includes(link));
}

/** The server still runs, and its log said something (`said`: the lines a test picked out). */
function expectServingAndSaid(server: Spawned, said: string[]): void {
  expect(server.child.exitCode).toBeNull();
  expect(said.length, `server log:\n${server.stderr()}`).toBeGreaterThan(0);
}

function expectNoStack(text: string, what: string): void {
  expect(text, what).not.toMatch(/internal error|\n\s+at /);
}

/**
 * `relay-dap SUBCOMMAND` on `relayDir` for each of `subcommands`, then a DAP launch with that
 * relayDir: each must be refused (exit 1 with one line; a failed launch), its text passing `expectClear`.
 */
async function expectRefusedEverywhere(
  relayDir: string,
  workdir: string,
  expectClear: (text: string, who: string) => void,
  subcommands: ReadonlyArray<'serve' | 'run' | 'status'> = ['serve', 'run', 'status'],
): Promise<string[]> {
  const said: string[] = [];
  const argsOf = {
    serve: ['serve', '--relay-dir', relayDir, '--workdir', workdir],
    run: ['run', '--relay-dir', relayDir, '--', `export ${marker()}=1; echo never`],
    status: ['status', '--relay-dir', relayDir],
  };
  for (const subcommand of subcommands) {
    const result = await finish(launch(argsOf[subcommand]), 20_000, `relay-dap ${subcommand}`);
    expect(result.code, `${subcommand}: ${result.stderr}`).toBe(1);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expectClear(result.stderr, `relay-dap ${subcommand}`);
    said.push(result.stderr.trimEnd());
  }
  // The debug adapter, launched on that directory.
  const ctx = createAdapterContext();
  try {
    const adapter = ctx.spawnStdio();
    const launched = await launchAndConfigure(
      adapter.client,
      { command: ctx.mark('echo never'), relayDir, connectTimeout: 1, stopOnEntry: false },
      {},
      { allowLaunchFailure: true },
    );
    expect(launched.launch.success).toBe(false);
    expectClear(launched.launch.message ?? '', 'the launch error');
    await adapter.client.close(EVENT_TIMEOUT_MS);
  } finally {
    await ctx.cleanup();
  }
  return said;
}

// =============================================================================================
// DAP

describe('hostile input: DAP', () => {
  const ctx = useAdapterContext();

  /** Waits for the connection to close; false if it is still open after `ms`. */
  async function closesWithin(client: DapClient, ms: number): Promise<boolean> {
    return within(client.closed, ms, 'close').then(
      () => true,
      () => false,
    );
  }

  function importantOutput(client: DapClient): string {
    return client.output('important');
  }

  /** A raw request (unchecked by the client's schema), and its response. */
  async function rawRequest(
    client: DapClient,
    command: string,
    args?: unknown,
  ): Promise<DebugProtocol.Response> {
    const seq = client.allocateSeq();
    const message: Record<string, unknown> = { seq, type: 'request', command };
    if (args !== undefined) message.arguments = args;
    client.sendRaw(encodeDapFrame(message));
    return client.waitForResponse(seq, EVENT_TIMEOUT_MS);
  }

  /** The healthy session runs step 1 (a ticker) until `stop` exists; step 2 prints `after`. */
  async function healthySession(adapterConnect: () => Promise<DapClient>, marker: string, stop: string) {
    const client = await adapterConnect();
    await launchAndConfigure(client, {
      stopOnEntry: false,
      steps: [
        { name: 'ticker', run: ctx.mark(`while [ ! -e ${stop} ]; do echo tick; sleep 0.1; done`, marker) },
        { name: 'after', run: ctx.mark('echo healthy-after', marker) },
      ],
    });
    await client.waitForEvent('output', (e) => e.body.output.includes('tick'), EVENT_TIMEOUT_MS);
    return client;
  }

  const ticks = (client: DapClient): number => (client.output('stdout').match(/tick/g) ?? []).length;

  it('over TCP, each on a fresh connection: bad header, missing body, not JSON, 100 MB, unknown command, bad arguments, a response; the adapter and a running session carry on', async () => {
    const row = hostileRow(
      'DAP over TCP, each on a fresh connection: `Content-Length: abc`, a header with no body, a body that is not JSON, a 100 MB message, an unknown command, missing/wrong arguments, a response sent to the adapter; a job running meanwhile',
    );
    const adapter = await ctx.spawnTcp(['--server=0']);
    const healthyMarker = ctx.newMarker();
    const stop = path.join(ctx.workdir, 'stop-ticker');
    const healthy = await healthySession(() => adapter.connect(), healthyMarker, stop);
    const outcomes: string[] = [];

    const hostile = async (name: string, act: (client: DapClient) => Promise<string>): Promise<void> => {
      const before = ticks(healthy);
      const client = await adapter.connect();
      const outcome = await act(client);
      outcomes.push(`${name}: ${outcome}`);
      client.assertClean();
      if (!(await closesWithin(client, 10))) await client.close(EVENT_TIMEOUT_MS);
      expect(adapter.hasExited, `the adapter after ${name}`).toBe(false);
      // The running session still answers, and its step still streams.
      const threads = await healthy.request('threads');
      expect(threads.success).toBe(true);
      expect(threads.body.threads).toHaveLength(1);
      await waitUntil(
        () => ticks(healthy) > before,
        `the healthy session's output after ${name}`,
        EVENT_TIMEOUT_MS,
      );
    };

    await hostile('`Content-Length: abc`', async (client) => {
      client.sendRaw('Content-Length: abc\r\n\r\n{"seq":1,"type":"request","command":"initialize"}');
      expect(await closesWithin(client, EVENT_TIMEOUT_MS), 'closed').toBe(true);
      expect(importantOutput(client)).toMatch(/Content-Length/);
      return 'closed, after an `important` output event saying why';
    });

    await hostile('a header whose body never comes', async (client) => {
      client.sendRaw('Content-Length: 1000\r\n\r\n{"seq":1,"type":"request",');
      // The adapter waits for the rest (a slow client is not an error) …
      expect(await closesWithin(client, 500)).toBe(false);
      // … and when the client goes, so does the session, without an answer to the partial request.
      client.end();
      expect(await closesWithin(client, EVENT_TIMEOUT_MS), 'closed').toBe(true);
      expect(client.transcript.filter((t) => t.direction === 'received')).toEqual([]);
      return 'closed when the client closed, nothing answered';
    });

    await hostile('a body that is not JSON', async (client) => {
      client.sendRaw('Content-Length: 17\r\n\r\n{"seq":1,"type":!');
      const init = await client.request('initialize', { adapterID: 'relay' });
      expect(init.success).toBe(true);
      expect(importantOutput(client)).toMatch(/not JSON/);
      return 'reported in an `important` output event; the connection goes on (initialize answered)';
    });

    const rssBefore = statusKiB(adapter.child.pid!, 'VmHWM');
    let sent = 0;
    await hostile('a 100 MB message', async (client) => {
      const size = 100 * 2 ** 20;
      client.sendRaw(`Content-Length: ${size}\r\n\r\n`);
      const chunk = Buffer.alloc(2 ** 20, 0x7b);
      let closed = false;
      void client.closed.then(() => (closed = true));
      while (sent < size && !closed) {
        try {
          client.sendRaw(chunk);
        } catch {
          break; // the adapter closed the connection
        }
        sent += chunk.length;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(await closesWithin(client, EVENT_TIMEOUT_MS), 'closed').toBe(true);
      // The reason is sent, but a reset (the adapter closes with our bytes unread) may discard it.
      const said = /over the limit/.test(importantOutput(client));
      return `closed on the header (over the 16 MiB limit)${said ? ', after saying why' : ''}`;
    });
    const rssGrowth = statusKiB(adapter.child.pid!, 'VmHWM') - rssBefore;
    expect(rssGrowth, 'adapter peak memory growth (KiB) while sent 100 MB').toBeLessThan(48 * 1024);

    await hostile('an unknown command', async (client) => {
      const response = await rawRequest(client, 'frobnicate', { please: true });
      expect(response.success).toBe(false);
      expect(errorId(response)).toBe(ERR.Unsupported);
      return `error response ${errorId(response)}`;
    });

    await hostile('missing or wrong arguments', async (client) => {
      const marker = ctx.newMarker();
      const ids: string[] = [];
      const refused = async (command: string, args?: unknown): Promise<void> => {
        const response = await rawRequest(client, command, args);
        expect(response.success, `${command} ${JSON.stringify(args)}`).toBe(false);
        ids.push(`${command} ${errorId(response) ?? '?'}`);
      };
      expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
      await refused('setBreakpoints');
      await refused('launch', { command: 5, stopOnEntry: 'yes' });
      await launchAndConfigure(client, { command: ctx.mark('echo never-runs', marker), stopOnEntry: true });
      await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
      await refused('evaluate', { expression: 42 });
      await refused('evaluate');
      await refused('stackTrace', null);
      await refused('variables', { variablesReference: 'x' });
      await refused('scopes', {});
      await refused('setVariable', { variablesReference: 1 });
      // Still a working session: it ends as a session should.
      expect((await client.request('threads')).success).toBe(true);
      expect((await client.request('disconnect', { terminateDebuggee: true })).success).toBe(true);
      return `error responses (${ids.join(', ')})`;
    });

    await hostile('a response sent to the adapter', async (client) => {
      client.sendRaw(
        encodeDapFrame({
          seq: client.allocateSeq(),
          type: 'response',
          request_seq: 1,
          command: 'runInTerminal',
          success: true,
          body: { processId: 1 },
        }),
      );
      const init = await client.request('initialize', { adapterID: 'relay' });
      expect(init.success).toBe(true);
      expect(
        client.transcript.filter((t) => t.direction === 'received' && t.message.type === 'response'),
      ).toHaveLength(1);
      return 'ignored (no request of the adapter is waiting for it); the connection goes on';
    });

    // The healthy session, after all that: a console command, then its job to the end.
    expect((await healthy.request('pause', { threadId: 1 })).success).toBe(true);
    fs.writeFileSync(stop, '');
    await healthy.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    const ok = await healthy.request('evaluate', { expression: '!echo ok', context: 'repl' });
    expect(ok.body.result).toBe('exit 0');
    expect(healthy.output('stdout')).toMatch(/^ok$/m);
    expect((await healthy.request('continue', { threadId: 1 })).success).toBe(true);
    const exited = await healthy.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    expect(exited.body.exitCode).toBe(0);
    expect(healthy.output('stdout')).toContain('healthy-after');
    await healthy.request('disconnect', {});
    await healthy.closed;
    expect(adapter.hasExited).toBe(false);
    healthy.assertClean();

    row.figure =
      outcomes.join('; ') +
      `; adapter survived all (peak RSS +${(rssGrowth / 1024).toFixed(0)} MiB while ${(sent / 2 ** 20).toFixed(0)} MiB of the 100 MB message were sent); ` +
      `the running session streamed throughout and then ran \`!echo ok\` and its next step`;
  }, 180_000);

  it('requests with missing or wrong arguments are refused as such (InvalidArguments), not as internal failures', async () => {
    const row = hostileRow(
      'DAP requests with missing or wrong-typed arguments: refused with InvalidArguments (2001), never as an internal failure (2099, "a bug in relay-dap")',
    );
    const adapter = await ctx.spawnTcp(['--server=0']);
    const client = await adapter.connect();
    expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
    const seen: string[] = [];
    const internal: string[] = [];
    const check = async (command: string, args?: unknown): Promise<void> => {
      const response = await rawRequest(client, command, args);
      expect(response.success).toBe(false);
      const id = errorId(response);
      seen.push(`${command}: ${id ?? '?'}`);
      if (id === ERR.Internal)
        internal.push(`${command} ${JSON.stringify(args) ?? '(no arguments)'} → ${response.message ?? ''}`);
    };
    await check('setBreakpoints');
    await check('setFunctionBreakpoints');
    await check('setExceptionBreakpoints');
    await check('launch', { command: 5 });
    await launchAndConfigure(client, { command: ctx.mark('echo never-runs'), stopOnEntry: true });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    await check('evaluate');
    await check('evaluate', { expression: 42 });
    await check('stackTrace');
    await check('scopes');
    await check('variables');
    await check('source');
    await check('goto');
    await check('gotoTargets');
    await check('restartFrame');
    await check('setVariable');
    row.figure = `${seen.length} refused; internal (2099): ${internal.length ? internal.map((l) => l.split(' → ')[0]).join(', ') : 'none'}`;
    expect(internal, 'requests whose bad arguments were treated as an adapter bug (2099)').toEqual([]);
    expect(adapter.hasExited).toBe(false);
    await client.request('disconnect', { terminateDebuggee: true });
  }, 120_000);

  it('over stdio: garbage ends the session or is reported; the process exits by itself, never crashes, and stdout carries only DAP', async () => {
    const row = hostileRow(
      'DAP over stdio: `Content-Length: abc`, a 100 MB header, a header whose body never comes, a body that is not JSON, a response, an unknown command',
    );
    const outcomes: string[] = [];
    const lingered: string[] = [];
    /** The adapter should exit by itself once it has closed the connection; say so if it waits for stdin to end. */
    const ends = async (
      name: string,
      adapter: SpawnedAdapter & { client: DapClient },
      expectReason?: RegExp,
      selfExitMs = 10_000,
    ): Promise<void> => {
      let exit = await waitForExit(adapter, selfExitMs).catch(() => undefined);
      if (exit === undefined) {
        lingered.push(name);
        adapter.client.end();
        exit = await waitForExit(adapter);
      }
      expect(exit, `${name}: exit`).toEqual({ code: 0, signal: null });
      await adapter.client.closed;
      adapter.client.assertClean(); // stdout held DAP frames only
      expectNoStack(adapter.stderr(), `${name}: stderr`);
      if (expectReason) expect(adapter.client.output('important')).toMatch(expectReason);
      outcomes.push(
        `${name}: ${lingered.includes(name) ? 'stdout closed, but the process stayed until its stdin was closed, then exit 0' : 'exit 0'}${expectReason ? ', after saying why' : ''}`,
      );
    };

    const bad = ctx.spawnStdio();
    bad.client.sendRaw('Content-Length: abc\r\n\r\n{}');
    await ends('`Content-Length: abc`', bad, /Content-Length/);

    const huge = ctx.spawnStdio();
    huge.client.sendRaw(`Content-Length: ${100 * 2 ** 20}\r\n\r\n`);
    huge.client.sendRaw(Buffer.alloc(4 * 2 ** 20, 0x20));
    await ends('a 100 MB header', huge, /over the limit/);

    const partial = ctx.spawnStdio();
    partial.client.sendRaw('Content-Length: 500\r\n\r\n{"seq":1');
    partial.client.end();
    await ends('a header whose body never comes, then end of input', partial);

    const mixed = ctx.spawnStdio();
    mixed.client.sendRaw('Content-Length: 9\r\n\r\nnot json!');
    mixed.client.sendRaw(
      encodeDapFrame({
        seq: mixed.client.allocateSeq(),
        type: 'response',
        request_seq: 9,
        command: 'x',
        success: true,
      }),
    );
    const unknown = await rawRequest(mixed.client, 'frobnicate');
    expect(errorId(unknown)).toBe(ERR.Unsupported);
    const init = await mixed.client.request('initialize', { adapterID: 'relay' });
    expect(init.success).toBe(true);
    expect(mixed.client.output('important')).toMatch(/not JSON/);
    expect(mixed.hasExited).toBe(false);
    mixed.client.end();
    await ends('not JSON, a response, an unknown command (then end of input)', mixed);

    row.figure = outcomes.join('; ') + '; no stack trace on stderr, nothing but DAP frames on stdout';
    expect(lingered, 'sessions the adapter closed but whose process waited for stdin to end').toEqual([]);
  }, 120_000);
});

// =============================================================================================
// The relay directory

describe('hostile input: the relay directory', () => {
  const context = useRelayTestContext();
  beforeEach(() => {
    relay = context;
  });

  it('cmd/ names that are not ids (.., :, spaces, newline, $( ), 250 characters, a/b) are left alone and logged once; valid commands run meanwhile', async () => {
    const { row, relayDir, workdir, server } = await servedRow(
      'cmd/ entries whose names are not ids (`..sh`, `.sh`, `a:b.sh`, `with space.sh`, a newline, `$(touch x).sh`, 250 characters, `a/b.sh`) while 40 valid commands run; 10 KB and `../` ids given to `relay-dap cancel`',
    );
    const cmd = path.join(relayDir, 'cmd');
    const bad = [
      '..sh',
      '.sh',
      'a:b.sh',
      'with space.sh',
      'line\nbreak.sh',
      '$(touch pwned).sh',
      `${'x'.repeat(250)}.sh`,
    ];
    const textOf = (i: number): string =>
      `export ${marker()}=1; touch ${JSON.stringify(path.join(workdir, `ran-${i}`))}`;
    fs.mkdirSync(path.join(cmd, 'a'), { mode: 0o700 });
    fs.writeFileSync(path.join(cmd, 'a', 'b.sh'), textOf(99), { mode: 0o600 });

    // Valid commands through one client process each, while the invalid names arrive.
    const valid = Array.from({ length: 40 }, (_, i) => ({
      i,
      client: launch(['run', '--relay-dir', relayDir, '--', `export ${marker()}=1; echo valid-${i}`]),
    }));
    bad.forEach((name, i) => fs.writeFileSync(path.join(cmd, name), textOf(i), { mode: 0o600 }));
    for (const { i, client } of valid) {
      const result = await finish(client, 60_000, `valid command ${i}`);
      expect({ i, code: result.code, out: result.stdout.toString() }).toEqual({
        i,
        code: 0,
        out: `valid-${i}\n`,
      });
    }
    await waitForServerTicks(relayDir, 3);

    const log = lines(server.stderr());
    const mentions = (needle: string): number => log.filter((line) => line.includes(needle)).length;
    bad.forEach((name, i) => {
      expect(readIf(path.join(cmd, name)), `cmd/${JSON.stringify(name)} left alone`).toBe(textOf(i));
      const needle = `its id is ${describeInvalidId(name.slice(0, -3))}`;
      expect(mentions(needle), `log lines naming cmd/${JSON.stringify(name)}`).toBe(1);
    });
    expect(readIf(path.join(cmd, 'a', 'b.sh'))).toBe(textOf(99));
    expect(fs.readdirSync(workdir).filter((n) => n.startsWith('ran-') || n === 'pwned')).toEqual([]);

    // Ids that are not ids, on the command line.
    const hugeId = 'Z'.repeat(10 * 1024);
    for (const id of [hugeId, '../../etc/passwd', 'a:b']) {
      const result = await finish(
        launch(['cancel', '--relay-dir', relayDir, id]),
        20_000,
        'relay-dap cancel',
      );
      expect(result.code).toBe(1);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/not a command id/);
    }
    expect(server.child.exitCode).toBeNull();
    row.figure = `${bad.length} names and a/b.sh left alone and unrun, each logged exactly once over ≥ 3 rescans (the newline escaped); 40 of 40 valid commands ran; the 3 bad ids to \`cancel\`: exit 1, one line`;
  }, 180_000);

  it('a cmd/ name holding a newline cannot forge a line of the server log', async () => {
    const { row, relayDir, server } = await servedRow(
      'a cmd/ name holding a newline and a fake log line (`x⏎2026-01-01T00:00:00.000Z [forged] exit 0.sh`)',
    );
    const forged = '2026-01-01T00:00:00.000Z [forged] exit 0';
    fs.writeFileSync(path.join(relayDir, 'cmd', `x\n${forged}.sh`), `export ${marker()}=1; echo never`, {
      mode: 0o600,
    });
    const result = await run(relayDir, `export ${marker()}=1; echo valid`);
    expect(result.stdout.toString()).toBe('valid\n');
    await waitForServerTicks(relayDir, 2);
    const log = lines(server.stderr()).filter((line) => line !== '');
    const mentions = log.filter((line) => line.includes('[forged]'));
    const forgedLines = log.filter((line) => line.startsWith('2026-01-01T'));
    row.figure = `log lines mentioning it: ${mentions.length}; of them starting with the fake timestamp: ${forgedLines.length}`;
    expect(mentions.length, server.stderr()).toBeGreaterThan(0);
    expect(forgedLines, 'server log lines forged by the file name').toEqual([]);
  }, 60_000);

  it('a directory named like a command in cmd/ is left alone and logged once by name; the server keeps its heartbeat and runs valid commands', async () => {
    const { row, relayDir, server } = await servedRow(
      'a directory named like a command (`cmd/<id>.sh/`), sorting before every valid command',
    );
    const name = '0000000000000000001_1.sh';
    const dir = path.join(relayDir, 'cmd', name);
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(path.join(dir, 'inside'), 'x');
    const ticking = await waitForServerTicks(relayDir, 3).then(
      () => true,
      () => false,
    );
    const beat = readIf(path.join(relayDir, 'heartbeat'));
    const heartbeatAge = beat ? (Date.now() - Number(beat.trim().split(':').pop())) / 1000 : NaN;
    const times: string[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await run(relayDir, `export ${marker()}=1; echo after-dir-${i}`, 45_000).catch(
        (error: Error) => error,
      );
      times.push(
        result instanceof Error ? 'did not end' : `exit ${result.code} in ${(result.ms / 1000).toFixed(1)} s`,
      );
    }
    const stillThere = fs.existsSync(path.join(dir, 'inside'));
    const named = lines(server.stderr()).filter((line) => line.includes(name.slice(0, -3)));
    row.figure =
      `heartbeat ${ticking ? 'kept' : `stopped (${heartbeatAge.toFixed(0)} s old)`}; valid commands: ${times.join(', ')}; ` +
      `directory ${stillThere ? 'under its own name at the end' : 'caught away from its name at the end (being renamed back and forth)'}; ` +
      `log lines naming it: ${named.length}`;
    expect(server.child.exitCode).toBeNull();
    expect(ticking, `heartbeat ${heartbeatAge} s old; server log:\n${server.stderr()}`).toBe(true);
    expect(
      times.filter((t) => !t.startsWith('exit 0 ')),
      'valid commands that failed',
    ).toEqual([]);
    expect(stillThere).toBe(true);
    expect(named, `server log:\n${server.stderr()}`).toHaveLength(1);
  }, 300_000);

  it('a FIFO named like a command in cmd/ does not stall the server: it is left alone, logged, and valid commands run', async () => {
    const { row, relayDir, server } = await servedRow('a FIFO named like a command (`mkfifo cmd/<id>.sh`)');
    const id = '0000000000000000002_1';
    const fifo = path.join(relayDir, 'cmd', `${id}.sh`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    try {
      const result = await run(relayDir, `export ${marker()}=1; echo after-fifo`, 20_000).catch(
        (error: Error) => error,
      );
      const beat = readIf(path.join(relayDir, 'heartbeat'));
      const heartbeatAge = beat ? Date.now() - Number(beat.trim().split(':').pop()) : NaN;
      row.figure =
        result instanceof Error
          ? `the server stalled: a valid command did not end within 20 s; heartbeat ${(heartbeatAge / 1000).toFixed(0)} s old`
          : `valid command: exit ${result.code} after ${(result.ms / 1000).toFixed(1)} s (${result.stderr.trim().slice(0, 200) || 'no message'}); heartbeat ${(heartbeatAge / 1000).toFixed(0)} s old`;
      expect(result instanceof Error ? result.message : result.stdout.toString()).toBe('after-fifo\n');
      await waitForServerTicks(relayDir, 2);
      expect(lines(server.stderr()).filter((line) => line.includes(id))).toHaveLength(1);
    } finally {
      // Unblock a server stuck opening the FIFO (wherever it moved it), so that it can stop.
      for (const entry of fs.readdirSync(path.join(relayDir, 'cmd')).filter((n) => n.includes(id))) {
        try {
          fs.closeSync(
            fs.openSync(path.join(relayDir, 'cmd', entry), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK),
          );
        } catch {
          // No reader has it open: nothing is stuck on it.
        }
      }
    }
  }, 120_000);

  it('a symlinked cmd/ or result/: serve, run and a debug launch refuse it with one clear error; the target is untouched', async () => {
    const row = hostileRow(
      'a symlinked `cmd/` or `result/` pointing elsewhere, at start: `relay-dap serve`, `relay-dap run`, and a DAP launch with relayDir',
    );
    const refusals: string[] = [];
    for (const sub of ['cmd', 'result'] as const) {
      const { relayDir, workdir } = relayDirs();
      fs.mkdirSync(relayDir, { mode: 0o700 });
      fs.mkdirSync(path.join(relayDir, sub === 'cmd' ? 'result' : 'cmd'), { mode: 0o700 });
      const target = path.join(scratch(), 'elsewhere');
      fs.mkdirSync(target);
      fs.writeFileSync(path.join(target, 'keep'), 'untouched');
      const link = path.join(relayDir, sub);
      fs.symlinkSync(target, link);
      const expectClear = (text: string, who: string): void => {
        expect(text, who).toContain(link);
        expect(text, who).toContain(target);
        expect(text, who).toMatch(/symlink/);
        expectNoStack(text, who);
      };
      await expectRefusedEverywhere(relayDir, workdir, expectClear, ['serve', 'run']);
      expect(fs.readdirSync(target)).toEqual(['keep']);
      expect(fs.readFileSync(path.join(target, 'keep'), 'utf8')).toBe('untouched');
      refusals.push(
        `${sub}/: serve and run exit 1 with one line naming the link, its target and "symlink"; launch failed saying so`,
      );
    }
    row.figure = refusals.join('; ') + '; the targets untouched';
  }, 120_000);

  // Issue 9, item 2: as ssh's StrictModes. Before the fix, root's server ran the other user's
  // planted command as root.
  hostileNeedsOtherUser(
    'a relay directory another user prepared (/tmp/x/.relay 0777, a planted cmd/<id>.sh): root’s serve, run, status and a debug launch refuse it naming owner, mode and fix; the planted command never runs',
    'a relay directory another user prepared (0777, owned by uid 65534, with a planted `cmd/<id>.sh`), or root’s own left 0777: root’s `serve`, `run`, `status` and a DAP launch with relayDir',
    async (row) => {
      const seen: string[] = [];
      for (const owner of ['another user', 'root, but 0777'] as const) {
        const { base, x, relayDir, workdir } = relayBelowX(0o755);
        const planted = path.join(base, `ran-${randomBytes(4).toString('hex')}`);
        const id = partAId();
        const prepare =
          `mkdir -p ${relayDir}/cmd ${relayDir}/result && chmod 777 ${x} ${relayDir} ${relayDir}/cmd ${relayDir}/result && ` +
          `printf 'touch ${planted}\n' > ${relayDir}/cmd/${id}.sh`;
        if (owner === 'another user') {
          fs.chmodSync(base, 0o777); // where uid 65534 may create x/
          const made = await startAsOtherUser('sh', ['-c', prepare]).finished;
          expect(made.code, made.stderr).toBe(0);
        } else {
          expect(spawnSync('sh', ['-c', prepare]).status).toBe(0);
        }
        const expectClear = (text: string, who: string): void => {
          expect(text, who).toContain(relayDir);
          expect(text, who).toContain(
            owner === 'another user' ? `belongs to uid ${OTHER_UID}` : 'is writable by its group and others',
          );
          expect(text, who).toMatch(/mode 0777/);
          expect(text, who).toContain(`chmod 700 ${relayDir}`);
          expectNoStack(text, who);
        };
        const [serveSaid] = await expectRefusedEverywhere(relayDir, workdir, expectClear);
        expect(fs.existsSync(planted), 'the planted command ran').toBe(false);
        expect(fs.readdirSync(path.join(relayDir, 'cmd'))).toEqual([`${id}.sh`]);
        expect(fs.readdirSync(relayDir).sort()).toEqual(['cmd', 'result']);
        const shown = serveSaid!.replaceAll(base, '/tmp').split(', so ')[0]!.split(': another')[0];
        seen.push(`${owner}: serve, run, status exit 1 ("${shown}"; the fix: chmod 700), launch refused`);
      }
      row.figure = `${seen.join('; ')}; the planted command ran 0 times; nothing written`;
    },
    120_000,
  );

  // Found by the red team after issue 9: the directory's own owner and mode were checked, not
  // those of the directories above it. Whoever owns the parent can rename ours away and put
  // theirs in its place between two checks: root's server then wrote its heartbeat, owner and
  // space.reserve into the other user's directory, and root's waiting `run` said "no relay
  // server" (exit 3) while its command ran on.
  hostileNeedsOtherUser(
    'a relay directory of ours below a directory another user owns (or one open to all, not sticky): serve, run, status and a launch refuse it naming that directory, its owner and the fix; serve creates nothing there',
    'root’s own private relay directory (0700) below a directory of uid 65534’s (`/tmp/x/.relay`, x theirs), or below a root-owned 0777 one without the sticky bit: `serve`, `run`, `status`, a DAP launch with relayDir; and `serve` on a missing one there',
    async (row) => {
      const seen: string[] = [];
      for (const parentIs of ['another user’s', 'open to all, not sticky'] as const) {
        // Sticky, as /tmp: only x (below) is at fault.
        const { base, x, relayDir, workdir } = relayBelowX(0o1777);
        if (parentIs === 'another user’s') {
          const made = await startAsOtherUser('mkdir', ['-m', '755', x]).finished;
          expect(made.code, made.stderr).toBe(0);
        } else {
          fs.mkdirSync(x);
          fs.chmodSync(x, 0o777);
        }
        for (const dir of [relayDir, path.join(relayDir, 'cmd'), path.join(relayDir, 'result')])
          fs.mkdirSync(dir, { mode: 0o700 });
        const expectClear = (text: string, who: string): void => {
          expect(text, who).toContain(`relay directory ${relayDir} is not used: ${x}, above it,`);
          expect(text, who).toContain(
            parentIs === 'another user’s'
              ? `belongs to uid ${OTHER_UID}`
              : 'is writable by others and not sticky',
          );
          expect(text, who).toContain('swap the relay directory for one of theirs');
          expect(text, who).toContain('Choose a relay directory under a directory of your own');
          expectNoStack(text, who);
        };
        const [serveSaid] = await expectRefusedEverywhere(relayDir, workdir, expectClear);
        expect(fs.readdirSync(relayDir).sort(), 'written into the relay directory').toEqual([
          'cmd',
          'result',
        ]);
        // Missing: serve creates nothing in a directory another user controls.
        fs.rmSync(relayDir, { recursive: true });
        const fresh = await finish(
          launch(['serve', '--relay-dir', relayDir, '--workdir', workdir]),
          20_000,
          'relay-dap serve (missing)',
        );
        expect(fresh.code, fresh.stderr).toBe(1);
        expectClear(fresh.stderr, 'serve on a missing relay directory');
        expect(fs.readdirSync(x), 'created below x').toEqual([]);
        seen.push(
          `${parentIs} x: serve, run, status exit 1 ("${serveSaid!.replaceAll(base, '/tmp').split(' — ')[0]}"), launch refused`,
        );
      }
      row.figure = `${seen.join('; ')}; nothing created or written below x`;
    },
    120_000,
  );

  it('relay directories at 0755 (a Part-A server’s mkdir -p, then a Part-A flush, before or under our server) end 0700 once our server serves them; a group-writable cmd/ under a running server stops it until fixed', async () => {
    const row = hostileRow(
      'relay directories left 0755 by a Part-A server and flush, then served by ours; a Part-A flush under our running server; `cmd/` made group-writable (chmod 770) under a running server',
    );
    const { relayDir, workdir } = relayDirs();
    const partAServer = partA(['--relay-dir', relayDir, '--workdir', workdir, 'serve']);
    relay.ctx().spawned.push(partAServer);
    await waitUntil(() => fs.existsSync(path.join(relayDir, 'server.ready')), 'the Part-A server');
    partAServer.child.kill('SIGTERM');
    await partAServer.finished;
    const flushed = await partA(['--relay-dir', relayDir, 'flush']).finished;
    expect(flushed.code, flushed.stderr).toBe(0);
    const modes = (): string[] =>
      [relayDir, path.join(relayDir, 'cmd'), path.join(relayDir, 'result')].map(
        (dir) => `${path.relative(relayDir, dir) || '.'} 0${(fs.statSync(dir).mode & 0o777).toString(8)}`,
      );
    const before = modes();
    expect(before).toEqual(['. 0755', 'cmd 0755', 'result 0755']);
    fs.rmSync(path.join(relayDir, 'server.ready'), { force: true });
    const server = await serve(relayDir, workdir);
    expect(modes()).toEqual(['. 0700', 'cmd 0700', 'result 0700']);
    const ran = await run(relayDir, `export ${marker()}=1; echo ok`);
    expect(ran.stdout.toString()).toBe('ok\n');

    // A Part-A flush under our running server: cmd/ and result/ come back 0755 (new inodes,
    // the umask's mode), and the server makes them private again.
    const flushedLive = await partA(['--relay-dir', relayDir, 'flush']).finished;
    expect(flushedLive.code, flushedLive.stderr).toBe(0);
    await waitUntil(
      () => modes().join(', ') === '. 0700, cmd 0700, result 0700',
      'the recreated directories to be private again',
    );
    const again = await run(relayDir, `export ${marker()}=1; echo after-flush`);
    expect(again.stdout.toString()).toBe('after-flush\n');

    // Opened to the group while serving: no new command starts until it is private again.
    fs.chmodSync(path.join(relayDir, 'cmd'), 0o770);
    await waitUntil(
      () =>
        /relay command directory \S+ \(uid 0 \(root\), mode 0770\) is writable by its group/.test(
          server.stderr(),
        ),
      'the server to refuse cmd/',
    );
    fs.chmodSync(path.join(relayDir, 'cmd'), 0o700);
    await waitUntil(() => /is usable again; serving/.test(server.stderr()), 'the server to recover');
    const after = await run(relayDir, `export ${marker()}=1; echo again`);
    expect(after.stdout.toString()).toBe('again\n');
    row.figure = `before: ${before.join(', ')}; after serve: ${modes().join(', ')}; recreated 0755 by a flush under it: 0700 again; cmd/ at 0770 refused, served again at 0700`;
  }, 120_000);

  it('result/ replaced by a symlink while a command runs: the server writes nothing through it and says so', async () => {
    const { row, relayDir, workdir, server } = await servedRow(
      '`result/` replaced by a symlink to another directory while the server runs a command',
    );
    const target = path.join(scratch(), 'elsewhere');
    fs.mkdirSync(target);
    const id = partAId();
    const go = path.join(workdir, 'go');
    queueCommandFile(relayDir, id, heldCommand(`export ${marker()}=1; echo started`, go, `exit 4`));
    await waitUntil(() => runningText(relayDir)?.startsWith(`${id}:`) === true, 'the command to start');
    const result = path.join(relayDir, 'result');
    fs.renameSync(result, `${result}.real`);
    fs.symlinkSync(target, result);
    fs.writeFileSync(go, '');
    await waitUntil(() => server.stderr().includes(`[${id}] exit`), 'the command to end');
    const said = await saidSymlink(relayDir, server, result);
    const written = fs.readdirSync(target);
    row.figure = `files written through the link: ${written.length ? written.join(', ') : 'none'}; server log lines saying so: ${said.length}`;
    expect(written, 'files the server wrote into the symlink’s target').toEqual([]);
    expectServingAndSaid(server, said);
  }, 60_000);

  it('cmd/ replaced by a symlink while serving: a command planted in its target never runs, and the server says so', async () => {
    const { row, relayDir, workdir, server } = await servedRow(
      '`cmd/` replaced by a symlink to a directory holding a planted command, while the server runs',
    );
    expect((await run(relayDir, `export ${marker()}=1; echo first`)).stdout.toString()).toBe('first\n');
    const target = path.join(scratch(), 'elsewhere');
    fs.mkdirSync(target);
    const planted = path.join(workdir, 'planted-ran');
    fs.writeFileSync(path.join(target, `${partAId()}.sh`), `export ${marker()}=1; touch ${planted}`);
    const cmd = path.join(relayDir, 'cmd');
    fs.renameSync(cmd, `${cmd}.real`);
    fs.symlinkSync(target, cmd);
    const said = await saidSymlink(relayDir, server, cmd);
    row.figure = `planted command ${fs.existsSync(planted) ? 'RAN' : 'did not run'}; server log lines saying so: ${said.length}`;
    expect(fs.existsSync(planted), 'the planted command ran').toBe(false);
    expectServingAndSaid(server, said);
  }, 60_000);

  it('a cancel file holding garbage (binary, 10 KB, paths, a near miss of the running id) is removed and logged once; the running command is unaffected', async () => {
    const { row, relayDir, workdir, server } = await servedRow(
      'a `cancel` file holding garbage: binary bytes, 10 KB of text, `../../etc/passwd`, an absolute path, `<running id>:1`, `<running id>` + NUL; while a command runs',
    );
    const go = path.join(workdir, 'go');
    const client = launch(
      runArgs(relayDir, heldCommand(`export ${marker()}=1; echo started`, go, `echo finished; exit 7`)),
    );
    await waitUntil(
      () => client.stdout().toString().includes('started') && runningText(relayDir) !== undefined,
      'the command to start',
    );
    const { id, pgid: pid } = parseRunningMarker(runningText(relayDir)!);
    const alive = (): boolean => {
      try {
        process.kill(Number(pid), 0);
        return true;
      } catch {
        return false;
      }
    };
    const binary = Buffer.concat([randomBytes(48), Buffer.from([0, 0xff, 0x0a, 0xc3])]);
    const garbage: Array<[string, string | Buffer]> = [
      ['binary', binary],
      ['10 KB', 'Q'.repeat(10 * 1024) + '\n'],
      ['../../etc/passwd', '../../etc/passwd\n'],
      ['/tmp path', `${os.tmpdir()}/not-an-id\n`],
      ['id:1', `${id}:1\n`],
      ['id + NUL', `${id}\0\n`],
      ['binary again', binary],
    ];
    const cancel = path.join(relayDir, 'cancel');
    const took: number[] = [];
    for (const [what, content] of garbage) {
      const begin = performance.now();
      writeAtomically(cancel, content);
      await waitUntil(() => !fs.existsSync(cancel), `the cancel holding ${what} to be removed`, 15_000);
      took.push(performance.now() - begin);
      expect(runningText(relayDir)?.startsWith(`${id}:`), `still running after ${what}`).toBe(true);
      expect(alive(), `the command's bash (pid ${pid}) after ${what}`).toBe(true);
    }
    fs.writeFileSync(go, '');
    const result = await finish(client, 20_000, 'relay-dap run');
    expect(result.code).toBe(7);
    expect(result.stdout.toString()).toBe('started\nfinished\n');
    const logged = lines(server.stderr()).filter((line) => line.includes('cancel file'));
    // One line per distinct garbage (the repeated binary is not logged again).
    expect(logged, server.stderr()).toHaveLength(garbage.length - 1);
    for (const line of logged) expect(line.length, 'a log line kept short').toBeLessThan(400);
    row.figure = `${garbage.length} garbage cancels each removed within ${Math.max(...took).toFixed(0)} ms, logged once per distinct content (${logged.length} lines, ≤ 400 chars); the command ran on and exited 7 with its whole output`;
  }, 90_000);

  it('a running file holding garbage at server start is cleaned up and logged once; the queue runs', async () => {
    const row = hostileRow(
      'a `running` file holding garbage when a server starts: binary, 10 KB, no colon, `../../x:1`, a well-formed id no one ran',
    );
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['binary', Buffer.concat([randomBytes(40), Buffer.from([0x3a, 0, 0xff])]), /removing a running file/],
      ['10 KB', `${'R'.repeat(10 * 1024)}:123\n`, /removing a running file/],
      ['no colon', 'garbage-without-a-colon\n', /removing a running file/],
      ['../../x:1', '../../x:1\n', /removing a running file/],
      ['unknown id', '1000000000000000000_77:999999\n', /1000000000000000000_77\] settled/],
    ];
    const figures = await Promise.all(
      cases.map(async ([what, content, logLine]) => {
        const { relayDir, workdir } = relayDirs();
        for (const dir of [relayDir, path.join(relayDir, 'cmd'), path.join(relayDir, 'result')])
          fs.mkdirSync(dir, { mode: 0o700 });
        fs.writeFileSync(path.join(relayDir, 'running'), content, { mode: 0o600 });
        const begin = performance.now();
        const server = await serve(relayDir, workdir);
        const result = await run(
          relayDir,
          `export ${marker()}=1; echo after-${what.replace(/\W/g, '')}`,
          60_000,
        );
        const ms = performance.now() - begin;
        expect(result.code, `${what}: ${result.stderr}`).toBe(0);
        expect(result.stdout.toString()).toBe(`after-${what.replace(/\W/g, '')}\n`);
        expect(runningText(relayDir), `${what}: running removed`).toBeUndefined();
        await waitForServerTicks(relayDir, 2);
        const logged = lines(server.stderr()).filter((line) => logLine.test(line));
        expect(logged, `${what}: server log\n${server.stderr()}`).toHaveLength(1);
        expect(logged[0]!.length).toBeLessThan(600);
        return `${what} ${(ms / 1000).toFixed(1)} s`;
      }),
    );
    row.figure = `each cleaned and logged once; first command done after server start: ${figures.join(', ')}`;
  }, 120_000);

  /** `relay-dap run` of a command that writes its own `.exit` first, then waits for `go`. */
  async function runWithForgedExit(
    relayDir: string,
    workdir: string,
    printf: string,
    label: string,
  ): Promise<{
    result: Finished;
    exitFile: string | undefined;
    exitContent: Buffer | undefined;
    logLeft: boolean;
    go: string;
  }> {
    const go = path.join(workdir, `go-${label}`);
    const resultDir = path.join(relayDir, 'result');
    const text =
      `export ${marker()}=1; printf -- '${printf}' > ${resultDir}/.forged.tmp && ` +
      `mv ${resultDir}/.forged.tmp "${resultDir}/$RELAY_CMD_ID.exit"; echo forged; ` +
      `while [ ! -e ${go} ]; do sleep 0.05; done`;
    const result = await run(relayDir, text);
    const exitFile = /(\S+\.exit)\b/.exec(result.stderr)?.[1];
    const exitContent = exitFile ? fs.readFileSync(exitFile) : undefined;
    const logLeft = exitFile ? fs.existsSync(exitFile.replace(/\.exit$/, '.log')) : false;
    return { result, exitFile, exitContent, logLeft, go };
  }

  it('a .exit that is not a number: relay-dap run exits 125 naming the file, and leaves the files for inspection', async () => {
    const { row, relayDir, workdir } = await servedRow(
      'a `.exit` the client finds not numeric (`abc`, empty, a lone newline, `-1`, `1.5`, `0x1F`, `7 8`, binary), written before the server writes its own',
    );
    const cases: Array<[string, string, Buffer]> = [
      ['abc', 'abc\\n', Buffer.from('abc\n')],
      ['empty', '', Buffer.alloc(0)],
      ['newline', '\\n', Buffer.from('\n')],
      ['-1', '-1\\n', Buffer.from('-1\n')],
      ['1.5', '1.5\\n', Buffer.from('1.5\n')],
      ['0x1F', '0x1F\\n', Buffer.from('0x1F\n')],
      ['7 8', '7 8\\n', Buffer.from('7 8\n')],
      ['binary', '\\377\\376\\n', Buffer.from([0xff, 0xfe, 0x0a])],
    ];
    for (const [label, printf, bytes] of cases) {
      const { result, exitFile, exitContent, logLeft, go } = await runWithForgedExit(
        relayDir,
        workdir,
        printf,
        label.replace(/\W/g, '_'),
      );
      expect(result.code, `${label}: ${result.stderr}`).toBe(125);
      expect(result.stderr.trimEnd().split('\n'), label).toHaveLength(1);
      expect(exitFile, `${label}: the message names the .exit file`).toMatch(
        new RegExp(`^${relayDir}/result/\\d{19}_\\d+\\.exit$`),
      );
      expect(exitContent, `${label}: .exit left as it was`).toEqual(bytes);
      expect(logLeft, `${label}: .log left`).toBe(true);
      expectNoStack(result.stderr, label);
      fs.writeFileSync(go, '');
      await waitUntil(() => runningText(relayDir) === undefined, `${label}: the command to end`);
    }
    row.figure = `${cases.length} of ${cases.length}: \`relay-dap run\` exit 125, one line naming result/<id>.exit; .exit and .log left in place`;
  }, 120_000);

  it('a .exit out of the 0–255 range (256, 999) is not taken for an exit code', async () => {
    const { row, relayDir, workdir } = await servedRow(
      'a `.exit` holding a number that is no exit code (`256`, `999`), written before the server writes its own',
    );
    const seen: string[] = [];
    for (const value of ['256', '999']) {
      const { result, go } = await runWithForgedExit(relayDir, workdir, `${value}\\n`, value);
      seen.push(`${value} → exit ${result.code}`);
      fs.writeFileSync(go, '');
      await waitUntil(() => runningText(relayDir) === undefined, `${value}: the command to end`);
    }
    row.figure = `relay-dap run: ${seen.join(', ')}`;
    expect(seen).toEqual(['256 → exit 125', '999 → exit 125']);
  }, 60_000);
});

// =============================================================================================
// Exposure

describe('hostile input: exposure', () => {
  let ctx: AdapterContext;
  const context = useRelayTestContext();
  beforeEach(() => {
    ctx = createAdapterContext();
    relay = context;
  });
  afterEach(async () => {
    await ctx.cleanup();
  });

  /** Resolves with 'connected' or the error code of a TCP connection attempt. */
  function tryConnect(host: string, port: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve('timeout');
      }, 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(error.code ?? 'error');
      });
    });
  }

  it('the TCP adapter listens on loopback only, unless a host is given', async () => {
    const row = hostileRow(
      'exposure: `relay-dap --server=0` reached through this machine’s non-loopback addresses; `--host 127.0.0.2`',
    );
    const adapter = await ctx.spawnTcp(['--server=0']);
    expect(adapter.host).toBe('127.0.0.1');
    const external = Object.values(os.networkInterfaces())
      .flat()
      .filter((info): info is os.NetworkInterfaceInfo => info !== undefined && !info.internal)
      .filter((info) => !(info.family === 'IPv6' && info.address.startsWith('fe80')))
      .map((info) => info.address);
    const attempts: string[] = [];
    for (const address of [...external, '::1']) {
      const outcome = await tryConnect(address, adapter.port);
      attempts.push(`${address}: ${outcome}`);
      expect(outcome, `connecting through ${address}`).not.toBe('connected');
    }
    const loop = await tryConnect('127.0.0.1', adapter.port);
    expect(loop).toBe('connected');

    // Told where to listen, it listens there (a second loopback address: tests stay off the network).
    const other = await ctx.spawnTcp(['--port', '0', '--host', '127.0.0.2']);
    expect(other.host).toBe('127.0.0.2');
    expect(await tryConnect('127.0.0.1', other.port)).not.toBe('connected');
    const client = await other.connect();
    expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
    await client.close(EVENT_TIMEOUT_MS);
    row.figure =
      `default: listens on 127.0.0.1:${adapter.port}; ` +
      (external.length
        ? `through ${attempts.join(', ')}`
        : `no non-loopback address here; ${attempts.join(', ')}`) +
      `; \`--host 127.0.0.2\` → 127.0.0.2 only (127.0.0.1 refused)`;
  }, 60_000);

  it.skipIf(!otherUser.ok)(
    `another local user (uid ${OTHER_UID}) connects to the TCP adapter and launches a command${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const row = hostileRow(
        `another local user (uid ${OTHER_UID}) connects to \`relay-dap --server=0\` and sends initialize, launch (a command that would leave a file) and configurationDone at once, 5 times, then 3 times exiting at once while the adapter is busy; the adapter's own user runs a session meanwhile`,
      );
      const adapter = await ctx.spawnTcp(['--server=0']);
      const own = await adapter.connect();
      await launchAndConfigure(own, {
        stopOnEntry: false,
        command: ctx.mark('while :; do echo tick; sleep 0.1; done'),
      });
      await own.waitForEvent('output', (e) => e.body.output.includes('tick'), EVENT_TIMEOUT_MS);
      const ticks = () => (own.output('stdout').match(/tick/g) ?? []).length;
      const proof = path.join(scratch(), 'ran-as-the-adapter-user');
      const attempts: OtherUserAttempt[] = [];
      for (let i = 0; i < 5; i++) {
        attempts.push(
          await connectAsOtherUser({ host: adapter.host, port: adapter.port }, { launch: `touch ${proof}` }),
        );
      }
      const before = ticks();
      await waitUntil(() => ticks() > before, 'the same user’s session to stream on', EVENT_TIMEOUT_MS);
      const refusals = adapter
        .stderr()
        .split('\n')
        .filter((line) => line.includes('refused'));
      for (const attempt of attempts) {
        expect(attempt).toMatchObject({ connected: true, received: 0, answered: false, terminated: false });
        expect(
          refusals.filter((line) =>
            line.includes(
              `[connection from 127.0.0.1:${attempt.localPort}] refused: it belongs to another user (uid ${OTHER_UID};`,
            ),
          ),
        ).toHaveLength(1);
      }
      expect(refusals).toHaveLength(attempts.length);

      // Then 3 that send and vanish while the adapter is busy (stopped): when it looks, their
      // sockets belong to no process, and the kernel lists them as uid 0 (root's, to a naive check).
      adapter.child.kill('SIGSTOP');
      try {
        for (let i = 0; i < 3; i++)
          await connectAsOtherUser(
            { host: adapter.host, port: adapter.port },
            { launch: `touch ${proof}`, exitAfterSending: true },
          );
      } finally {
        adapter.child.kill('SIGCONT');
      }
      const closedLine = 'refused: its socket was closed before its owner could be checked';
      await waitUntil(
        () => adapter.stderr().split(closedLine).length - 1 === 3,
        'the vanished clients to be refused',
        EVENT_TIMEOUT_MS,
      );
      expect(adapter.stderr().match(/\] connected/g) ?? []).toHaveLength(1); // the owner's only
      expect(fs.existsSync(proof), 'the launched command ran').toBe(false);
      expect((await own.request('threads')).body.threads).toHaveLength(1);
      expect(adapter.hasExited).toBe(false);
      await own.request('terminate', {});
      await own.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      row.figure =
        `${attempts.filter((a) => !a.answered && a.received === 0).length} of ${attempts.length} refused before a byte was read: ` +
        `0 bytes answered, the command never ran, one log line each (\`${refusals[0]!.replace(/^\S+ /, '').replace(/:\d+\]/, ':PORT]')}\`); ` +
        `3 more that sent and exited while the adapter was stopped (their sockets listed as uid 0): refused as "${closedLine.replace('refused: ', '')}"; ` +
        `the same user's session streamed throughout (${ticks()} ticks) and answered threads`;
    },
    60_000,
  );

  it.skipIf(!otherUser.ok)(
    `another local user (uid ${OTHER_UID}) and the --socket adapter: cannot connect, cannot plant the directory${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const row = hostileRow(
        `another local user (uid ${OTHER_UID}) and \`relay-dap --socket PATH\`: connects and launches a command; prepares the socket's directory (0777) before the adapter starts`,
      );
      const dir = path.join(ctx.tmp, 'run', 'relay-dap');
      const adapter = await ctx.spawnSocket(path.join(dir, 'dap.sock'));
      const modes = [dir, adapter.socketPath].map(
        (file) => '0' + (fs.statSync(file).mode & 0o777).toString(8),
      );
      expect(modes).toEqual(['0700', '0600']);
      const proof = path.join(scratch(), 'ran-as-the-adapter-user');
      const attempt = await connectAsOtherUser({ path: adapter.socketPath }, { launch: `touch ${proof}` });
      expect(attempt).toMatchObject({ connected: false, received: 0, end: 'EACCES' });
      expect(fs.existsSync(proof)).toBe(false);
      const own = await adapter.connect();
      await launchAndConfigure(own, { stopOnEntry: false, command: ctx.mark('echo mine') });
      await own.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect(own.output('stdout')).toBe('mine\n');

      // A directory the other user made for us in /tmp, open to them: refused, nothing created in it.
      const planted = path.join(os.tmpdir(), `relay-dap-planted-${randomBytes(4).toString('hex')}`);
      let line: string;
      try {
        const mkdir = await finish(startAsOtherUser('mkdir', ['-m', '777', planted]), 30_000, 'mkdir');
        expect(mkdir.code).toBe(0);
        const result = await finish(
          relay.launch(['--socket', path.join(planted, 'dap.sock')]),
          30_000,
          'relay-dap --socket in a planted directory',
        );
        expect(result.code).toBe(1);
        line = expectOneLine(result.stderr);
        expect(line).toContain(`the directory ${planted} is owned by uid ${OTHER_UID} with mode 0777`);
        expect(fs.readdirSync(planted)).toEqual([]);
      } finally {
        fs.rmSync(planted, { recursive: true, force: true });
      }
      row.figure =
        `directory ${modes[0]}, socket ${modes[1]}: the other user's connect failed with ${attempt.end}, nothing answered, the command never ran; ` +
        `the owner's session ran meanwhile; a 0777 directory of theirs: refused, exit 1 (\`${line}\`)`;
    },
    60_000,
  );

  // Found by the red team after issue 9: the port an editor is told to use (`npm start`'s 4711,
  // vimspector's and dap-mode's shipped configurations) can be taken first by another user,
  // whose program then receives every launch (env values included) that editor sends. Ours
  // said only "in use", which reads as "your old adapter is still running: connect to it".
  hostileNeedsOtherUser(
    'a port held by another user’s program: relay-dap --port says who holds it and not to point an editor at it',
    'exposure: uid 65534 listens first on the port an editor is configured for (0.0.0.0:PORT); root’s `relay-dap --port PORT`',
    async (row) => {
      const squatter = startAsOtherUser(process.execPath, [
        '-e',
        'require("net").createServer(s => s.destroy()).listen(0, "0.0.0.0", function () { console.log(this.address().port) })',
      ]);
      relay.ctx().spawned.push(squatter);
      await waitUntil(() => /^\d+\n/.test(squatter.stdout().toString()), 'the other user’s listener');
      const port = Number(squatter.stdout().toString().trim());
      const refused = await finish(launch(['--port', String(port)]), 20_000, 'relay-dap --port');
      expect(refused.code, refused.stderr).toBe(1);
      expectOneLine(refused.stderr);
      expect(refused.stderr).toContain(
        `port ${port} on 127.0.0.1 is in use by another user, uid ${OTHER_UID}`,
      );
      expect(refused.stderr).toContain(
        'would send their program its launch configurations (env values included)',
      );
      expectNoStack(refused.stderr, 'relay-dap --port');
      row.figure = `exit 1: "${refused.stderr.trim().replaceAll(String(port), 'PORT')}"`;
    },
    60_000,
  );

  it('no adapter log (stderr, --log-file) holds a command text or an environment secret, unless tracing is asked for', async () => {
    const row = hostileRow(
      'exposure: the TCP adapter’s stderr and `--log-file` during a job with secrets in step texts, `env`, a `!CMD` and failures; `trace: true` as the control',
    );
    const logFile = path.join(ctx.tmp, 'adapter.log');
    const adapter = await ctx.spawnTcp(['--server=0', '--log-file', logFile]);
    const secret = (what: string): string => `SECRET_${what}_${randomBytes(6).toString('hex')}`;
    const inText = secret('TEXT');
    const inEnv = secret('ENV');
    const inConsole = secret('CONSOLE');
    const inFailure = secret('FAIL');

    const client = await adapter.connect();
    await launchAndConfigure(client, {
      stopOnEntry: true,
      env: { API_TOKEN: inEnv },
      steps: [
        { name: 'build', run: ctx.mark(`: ${inText}; echo built`) },
        { name: 'deploy', run: ctx.mark(`echo "$API_TOKEN" > /dev/null; ${inFailure}; exit 3`) },
      ],
    });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    expect(
      (await client.request('evaluate', { expression: `!: ${inConsole}; echo console-ran`, context: 'repl' }))
        .body.result,
    ).toBe('exit 0');
    expect(
      (await client.request('evaluate', { expression: `!${inConsole}`, context: 'repl' })).body.result,
    ).toBe('exit 127');
    const shown = await client.request('evaluate', { expression: 'env.API_TOKEN', context: 'repl' });
    expect(shown.body.result).toContain(inEnv); // the client may see it: it is the client's own
    expect((await client.request('continue', { threadId: 1 })).success).toBe(true);
    await client.waitForEvent('stopped', (e) => e.body.reason === 'exception', EVENT_TIMEOUT_MS);
    expect((await client.request('exceptionInfo', { threadId: 1 })).success).toBe(true);
    expect((await client.request('continue', { threadId: 1 })).success).toBe(true);
    expect((await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS)).body.exitCode).toBe(3);
    await client.request('disconnect', {});
    await client.closed;
    // A launch that fails, with a secret in its arguments.
    const failing = await adapter.connect();
    const refused = await launchAndConfigure(
      failing,
      { command: ctx.mark(`: ${inText}`), env: { API_TOKEN: inEnv, 'BAD NAME': inEnv } },
      {},
      { allowLaunchFailure: true },
    );
    expect(refused.launch.success).toBe(false);
    await failing.close(EVENT_TIMEOUT_MS);

    const leaks = (text: string): string[] =>
      [inText, inEnv, inConsole, inFailure].filter((s) => text.includes(s));
    const stderrBefore = adapter.stderr();
    const logBefore = fs.readFileSync(logFile, 'utf8');
    expect(logBefore).toMatch(/launch: 2 step\(s\)/); // the log is there, and it is about this job
    expect(leaks(stderrBefore), 'secrets in the adapter’s stderr').toEqual([]);
    expect(leaks(logBefore), 'secrets in --log-file').toEqual([]);
    expect(fs.statSync(logFile).mode & 0o777).toBe(0o600);

    // The control: asked to trace, the adapter logs the messages, command text included.
    const traced = secret('TRACED');
    const tracing = await adapter.connect();
    await launchAndConfigure(tracing, { command: ctx.mark(`: ${traced}`), stopOnEntry: false, trace: true });
    await tracing.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await tracing.request('disconnect', {});
    await tracing.closed;
    await waitUntil(() => adapter.stderr().includes(traced), 'the trace on stderr', EVENT_TIMEOUT_MS);
    expect(fs.readFileSync(logFile, 'utf8')).toContain(traced);
    expect(leaks(adapter.stderr()), 'secrets of the untraced sessions, after the traced one').toEqual([]);

    row.figure =
      `4 secrets (step text, env value, \`!CMD\`, failing step) in 0 of ${lines(stderrBefore).length} stderr lines and 0 of ` +
      `${lines(logBefore).length} --log-file lines (file 0600); with \`trace: true\` the text does appear (control)`;
  }, 120_000);

  it('relay files are 0600 and directories 0700 even under umask 000: serve/run, leases, the embedded relay, the adapter’s log and trace', async () => {
    const row = hostileRow(
      'exposure: modes of every relay file and directory under umask 000 (serve + run --lease, and the adapter’s embedded relay, --log-file, trace file), while a command runs and after',
    );
    const previous = process.umask(0);
    relay.ctx().cleanups.push(() => process.umask(previous));
    let checked = 0;

    const { relayDir, workdir } = await serving();
    const go = path.join(workdir, 'go');
    const client = launch(
      runArgs(relayDir, heldCommand(`export ${marker()}=1; echo started`, go), ['--lease']),
    );
    await waitUntil(() => client.stdout().toString().includes('started'), 'the command to start');
    const during = notPrivate(relayDir);
    expect(during.wrong, 'relay-dap serve/run entries while running').toEqual([]);
    expect(fs.existsSync(path.join(relayDir, 'lease'))).toBe(true);
    fs.writeFileSync(go, '');
    expect((await finish(client, 20_000, 'relay-dap run')).code).toBe(0);
    const after = notPrivate(relayDir);
    expect(after.wrong, 'relay-dap serve/run entries after').toEqual([]);
    checked += during.checked + after.checked;

    const logFile = path.join(ctx.tmp, 'adapter.log');
    const traceFile = path.join(ctx.tmp, 'trace.log');
    const adapter = ctx.spawnStdio(['--log-file', logFile]);
    const stop = path.join(ctx.workdir, 'stop');
    await launchAndConfigure(adapter.client, {
      command: ctx.mark(heldCommand(`echo step-started`, stop)),
      stopOnEntry: false,
      trace: traceFile,
    });
    await adapter.client.waitForEvent(
      'output',
      (e) => e.body.output.includes('step-started'),
      EVENT_TIMEOUT_MS,
    );
    const [embedded] = ctx.embeddedRelayDirs();
    expect(embedded).toBeDefined();
    const inside = notPrivate(path.join(ctx.tmp, embedded!));
    expect(inside.wrong, 'embedded relay entries while a step runs').toEqual([]);
    checked += inside.checked;
    fs.writeFileSync(stop, '');
    await adapter.client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await adapter.client.request('disconnect', {});
    await adapter.client.closed;
    await waitForExit(adapter);
    for (const file of [logFile, traceFile]) {
      expect(fs.statSync(file).mode & 0o777, file).toBe(0o600);
      checked += 1;
    }
    row.figure = `${checked} entries checked under umask 000: every file 0600, every directory 0700`;
  }, 120_000);

  // What the user names: trace and log files, command texts, job files, timeouts, the workdir.

  /** Every process whose command line (what `ps` shows every local user) holds `needle`. */
  function cmdlinesHolding(
    needle: string,
    except: readonly number[] = [],
  ): { scanned: number; found: string[] } {
    let scanned = 0;
    const found: string[] = [];
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || except.includes(Number(entry))) continue;
      const cmdline = readIf(`/proc/${entry}/cmdline`);
      if (cmdline === undefined) continue;
      scanned++;
      if (cmdline.includes(needle)) found.push(`${entry} ${cmdline.replace(/\0/g, ' ').trim()}`);
    }
    return { scanned, found };
  }

  /** A shared directory (/tmp-like: 1777) where another user can plant files. */
  function sharedDirectory(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-shared-'));
    fs.chmodSync(dir, 0o1777);
    relay.ctx().cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  hostileNeedsOtherUser(
    'a trace or --log-file path planted by another user (0666 file, symlink) or left readable is refused with one line; a new one is created 0600',
    'trace and `--log-file` paths in a shared 1777 directory: a file another user pre-created 0666, a symlink they planted to a file of ours, our own file left 0644; then a new path',
    async (row) => {
      const shared = sharedDirectory();
      const planted = path.join(shared, 'dap.log');
      const link = path.join(shared, 'link.log');
      const victim = path.join(ctx.tmp, 'victim.txt');
      fs.writeFileSync(victim, 'untouched\n', { mode: 0o600 });
      const plant = startAsOtherUser('sh', ['-c', `umask 0; : > ${planted}; ln -s ${victim} ${link}`]);
      expect((await finish(plant, 20_000, 'planting as uid 65534')).code).toBe(0);
      expect(fs.statSync(planted).uid).toBe(OTHER_UID);
      const loose = path.join(ctx.tmp, 'loose.log');
      fs.writeFileSync(loose, '');
      fs.chmodSync(loose, 0o644);
      const secret = `SECRET_TRACE_${randomBytes(6).toString('hex')}`;
      const outcomes: string[] = [];

      const traceTo = async (file: string): Promise<DebugProtocol.LaunchResponse> => {
        const adapter = ctx.spawnStdio();
        const { launch } = await launchAndConfigure(
          adapter.client,
          { command: ctx.mark('echo traced'), stopOnEntry: false, env: { API_TOKEN: secret }, trace: file },
          {},
          { allowLaunchFailure: true },
        );
        if (launch.success) await adapter.client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
        await adapter.client.request('disconnect', {});
        await adapter.client.closed;
        await waitForExit(adapter);
        return launch;
      };
      for (const [name, file, said] of [
        ['a file of uid 65534, mode 0666', planted, /belongs to uid 65534.*mode 0666.*remove it/],
        ['a symlink to a file of ours', link, /is a symbolic link.*does not follow/],
        ['our own file, mode 0644', loose, /mode 0644.*chmod 600/],
      ] as const) {
        const launch = await traceTo(file);
        expect(launch.success, `launch with trace: ${name}`).toBe(false);
        expect(launch.message).toContain(file);
        expect(launch.message).toMatch(said);
        expect(launch.message).not.toContain('\n');
        const shown = launch
          .message!.replace(file, path.basename(file))
          .split(', so ')[0]!
          .split(', and ')[0];
        outcomes.push(`trace to ${name}: launch refused ("${shown}")`);
      }
      expect(fs.readFileSync(planted, 'utf8'), 'the planted file').toBe('');
      expect(fs.readFileSync(victim, 'utf8'), 'the symlink target').toBe('untouched\n');
      expect(fs.readFileSync(loose, 'utf8'), 'the loose file').toBe('');

      for (const [name, file] of [
        ['a file of uid 65534, mode 0666', planted],
        ['a symlink to a file of ours', link],
      ] as const) {
        const adapter = ctx.spawnStdio(['--log-file', file]);
        const exit = await waitForExit(adapter);
        expect(exit.code, `--log-file ${name}`).toBe(1);
        const line = expectOneLine(adapter.stderr());
        expect(line).toContain(file);
        expectNoStack(line, `--log-file ${name}`);
        outcomes.push(`--log-file ${name}: exit 1, one line`);
      }
      expect(fs.readFileSync(planted, 'utf8')).toBe('');
      expect(fs.readFileSync(victim, 'utf8')).toBe('untouched\n');

      // The control: a new path is created 0600 and holds the trace (secrets included, as documented).
      const fresh = path.join(shared, 'fresh.log');
      const previous = process.umask(0);
      relay.ctx().cleanups.push(() => process.umask(previous));
      expect((await traceTo(fresh)).success).toBe(true);
      expect(fs.statSync(fresh).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(fresh, 'utf8')).toContain(secret);
      row.figure = `${outcomes.join('; ')}; nothing written to any of them; a new path under umask 000: created 0600`;
    },
    120_000,
  );

  // Found by the red team after issue 9: O_NOFOLLOW stops a symbolic link, not a hard link.
  // Where fs.protected_hardlinks is off (a sysctl, on by default on most distributions, not
  // everywhere), another user can link any file of ours they can name into /tmp (the test
  // makes the link itself: here the sysctl is on); the trace was then appended to that file.
  it('a hard link to a private file of ours at the trace or --log-file path is refused; the linked file is untouched', async () => {
    const row = hostileRow(
      'trace and `--log-file` paths in a shared 1777 directory that are a hard link to a private (0600) file of ours, as another user can plant where fs.protected_hardlinks is off',
    );
    const shared = sharedDirectory();
    const victim = path.join(ctx.tmp, 'authorized_keys');
    fs.writeFileSync(victim, 'ssh-ed25519 AAAA untouched\n', { mode: 0o600 });
    const planted = path.join(shared, 'dap.log');
    fs.linkSync(victim, planted);
    const adapter = ctx.spawnStdio();
    const { launch } = await launchAndConfigure(
      adapter.client,
      { command: ctx.mark('echo traced'), stopOnEntry: false, env: { API_TOKEN: 'secret' }, trace: planted },
      {},
      { allowLaunchFailure: true },
    );
    if (launch.success) await adapter.client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await adapter.client.request('disconnect', {});
    await adapter.client.closed;
    await waitForExit(adapter);
    expect(fs.readFileSync(victim, 'utf8'), 'the hard-linked file').toBe('ssh-ed25519 AAAA untouched\n');
    expect(launch.success, 'launch with a hard-linked trace').toBe(false);
    expect(launch.message).toContain(`${planted}: it has 2 names (hard links)`);
    const logging = ctx.spawnStdio(['--log-file', planted]);
    const exit = await waitForExit(logging);
    expect(fs.readFileSync(victim, 'utf8'), 'the hard-linked file').toBe('ssh-ed25519 AAAA untouched\n');
    expect(exit.code, '--log-file on a hard link').toBe(1);
    const line = expectOneLine(logging.stderr());
    expect(line).toContain('it has 2 names (hard links)');
    expectNoStack(line, '--log-file on a hard link');
    row.figure = `trace: launch refused ("${launch.message!.replace(planted, 'dap.log').split(', so ')[0]}"); --log-file: exit 1, one line; the linked file unchanged`;
  }, 120_000);

  it('no command text appears in any process’s command line (ps): run, run --file, an adapter step, a !CMD', async () => {
    const { row, relayDir, workdir } = await servedRow(
      'exposure: /proc/*/cmdline of every process while commands holding a unique secret run: `run -- TEXT`, `run --file`, an adapter step and a `!CMD` (embedded relay)',
    );
    let scanned = 0;
    const seen: string[] = [];
    const whileRunning = async (
      what: string,
      begin: (secret: string, go: string) => Promise<{ started: () => boolean; except?: number[] }>,
    ): Promise<void> => {
      const secret = `SECRET_PS_${randomBytes(6).toString('hex')}`;
      const go = path.join(workdir, `go-${secret}`);
      const { started, except } = await begin(secret, go);
      await waitUntil(started, `${what} to start`, EVENT_TIMEOUT_MS);
      const scan = cmdlinesHolding(secret, except);
      scanned += scan.scanned;
      expect(scan.found, `processes showing the text of ${what}`).toEqual([]);
      seen.push(what);
      fs.writeFileSync(go, '');
    };
    const body = (secret: string, go: string): string =>
      `: ${secret}; echo started-${secret}; (while [ ! -e ${go} ]; do sleep 0.1; done); sleep 0.1 | cat`;

    // `run -- TEXT`: the client's own argv is the user's to choose; everything the server starts is checked.
    let client: Spawned | undefined;
    await whileRunning('run -- TEXT', async (secret, go) => {
      client = launch(['run', '--relay-dir', relayDir, '--', `export ${marker()}=1; ${body(secret, go)}`]);
      return {
        started: () => client!.stdout().toString().includes(`started-${secret}`),
        except: [client.child.pid!],
      };
    });
    expect((await finish(client!, 20_000, 'run')).code).toBe(0);

    await whileRunning('run --file', async (secret, go) => {
      const file = path.join(scratch(), 'script.sh');
      // As with bash -c: $0 is bash, no positional parameters, stdin is /dev/null (read gets EOF).
      fs.writeFileSync(
        file,
        `export ${marker()}=1; read -r line; echo "argv0=$0 argc=$# read=$?"; ${body(secret, go)}\n`,
      );
      client = launch(['run', '--relay-dir', relayDir, '--file', file]);
      return { started: () => client!.stdout().toString().includes(`started-${secret}`) };
    });
    const fromFile = await finish(client!, 20_000, 'run --file');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.toString()).toMatch(/^argv0=bash argc=0 read=1$/m);

    const adapter = ctx.spawnStdio();
    const stepSecret = `SECRET_PS_${randomBytes(6).toString('hex')}`;
    const stepGo = path.join(ctx.workdir, 'go-step');
    await launchAndConfigure(adapter.client, {
      stopOnEntry: true,
      steps: [{ name: 'secret step', run: ctx.mark(body(stepSecret, stepGo)) }],
    });
    await adapter.client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    let evaluated: Promise<DebugProtocol.EvaluateResponse> | undefined;
    await whileRunning('a !CMD', async (secret, go) => {
      evaluated = adapter.client.request(
        'evaluate',
        { expression: `!${ctx.mark(body(secret, go))}`, context: 'repl' },
        60_000,
      );
      return { started: () => adapter.client.output('stdout').includes(`started-${secret}`) };
    });
    expect((await evaluated!).body.result).toBe('exit 0');
    const stdout = (): string => adapter.client.output('stdout');
    expect((await adapter.client.request('continue', { threadId: 1 })).success).toBe(true);
    await waitUntil(() => stdout().includes(`started-${stepSecret}`), 'the step to start', EVENT_TIMEOUT_MS);
    const stepScan = cmdlinesHolding(stepSecret);
    scanned += stepScan.scanned;
    expect(stepScan.found, 'processes showing the text of an adapter step').toEqual([]);
    seen.push('an adapter step');
    fs.writeFileSync(stepGo, '');
    expect((await adapter.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS)).body.exitCode).toBe(0);
    await adapter.client.request('disconnect', {});
    await adapter.client.closed;
    row.figure = `${seen.length} commands (${seen.join(', ')}), ${scanned} command lines scanned while each ran (bash, its subshells, sleep, cat): the secret in none (the \`run -- TEXT\` client's own argv excepted: that is the user's; \`--file\` keeps it out too)`;
  }, 180_000);

  it('special files as input: /dev/zero, a FIFO with a silent writer, an oversized file, as `program` and as `run --file`: refused with one line, memory bounded, SIGTERM still works', async () => {
    const row = hostileRow(
      'special files as input: `program` and `run --file` naming /dev/zero, a FIFO whose writer never writes, a 20 MiB file (and `--file -` fed /dev/zero)',
    );
    const dir = scratch();
    const fifo = path.join(dir, 'fifo.yml');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A writer that opens the FIFO and never writes: a blocking read would wait for it forever.
    const writer = start('bash', ['-c', `exec 3>${fifo}; exec sleep 600`], { env: relay.ctx().env });
    relay.ctx().spawned.push(writer);
    const big = path.join(dir, 'big.yml');
    fs.writeFileSync(big, `steps:\n  - run: echo hi\n${'# padding\n'.repeat(2 * 2 ** 20)}`);
    const outcomes: string[] = [];

    // One TCP adapter, a session per attempt: one process whose memory and signals are checked.
    const adapter = await ctx.spawnTcp(['--server=0']);
    const pid = adapter.child.pid!;
    const launchProgram = async (program: string): Promise<DebugProtocol.Response> => {
      const client = await adapter.connect();
      expect((await client.request('initialize', { adapterID: 'relay' })).success).toBe(true);
      const response = await client.request('launch', { program, stopOnEntry: false }, 60_000);
      await client.close(EVENT_TIMEOUT_MS);
      return response;
    };
    // The first launch of a job file loads the YAML code: measure from after it.
    expect((await launchProgram(path.join(dir, 'missing.yml'))).success).toBe(false);
    const rssBefore = statusKiB(pid, 'VmHWM');
    for (const [name, program, said] of [
      ['/dev/zero', '/dev/zero', /is a character device, not a regular file/],
      ['a FIFO', fifo, /is a FIFO \(named pipe\), not a regular file/],
      ['a 20 MiB file', big, /is 20(\.0)? MiB, over the limit of 1 MiB/],
    ] as const) {
      const response = await launchProgram(program);
      expect(response.success, `launch with program ${name}`).toBe(false);
      expect(response.message).toContain(program);
      expect(response.message).toMatch(said);
      outcomes.push(
        `program ${name}: launch error "${response.message!.replace(dir + path.sep, '').split(': ')[0]}"`,
      );
    }
    const rssGrowth = statusKiB(pid, 'VmHWM') - rssBefore;
    expect(rssGrowth, 'adapter peak memory growth (KiB)').toBeLessThan(32 * 1024);
    adapter.child.kill('SIGTERM');
    const exit = await waitForExit(adapter);
    expect(exit.signal === 'SIGTERM' || exit.code !== null, 'the adapter ended on SIGTERM').toBe(true);
    outcomes.push('then SIGTERM ends the adapter');

    const { relayDir } = await serving();
    const runFile = async (name: string, file: string, said: RegExp): Promise<void> => {
      const result = await finish(
        launch(['run', '--relay-dir', relayDir, '--file', file]),
        30_000,
        `run --file ${name}`,
      );
      expect(result.code, `run --file ${name}`).toBe(1);
      const line = expectOneLine(result.stderr);
      expect(line).toMatch(said);
      outcomes.push(`run --file ${name}: exit 1, one line`);
    };
    await runFile('/dev/zero', '/dev/zero', /character device, not a regular file/);
    await runFile('FIFO', fifo, /FIFO \(named pipe\), not a regular file/);
    const huge = path.join(dir, 'huge.sh');
    fs.writeFileSync(huge, Buffer.alloc(20 * 2 ** 20, 0x3a));
    await runFile('20 MiB', huge, /is 20 MiB, over the limit of 16 MiB/);
    const fromStdin = start(
      'bash',
      [
        '-c',
        `exec "$0" "$1" run --relay-dir ${relayDir} --file - < /dev/zero`,
        process.execPath,
        relayDapBin,
      ],
      {
        env: relay.ctx().env,
      },
    );
    relay.ctx().spawned.push(fromStdin);
    const stdinResult = await finish(fromStdin, 30_000, 'run --file - < /dev/zero');
    expect(stdinResult.code).toBe(1);
    expect(expectOneLine(stdinResult.stderr)).toMatch(/on stdin is larger than the limit of 16 MiB/);
    outcomes.push('run --file - < /dev/zero: exit 1, one line');
    writer.child.kill('SIGKILL');
    row.figure = `${outcomes.join('; ')}; adapter peak RSS +${(rssGrowth / 1024).toFixed(1)} MiB`;
  }, 180_000);

  it('timeouts of 24.8 days or more mean what they say (run --timeout, a step timeout, a job timeout); absurd ones are refused naming the maximum', async () => {
    const row = reliabilityRow(
      'fault',
      'timeouts past Node’s 24.8-day timer limit: `run --timeout 3000000`, a step `timeout: 3000000`, a job `timeout: 3000000`; `1e12` given to run and to launch',
    );
    const { relayDir } = await serving();
    const ran = await finish(
      launch([
        'run',
        '--relay-dir',
        relayDir,
        '--timeout',
        '3000000',
        '--',
        `export ${marker()}=1; sleep 0.5; echo hi`,
      ]),
      30_000,
      'run --timeout 3000000',
    );
    expect(ran.stdout.toString()).toBe('hi\n');
    expect(ran.code).toBe(0);
    const absurd = await finish(
      launch(['run', '--relay-dir', relayDir, '--timeout', '1e12', '--', 'echo hi']),
    );
    expect(absurd.code).toBe(2);
    expect(expectOneLine(absurd.stderr)).toMatch(/--timeout takes at most 31536000 s/);

    const adapter = ctx.spawnStdio();
    await launchAndConfigure(adapter.client, {
      stopOnEntry: false,
      timeout: 3000000,
      steps: [{ name: 'long timeout', run: ctx.mark('sleep 0.5; echo step-done'), timeout: 3000000 }],
    });
    const exited = await adapter.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    expect(exited.body.exitCode).toBe(0);
    const said =
      adapter.client.output('stdout') + adapter.client.output('console') + adapter.client.output('important');
    expect(said).toContain('step-done');
    expect(said).not.toMatch(/timed out/);
    await adapter.client.request('disconnect', {});
    await adapter.client.closed;

    const refused = ctx.spawnStdio();
    const { launch: response } = await launchAndConfigure(
      refused.client,
      { command: ctx.mark('echo never'), timeout: 1e12 },
      {},
      { allowLaunchFailure: true },
    );
    expect(response.success).toBe(false);
    expect(response.message).toMatch(/`timeout` must be at most 31536000/);
    await refused.client.request('disconnect', {});
    row.figure =
      'run --timeout 3000000: printed hi, exit 0; step and job timeout 3000000: exit 0, no "timed out"; ' +
      `1e12: run exits 2 ("${expectOneLine(absurd.stderr).slice(0, 60)}…"), launch refused ("${response.message!.slice(0, 70)}…")`;
  }, 120_000);

  it('a relay server whose workdir was removed, or a launch cwd that does not exist: run, a step and a !CMD say which directory is missing (not "spawn bash ENOENT")', async () => {
    const row = reliabilityRow(
      'fault',
      'the relay server’s workdir removed while it serves: `run`, an adapter step and a `!CMD` through it; a launch `cwd` that does not exist',
    );
    const { relayDir, workdir } = await serving();
    fs.rmSync(workdir, { recursive: true, force: true });
    const gone = new RegExp(`working directory ${workdir} \\(on the relay server's side\\) does not exist`);
    const ran = await finish(launch(['run', '--relay-dir', relayDir, '--', `export ${marker()}=1; echo hi`]));
    expect(ran.code).toBe(127);
    expect(ran.stdout.toString()).toMatch(gone);
    expect(ran.stdout.toString()).not.toMatch(/ENOENT/);

    const adapter = ctx.spawnStdio();
    await launchAndConfigure(adapter.client, {
      relayDir,
      stopOnEntry: true,
      steps: [{ name: 'in the gone workdir', run: ctx.mark('echo hi') }],
    });
    await adapter.client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    const evaluated = await adapter.client.request('evaluate', {
      expression: `!${ctx.mark('echo hi')}`,
      context: 'repl',
    });
    expect(evaluated.body.result).toBe('exit 127');
    expect(adapter.client.output('stdout')).toMatch(gone);
    expect((await adapter.client.request('continue', { threadId: 1 })).success).toBe(true);
    await adapter.client.waitForEvent('stopped', (e) => e.body.reason === 'exception', EVENT_TIMEOUT_MS);
    expect((await adapter.client.request('continue', { threadId: 1 })).success).toBe(true);
    const exited = await adapter.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    expect(exited.body.exitCode).toBe(127);
    const output = adapter.client.output('stdout');
    expect(output.match(new RegExp(gone.source, 'g'))?.length).toBe(2);
    expect(output).not.toMatch(/ENOENT/);
    await adapter.client.request('disconnect', {});
    await adapter.client.closed;

    // A launch `cwd` (the job's, the console's and the steps' directory) that is not there.
    const missing = path.join(ctx.tmp, 'no-such-dir');
    const missingSaid = new RegExp(
      `working directory ${missing} \\(on the relay server's side\\) does not exist`,
    );
    const second = ctx.spawnStdio();
    await launchAndConfigure(second.client, {
      cwd: missing,
      stopOnEntry: true,
      steps: [{ name: 'in a missing cwd', run: ctx.mark('echo hi') }],
    });
    await second.client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    const inMissing = await second.client.request('evaluate', { expression: '!echo hi', context: 'repl' });
    expect(inMissing.body.result).toBe('exit 1');
    expect((await second.client.request('continue', { threadId: 1 })).success).toBe(true);
    await second.client.waitForEvent('stopped', (e) => e.body.reason === 'exception', EVENT_TIMEOUT_MS);
    expect((await second.client.request('continue', { threadId: 1 })).success).toBe(true);
    expect((await second.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS)).body.exitCode).toBe(1);
    const said = second.client.output('stdout') + second.client.output('stderr');
    expect(said.match(new RegExp(missingSaid.source, 'g'))?.length).toBe(2);
    await second.client.request('disconnect', {});
    await second.client.closed;
    row.figure =
      `server workdir removed — run, !CMD, step: exit 127, each with "${ran.stdout.toString().trim().slice(0, 90)}…"; ` +
      'a launch cwd that does not exist — !CMD and step: exit 1, each saying which directory is missing';
  }, 120_000);
});
