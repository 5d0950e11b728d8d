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
import {
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  stableSummary,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { DapClient, DapFrameParser, encodeDapFrame } from '../support/dapClient.js';
import { dapSchemaStatus, schemaNote } from '../support/dapSchema.js';
import { processesWithMarker, relayDapBin } from '../support/relayHarness.js';

const ctx = useAdapterContext();

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

describe.skipIf(!dapSchemaStatus.available)(`how sessions end with real editors' habits${schemaNote}`, () => {
  it('TCP (nvim-dap closes the session on `terminated`): disconnect is answered before exited 130 and terminated', async () => {
    const adapter = await ctx.spawnTcp(['--server=0']);
    const client = await adapter.connect();
    await launchAndConfigure(client, { command: ctx.mark('touch ran') });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    const response = await client.request('disconnect', { terminateDebuggee: true });
    expect(response.success).toBe(true);
    await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await client.closed;
    expect(stableSummary(client).slice(-5)).toEqual([
      '→ request 4 disconnect',
      '← event output [console] "relay-dap: cancelling: disconnect request\\n"',
      '← response 4 disconnect ok',
      '← event exited (exitCode 130)',
      '← event terminated',
    ]);
    expect(fs.existsSync(`${ctx.workdir}/ran`)).toBe(false);
    client.assertClean();
  });

  it('stdio, a client that kills the adapter’s group on `exited` (dap-mode): the job’s end finds the relay already cleaned up', async () => {
    const { client, adapter, killed } = spawnLikeDapMode();
    ctx.expectViolations(client, 'the client kills the adapter as soon as it reads exited');
    await launchAndConfigure(client, { command: ctx.mark('echo done'), stopOnEntry: false });
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
    await launchAndConfigure(client, { command: ctx.mark('touch ran') });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
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
    const stdio = ctx.spawnStdio();
    const { client, child } = stdio;
    await launchAndConfigure(client, { command: ctx.mark('echo hi') });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
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
    expect(stableSummary(client).slice(-3)).toEqual([
      '← response 4 disconnect ok',
      '← event exited (exitCode 130)',
      '← event terminated',
    ]);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
  });
});
