/**
 * Channels (docs/relay-protocol.md, part D): a byte stream between a client and a process the
 * relay server starts, through files in the relay directory. Real servers, real clients in
 * processes of their own, real bash.
 */
import { finished } from 'node:stream/promises';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RelayClient } from '../../src/relay/client.js';
import { CHUNK_BYTES, WINDOW_CHUNKS } from '../../src/relay/channelStream.js';
import { channelLeftovers, peakRssMiB, startChannelClient } from '../support/channelHarness.js';
import { finish, useRelayTestContext } from '../support/relayTestContext.js';
import {
  partA,
  processesWithMarker,
  readIf,
  runRelayDap,
  stopProcess,
  uniqueMarker,
  waitUntil,
} from '../support/relayHarness.js';

const { ctx, relayDirs, servedRelay, track } = useRelayTestContext();

/** A direction's files never exceed its window; both directions together, with slack for the small files. */
const DIRECTORY_BOUND = 2 * WINDOW_CHUNKS * CHUNK_BYTES + 64 * 1024;
/** A Node process carrying 100 MB each way holds it in flight, not in memory: far below 100 MB over its baseline. */
const MEMORY_BOUND_MIB = 140;

describe('a channel', () => {
  it('carries 100 MB each way through cat with the same sha256, in bounded memory and directory space', async () => {
    const { relayDir } = await servedRelay();
    const server = ctx().servers[0]!;
    const client = track(startChannelClient(relayDir, 'echo', 100, { env: ctx().env }));
    const done = await client.event('done', 180_000);
    const measured = await client.event('measured');
    expect(done.exit).toEqual({ exitCode: 0, signal: null, cancelled: false });
    expect(done.receivedBytes).toBe(100 * 1024 * 1024);
    expect(done.received).toBe(done.sent);
    expect(measured.maxDirBytes as number, 'bytes under channel/ at most').toBeLessThanOrEqual(
      DIRECTORY_BOUND,
    );
    expect((measured.peakRssKb as number) / 1024, 'client peak RSS, MiB').toBeLessThan(MEMORY_BOUND_MIB);
    expect(peakRssMiB(server.child.pid!), 'server peak RSS, MiB').toBeLessThan(MEMORY_BOUND_MIB);
    expect((await finish(client)).code).toBe(0);
    await waitUntil(() => channelLeftovers(relayDir).length === 0, 'the channel files to go');
  }, 240_000);

  it('over a polling relay (as on a network filesystem) carries 20 MB each way intact, within the same bounds', async () => {
    const { relayDir } = await servedRelay(['--poll', '50']);
    const client = track(startChannelClient(relayDir, 'echo', 20, { env: ctx().env, pollMs: 50 }));
    const done = await client.event('done', 180_000);
    const measured = await client.event('measured');
    expect(done.exit).toEqual({ exitCode: 0, signal: null, cancelled: false });
    expect(done.receivedBytes).toBe(20 * 1024 * 1024);
    expect(done.received).toBe(done.sent);
    expect(measured.maxDirBytes as number).toBeLessThanOrEqual(DIRECTORY_BOUND);
    expect((await finish(client)).code).toBe(0);
    await waitUntil(() => channelLeftovers(relayDir).length === 0, 'the channel files to go');
  }, 240_000);

  it('whose reader stalls blocks the process writing it: the directory stays bounded and nothing is lost', async () => {
    const { relayDir } = await servedRelay();
    const client = track(
      startChannelClient(relayDir, 'stall-read', 64, { env: { ...ctx().env, STALL_MS: '4000' } }),
    );
    await client.event('open');
    // The window fills, and stays full while nobody reads: the process is blocked on its write.
    await waitUntil(() => fs.readdirSync(path.join(relayDir, 'channel')).length === 1, 'the channel');
    const outDir = path.join(relayDir, 'channel', fs.readdirSync(path.join(relayDir, 'channel'))[0]!, 'out');
    await waitUntil(() => (readIfDir(outDir)?.length ?? 0) >= WINDOW_CHUNKS, 'the window to fill');
    const stalled = await client.event('stalled');
    expect(readIfDir(outDir)!.filter((name) => /^\d+$/.test(name)).length).toBeLessThanOrEqual(WINDOW_CHUNKS);
    expect(stalled.maxDirBytes as number).toBeLessThanOrEqual(DIRECTORY_BOUND);
    const done = await client.event('done');
    expect(done.receivedBytes).toBe(64 * 1024 * 1024);
    expect(done.exit).toEqual({ exitCode: 0, signal: null, cancelled: false });
    expect(peakRssMiB(ctx().servers[0]!.child.pid!)).toBeLessThan(MEMORY_BOUND_MIB);
  }, 120_000);

  it('to a process that does not read blocks its writer instead of filling the directory', async () => {
    const { relayDir } = await servedRelay();
    const client = track(
      startChannelClient(relayDir, 'stall-write', 64, { env: { ...ctx().env, STALL_MS: '4000' } }),
    );
    const done = await client.event('done');
    const measured = await client.event('measured');
    expect(done.blocked).toBe(true);
    expect(done.output).toBe(String(64 * 1024 * 1024));
    expect(measured.maxDirBytes as number).toBeLessThanOrEqual(DIRECTORY_BOUND);
    expect((measured.peakRssKb as number) / 1024).toBeLessThan(MEMORY_BOUND_MIB);
  }, 120_000);

  it('cancelled stops its whole process tree (a setsid escape too), ends with 130 and leaves no file', async () => {
    const { relayDir } = await servedRelay(['--grace', '1']);
    const client = await RelayClient.open({ relayDir });
    try {
      // Not the context's marker: the server carries that one too.
      const marker = uniqueMarker();
      const channel = await client.openChannel({
        text: `export ${marker}=1; sleep 301 & setsid sleep 302 & echo started; cat`,
      });
      let output = '';
      channel.on('data', (data: Buffer) => (output += data.toString()));
      await waitUntil(() => output.includes('started'), 'the channel process to start');
      await waitUntil(() => processesWithMarker(marker).length >= 3, 'its three processes');
      channel.cancel();
      const exit = await channel.exit;
      expect(exit).toMatchObject({ exitCode: 130, cancelled: true });
      expect(processesWithMarker(marker)).toEqual([]);
      expect(channelLeftovers(relayDir)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('gets its env and cwd, runs beside a queued command, and ends its stdin when the client ends', async () => {
    const { relayDir, workdir } = await servedRelay();
    fs.mkdirSync(path.join(workdir, 'sub'));
    const client = await RelayClient.open({ relayDir });
    try {
      // A command that runs until the channel has spoken: they run at once, not one after the other.
      const flag = path.join(workdir, 'channel-ran');
      const command = client.submit(`while [ ! -e ${flag} ]; do sleep 0.05; done; echo command-done`);
      const channel = await client.openChannel({
        text: `pwd; echo "$GREETING"; touch ${flag}; wc -c`,
        cwd: 'sub',
        env: { GREETING: 'hello from far' },
      });
      let output = '';
      channel.on('data', (data: Buffer) => (output += data.toString()));
      channel.end('12345');
      expect(await channel.exit).toEqual({ exitCode: 0, signal: null, cancelled: false });
      expect(output).toBe(`${path.join(workdir, 'sub')}\nhello from far\n5\n`);
      expect((await command.exit).exitCode).toBe(0);
      expect(channelLeftovers(relayDir)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('with stderr kept for exit carries only stdout, and gives the end of stderr with the exit code', async () => {
    const { relayDir } = await servedRelay();
    const client = await RelayClient.open({ relayDir });
    try {
      const channel = await client.openChannel({ text: 'echo out; echo err >&2; exit 5', stderr: 'exit' });
      let output = '';
      channel.on('data', (data: Buffer) => (output += data.toString()));
      expect(await channel.exit).toEqual({ exitCode: 5, signal: null, cancelled: false, stderr: 'err\n' });
      expect(output).toBe('out\n');
    } finally {
      await client.close();
    }
  });

  it('still open when its client is closed is cancelled: no process, no file', async () => {
    const { relayDir } = await servedRelay(['--grace', '1']);
    const marker = uniqueMarker();
    const client = await RelayClient.open({ relayDir });
    const channel = await client.openChannel({ text: `export ${marker}=1; sleep 300` });
    channel.resume();
    await waitUntil(() => processesWithMarker(marker).length > 0, 'the channel process');
    await client.close();
    const exit = await channel.exit;
    expect(exit).toMatchObject({ exitCode: 130, cancelled: true });
    expect(processesWithMarker(marker)).toEqual([]);
    expect(channelLeftovers(relayDir)).toEqual([]);
  });

  it('that cannot start (a cwd that is not there) says why, with 127', async () => {
    const { relayDir } = await servedRelay();
    const client = await RelayClient.open({ relayDir });
    try {
      const channel = await client.openChannel({ text: 'true', cwd: 'missing' });
      channel.resume();
      const exit = await channel.exit;
      expect(exit.exitCode).toBe(127);
      expect(exit.reason).toMatch(/working directory .*missing.* does not exist/);
    } finally {
      await client.close();
    }
  });
});

describe('relay-dap status', () => {
  it('lists each open channel: id, age, process, its client alive and its lease, bytes not yet taken each way; never its text', async () => {
    const { relayDir } = await servedRelay();
    const secret = `not-for-status-${uniqueMarker()}`;
    // A process that never reads its input, fed until the window is full: bytes wait to go in.
    const feeding = track(
      startChannelClient(relayDir, 'hold', 0, {
        env: { ...ctx().env, TEXT: `echo ${secret} >/dev/null; sleep 300` },
      }),
    );
    // A client that reads nothing while its process writes 256 KiB (within the window) and
    // ends: bytes wait to come out, and so does the end.
    const stalled = track(
      startChannelClient(relayDir, 'stall-read', 0.25, { env: { ...ctx().env, STALL_MS: '300000' } }),
    );
    const fed = String((await feeding.event('open')).id);
    const unread = String((await stalled.event('open')).id);
    const status = async (...args: string[]) => {
      const run = await runRelayDap(['status', '--relay-dir', relayDir, ...args], { env: ctx().env });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.toString() + run.stderr).not.toContain(secret);
      return run.stdout.toString();
    };
    const line = (text: string, id: string) => text.split('\n').find((each) => each.startsWith(`  ${id}: `));
    let text = '';
    await waitUntil(
      async () => {
        text = await status();
        return (
          / 256 KiB from it$/.test(line(text, unread) ?? '') &&
          !/ 0 bytes to the process/.test(line(text, fed) ?? '')
        );
      },
      'status to show the bytes waiting',
      60_000,
      () => text,
    );
    const lines = text.trimEnd().split('\n');
    // Part A's four lines, as they were, then the channels in id order.
    expect(lines.slice(0, 5).map((each) => each.split(':')[0])).toEqual([
      'Server',
      'Handshake',
      'Running',
      'Pending commands',
      'Open channels',
    ]);
    expect(lines[4]).toBe('Open channels: 2');
    expect(lines.slice(5)).toEqual([line(text, fed), line(text, unread)].sort());
    const shape = (state: string, pid: number) =>
      new RegExp(
        `^  \\d{19}_\\d+: ${state} \\d+(\\.\\d)? s, process \\d+; client [^ ]+:${pid} \\(running\\), lease renewed \\d+(\\.\\d)? s ago; not yet taken: `,
      );
    expect(line(text, fed)).toMatch(shape('open', feeding.child.pid!));
    expect(line(text, fed)).toMatch(/not yet taken: \d+(\.\d)? (KiB|MiB) to the process, 0 bytes from it$/);
    expect(line(text, unread)).toMatch(
      shape('ended \\(its client has not read all of it yet\\), open', stalled.child.pid!),
    );
    expect(line(text, unread)).toMatch(/not yet taken: 0 bytes to the process, 256 KiB from it$/);

    const json = JSON.parse(await status('--json')) as { channels: Record<string, unknown>[] };
    expect(json.channels.map((channel) => channel.id)).toEqual([fed, unread].sort());
    const stalledChannel = json.channels.find((channel) => channel.id === unread)!;
    expect(stalledChannel).toMatchObject({
      state: 'ended',
      pid: expect.any(Number) as number,
      client: { pid: stalled.child.pid, alive: true },
      leaseAgeMs: expect.any(Number) as number,
      pendingBytes: { toProcess: 0, fromProcess: 256 * 1024 },
    });
    expect(Date.parse(String(stalledChannel.openedAt))).toBeGreaterThan(0);
  }, 120_000);
});

describe('a server that does not open channels', () => {
  it('a Part-A shell server: the client says so in one line, and the server never runs anything of the channel', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = track(partA(['--relay-dir', relayDir, '--workdir', workdir, 'serve'], { env: ctx().env }));
    await waitUntil(() => fs.existsSync(path.join(relayDir, 'server.ready')), 'the Part-A server');
    // A channel directory as our client would leave it, planted by hand: a Part-A server never looks there.
    const planted = path.join(workdir, 'planted');
    const channel = path.join(relayDir, 'channel', '1700000000000000000_1');
    fs.mkdirSync(path.join(channel, 'in'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(channel, 'request'), JSON.stringify({ text: `touch ${planted}` }));
    fs.writeFileSync(path.join(channel, 'in', '000000000000'), `touch ${planted}\n`);
    const client = await RelayClient.open({ relayDir, handshakeTimeoutMs: 20_000 });
    try {
      const refused = await client.openChannel({ text: 'true' }).then(
        () => undefined,
        (error: Error & { code?: string }) => error,
      );
      expect(refused?.message).toMatch(/does not open channels \(a Part-A shell server\)/);
      expect(refused?.message).toContain(`relay-dap serve --relay-dir ${relayDir}`);
      expect((refused as { code?: string }).code).toBe('NO_CHANNELS');
      // The server still serves commands, and never ran the planted one.
      const command = client.submit('echo still-serving');
      let output = '';
      command.output.on('data', (data: Buffer) => (output += data.toString()));
      expect((await command.exit).exitCode).toBe(0);
      // The exit can be known before the last output is read: the stream's end says it all came.
      await finished(command.output);
      expect(output).toBe('still-serving\n');
      expect(fs.existsSync(planted)).toBe(false);
      expect(readIf(path.join(channel, 'request'))).toContain('touch');
    } finally {
      await client.close();
      await stopProcess(server);
    }
  });

  it('relay-dap shell against a Part-A server exits 1 with that one line', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = track(partA(['--relay-dir', relayDir, '--workdir', workdir, 'serve'], { env: ctx().env }));
    await waitUntil(() => fs.existsSync(path.join(relayDir, 'server.ready')), 'the Part-A server');
    const result = await runRelayDap(['shell', '--relay-dir', relayDir], { env: ctx().env });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/does not open channels \(a Part-A shell server\)/);
    await stopProcess(server);
  });
});

function readIfDir(dir: string): string[] | undefined {
  try {
    return fs.readdirSync(dir);
  } catch {
    return undefined;
  }
}
