// How a session ends with the clients editors really are (issue 12): nvim-dap closes a session
// on `terminated` and spawns `relay-dap --server=${port}` without ever killing it; dap-mode
// kills the adapter's process group as soon as it reads `exited`; vimspector handles the
// adapter's exit before it reads the rest of its pipe. Each is played here by a real client
// process against the adapter as a real process, over real stdio and TCP.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import { DapClient, DapFrameParser, encodeDapFrame } from '../support/dapClient.js';
import { processesWithMarker, relayDapBin, waitUntil } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();

function isAlive(pid: number): boolean {
  return (
    fs.existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  );
}

/** The exit of a child, whenever it comes. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * dap-mode over stdio: the adapter in its own process group, and a client that stops reading at
 * `exited` and SIGKILLs that group (Emacs' delete-process), so that whatever follows `exited` is
 * lost — even in the same read.
 */
function spawnLikeDapMode(): { client: DapClient; adapter: ChildProcess; killed: Promise<void> } {
  const adapter = spawn(process.execPath, [relayDapBin], {
    cwd: ctx.workdir,
    env: ctx.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const parser = new DapFrameParser();
  const seen = new PassThrough();
  let resolveKilled!: () => void;
  const killed = new Promise<void>((resolve) => (resolveKilled = resolve));
  let reading = true;
  adapter.stdout.on('data', (chunk: Buffer) => {
    for (const item of parser.push(chunk)) {
      if (!reading || item.kind !== 'message') continue;
      seen.write(encodeDapFrame(item.message));
      const message = item.message as DebugProtocol.Event;
      if (message.type === 'event' && message.event === 'exited') {
        reading = false;
        process.kill(-adapter.pid!, 'SIGKILL');
        seen.end();
        resolveKilled();
      }
    }
  });
  // The client reads the filtered stream, as if it were the adapter's stdout.
  const asChild = Object.assign(new EventEmitter(), {
    stdin: adapter.stdin,
    stdout: seen,
    stderr: adapter.stderr,
    pid: adapter.pid,
  }) as unknown as ChildProcess;
  adapter.once('exit', (...args) => asChild.emit('exit', ...args));
  return { client: DapClient.overStdio(asChild), adapter, killed };
}

describe("how sessions end with real editors' habits", () => {
  it('TCP (nvim-dap closes the session on `terminated`): disconnect is answered before exited 130 and terminated', async () => {
    const adapter = await ctx.spawnTcp(['--server=0']);
    const client = await adapter.connect();
    await harness.launchAndConfigure(client, { command: ctx.mark('touch ran') });
    await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    const response = await client.request('disconnect', { terminateDebuggee: true });
    expect(response.success).toBe(true);
    await client.waitForEvent('terminated', undefined, harness.EVENT_TIMEOUT_MS);
    await client.closed;
    expect(harness.stableSummary(client).slice(-5)).toEqual(harness.DISCONNECTED_WHILE_PAUSED);
    expect(fs.existsSync(`${ctx.workdir}/ran`)).toBe(false);
    client.assertClean();
  });

  it('--exit-with-client, spawned as nvim-dap does: after its session is disconnected the adapter exits and frees its port', async () => {
    const port = await harness.freePort();
    // nvim-dap: `relay-dap --server=${port} --exit-with-client`, detached, then connect.
    const adapter = spawn(process.execPath, [relayDapBin, `--server=${port}`, '--exit-with-client'], {
      cwd: ctx.workdir,
      env: ctx.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const exited = exitOf(adapter);
    let stdout = '';
    adapter.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await waitUntil(
      () => stdout.includes(`listening on 127.0.0.1:${port}`),
      'the adapter to listen',
      harness.EVENT_TIMEOUT_MS,
    );
    const client = await DapClient.connectTcp(port);
    await harness.launchAndConfigure(client, { command: ctx.mark('echo spawned') });
    await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    await client.request('continue', { threadId: 1 });
    await client.waitForEvent('terminated', undefined, harness.EVENT_TIMEOUT_MS);
    expect((await client.request('disconnect', {})).success).toBe(true);
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(await harness.portIsFree(port)).toBe(true);
    expect(processesWithMarker(ctx.adapterMarker)).toEqual([]);
    client.assertClean();
  });

  it('--exit-with-client: the adapter exits when the process that started it is gone, with no session ever', async () => {
    // The editor (here: bash) starts the adapter and dies without a word (SIGKILL).
    const editor = spawn(
      'bash',
      [
        '-c',
        `"$0" "$1" --server=0 --exit-with-client >listening 2>&1 & echo $!; wait`,
        process.execPath,
        relayDapBin,
      ],
      { cwd: ctx.workdir, env: ctx.env, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let out = '';
    editor.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await waitUntil(() => /^\d+\n/.test(out), 'the adapter’s pid', harness.EVENT_TIMEOUT_MS);
    const pid = Number(out.trim());
    const listening = (): string => fs.readFileSync(`${ctx.workdir}/listening`, 'utf8');
    await waitUntil(
      () => listening().includes('listening on'),
      'the adapter to listen',
      harness.EVENT_TIMEOUT_MS,
    );
    editor.kill('SIGKILL');
    await waitUntil(() => !isAlive(pid), 'the adapter to exit after its parent', harness.EVENT_TIMEOUT_MS);
  });

  it('stdio, a client that kills the adapter’s group on `exited` (dap-mode): the job’s end finds the relay already cleaned up', async () => {
    const { client, adapter, killed } = spawnLikeDapMode();
    ctx.expectViolations(client, 'the client kills the adapter as soon as it reads exited');
    await harness.launchAndConfigure(client, { command: ctx.mark('echo done'), stopOnEntry: false });
    await killed;
    expect(await exitOf(adapter)).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing was left for the kill to interrupt: no relay directory, no watchdog, no step.
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    expect(processesWithMarker(ctx.adapterMarker)).toEqual([]);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    expect(client.output('stdout')).toBe('done\n');
  });

  it('stdio, a client that kills the adapter’s group on `exited` (dap-mode): Stop while paused still gets its disconnect answered', async () => {
    const { client, adapter, killed } = spawnLikeDapMode();
    ctx.expectViolations(client, 'the client kills the adapter as soon as it reads exited');
    await harness.launchAndConfigure(client, { command: ctx.mark('touch ran') });
    await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    const disconnect = client.request('disconnect', { restart: false }).catch((error: Error) => error);
    await killed;
    const response = await disconnect;
    expect(response, 'the disconnect response was lost').not.toBeInstanceOf(Error);
    expect((response as DebugProtocol.Response).success).toBe(true);
    await exitOf(adapter);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    expect(processesWithMarker(ctx.adapterMarker)).toEqual([]);
    expect(fs.existsSync(`${ctx.workdir}/ran`)).toBe(false);
  });

  it('stdio, a client that stops reading when the adapter exits (vimspector): after disconnect the adapter waits for its stdin to close', async () => {
    const stdio = await ctx.runJob({ command: ctx.mark('echo hi') });
    const { client, child } = stdio;
    await client.waitForEvent('stopped', undefined, harness.EVENT_TIMEOUT_MS);
    // Read nothing more until the adapter has exited, or a moment has passed (as a client busy
    // elsewhere would): then whatever it sent must still be readable by a live conversation.
    child.stdout!.pause();
    const disconnect = client.request('disconnect', {});
    const exitedEarly = await Promise.race([
      exitOf(child).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 300)),
    ]);
    expect(exitedEarly, 'the adapter exited while its client still had its stdin open').toBe(false);
    child.stdout!.resume();
    expect((await disconnect).success).toBe(true);
    // Everything read (the adapter ended its stdout), the client closes its side: now it exits.
    await client.closed;
    client.end();
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(harness.stableSummary(client).slice(-3)).toEqual([
      '← response 4 disconnect ok',
      '← event exited (exitCode 130)',
      '← event terminated',
    ]);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
  });
});
