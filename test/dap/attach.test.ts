// `attach`: a DAP session joins a relay that is already busy with a command someone else started.
// Everything is real: a `relay-dap serve` server, the command submitted by `relay-dap run` as
// another client, and the adapter as a process over stdio. The session shows the running command
// as a thread with its log from the beginning, queues `!CMD` behind it, cancels it on terminate
// (the `run` client then sees `[cancelled]` and exits 130), and leaves it running on disconnect.
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AdapterContext,
  createAdapterContext,
  DEFAULT_CLIENT_CAPS,
  errorId,
  evaluateQueued,
  EVENT_TIMEOUT_MS,
  isAnswered,
  type StdioAdapter,
  waitForExit,
} from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { ERR } from '../support/errorIds.js';
import { processesWithMarker, relayDap, waitUntil, type Spawned } from '../support/relayHarness.js';

let ctx: AdapterContext;
let relayDir: string;
beforeEach(() => {
  ctx = createAdapterContext();
  relayDir = path.join(ctx.workdir, 'relay');
});
afterEach(async () => {
  await ctx.cleanup();
});

/** `relay-dap run -- TEXT` (marked) as another client; resolves once its output shows `firstLine`. */
async function runByAnotherClient(text: string, firstLine: string): Promise<Spawned> {
  const run = relayDap(['run', '--relay-dir', relayDir, '--', ctx.mark(text)], {
    env: ctx.env,
    cwd: ctx.workdir,
  });
  let ended = false;
  void run.finished.then(() => (ended = true));
  await waitUntil(
    () => {
      if (ended) throw new Error(`relay-dap run ended early: ${run.stdout().toString()}${run.stderr()}`);
      return run.stdout().toString().includes(`${firstLine}\n`);
    },
    `the run client to print ${JSON.stringify(firstLine)}`,
    EVENT_TIMEOUT_MS,
  );
  return run;
}

/** initialize → attach → `initialized` → configurationDone; returns the attach response. */
async function attach(
  client: DapClient,
  args: Record<string, unknown>,
): Promise<DebugProtocol.AttachResponse> {
  const initialize = await client.request('initialize', DEFAULT_CLIENT_CAPS);
  expect(initialize.success).toBe(true);
  const attaching = client.request('attach', args, 60_000);
  await client.waitForEvent('initialized', undefined, EVENT_TIMEOUT_MS);
  const done = await client.request('configurationDone');
  expect(done.success).toBe(true);
  return attaching;
}

async function attached(text: string, firstLine: string): Promise<{ run: Spawned; adapter: StdioAdapter }> {
  await ctx.startRelayServer(relayDir);
  const run = await runByAnotherClient(text, firstLine);
  const adapter = ctx.spawnStdio();
  const response = await attach(adapter.client, { relayDir });
  expect(response.success, response.message).toBe(true);
  return { run, adapter };
}

function release(): void {
  fs.writeFileSync(path.join(ctx.workdir, 'go'), '');
}

const WAIT_FOR_GO = 'while [ ! -e go ]; do sleep 0.05; done';

describe('attach', () => {
  it('the running command is the one thread, its output is streamed from the beginning, and a `!CMD` is queued behind it; the session ends with the command’s code', async () => {
    const { run, adapter } = await attached(
      `echo "first line"; ${WAIT_FOR_GO}; echo "last line"; echo followed >> order.log; exit 3`,
      'first line',
    );
    const { client } = adapter;
    // Written before the session attached: it comes from the start of the command's log.
    await session.printed(client, 'first line\n');

    const threads = await client.request('threads');
    expect(threads.body.threads).toHaveLength(1);
    const thread = threads.body.threads[0]!;
    expect(thread.id).toBe(1);
    const id = /^job: attached: (\d{19}_\d+)$/.exec(thread.name)?.[1];
    expect(id, thread.name).toBeDefined();
    const [top] = await session.frames(client);
    expect(top).toMatchObject({ name: `running: command ${id}` });
    const listing = await client.request('source', {
      source: top!.source!,
      sourceReference: top!.source!.sourceReference!,
    });
    expect(listing.body.content).toContain(`# following command ${id}`);

    const { evaluating, evaluateSeq } = await evaluateQueued(
      client,
      '!echo console >> order.log; echo console-ran',
    );
    // The relay runs one command at a time: the followed one still waits for `go`.
    expect(isAnswered(client, evaluateSeq)).toBe(false);

    release();
    const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    // The result files belong to the client that submitted the command (Part A: it reads, then
    // deletes them). The session reads the code when it sees `.exit` before that client deletes
    // it; when it loses that race the code is gone, and the session reports 125 (relay lost).
    expect([3, 125]).toContain(exited.body.exitCode);
    const evaluated = await evaluating;
    expect(evaluated.success).toBe(true);
    expect(evaluated.body.result).toBe('exit 0');
    const other = await run.finished;
    expect(other.code).toBe(3);
    expect(other.stdout.toString()).toBe('first line\nlast line\n');
    // The console command ran after the followed one, in the relay server's workdir.
    expect(fs.readFileSync(path.join(ctx.workdir, 'order.log'), 'utf8')).toBe('followed\nconsole\n');
    await session.finishWith(ctx, adapter, { stdout: 'first line\nlast line\nconsole-ran\n' });
  });

  it('terminate cancels the command through the relay: the `run` client that started it sees `[cancelled]` and exits 130, and its processes are gone', async () => {
    const { run, adapter } = await attached('echo started; sleep 300', 'started');
    const { client } = adapter;
    await session.printed(client, 'started\n');
    expect(processesWithMarker(ctx.marker).length).toBeGreaterThan(0);

    const terminate = await client.request('terminate');
    expect(terminate.success).toBe(true);
    await session.runToEnd(client, 130);
    const other = await run.finished;
    expect(other.code).toBe(130);
    expect(other.stdout.toString()).toBe('started\n[cancelled]\n');
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    await session.finishWith(ctx, adapter, { stdout: 'started\n[cancelled]\n' });
  });

  it('disconnect leaves the command running (it belongs to whoever started it); its client still gets all of its output and its code', async () => {
    const { run, adapter } = await attached(`echo started; ${WAIT_FOR_GO}; echo finished; exit 5`, 'started');
    const { client } = adapter;
    await session.printed(client, 'started\n');
    const disconnect = await client.request('disconnect', {});
    expect(disconnect.success).toBe(true);
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(client.output('console')).toContain(
      `relay-dap: leaving the running command to the relay server in ${relayDir}`,
    );
    // The session ended without claiming an exit code for a command it did not end.
    const events = client.transcriptSummary().filter((line) => /event (exited|terminated)/.test(line));
    expect(events).toEqual(['← event terminated']);

    // Still running under its server, its own client still waiting.
    expect(processesWithMarker(ctx.marker).length).toBeGreaterThan(0);
    expect(run.child.exitCode).toBe(null);
    release();
    const other = await run.finished;
    expect(other.code).toBe(5);
    expect(other.stdout.toString()).toBe('started\nfinished\n');
    client.assertClean();
  });

  it('disconnect with terminateDebuggee cancels the command', async () => {
    const { run, adapter } = await attached('echo started; sleep 300', 'started');
    const { client } = adapter;
    await session.printed(client, 'started\n');
    const disconnect = await client.request('disconnect', { terminateDebuggee: true });
    expect(disconnect.success).toBe(true);
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    const other = await run.finished;
    expect(other.code).toBe(130);
    expect(other.stdout.toString()).toBe('started\n[cancelled]\n');
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    client.assertClean();
  });

  it('attach to a relay with nothing running is an error that says to use launch; to one with no server, an error that says so', async () => {
    await ctx.startRelayServer(relayDir);
    const idle = ctx.spawnStdio();
    const refused = await attach(idle.client, { relayDir });
    expect(refused.success).toBe(false);
    expect(errorId(refused)).toBe(ERR.WrongState);
    expect(refused.message).toContain(`nothing is running in ${relayDir}`);
    expect(refused.message).toContain('use launch');
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    await session.finish(ctx, idle);

    const nowhere = path.join(ctx.workdir, 'no-server');
    fs.mkdirSync(nowhere);
    const lonely = ctx.spawnStdio();
    const unavailable = await attach(lonely.client, { relayDir: nowhere, connectTimeout: 0.5 });
    expect(unavailable.success).toBe(false);
    expect(errorId(unavailable)).toBe(ERR.RelayUnavailable);
    expect(unavailable.message).toContain(nowhere);
    await session.finish(ctx, lonely);
  });
});
