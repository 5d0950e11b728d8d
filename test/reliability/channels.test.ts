/**
 * Channels (docs/relay-protocol.md, part D) when a side dies mid-stream: whichever side is
 * killed, and however (SIGKILL, shutdown), no process of the channel and no file of it is
 * left behind — with filesystem events, and over a polling relay as on a network filesystem.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelLeftovers, startChannelClient } from '../support/channelHarness.js';
import { finish, useRelayTestContext } from '../support/relayTestContext.js';
import { RelayClient } from '../../src/relay/client.js';
import {
  noChannelsLine,
  partA,
  processesWithMarker,
  runRelayDap,
  stopProcess,
  uniqueMarker,
  waitUntil,
} from '../support/relayHarness.js';
import { reliabilityRow } from './report.js';

const { ctx, relayDirs, servedRelay, serve, track } = useRelayTestContext();

type Killed = 'client' | 'server' | 'both' | 'server shutdown';

const MODES = [
  { title: 'filesystem events', serverArgs: [] as string[], pollMs: undefined },
  { title: 'polling every 50 ms', serverArgs: ['--poll', '50'], pollMs: 50 },
] as const;

describe('a channel whose side dies mid-stream leaves nothing behind', () => {
  for (const mode of MODES) {
    for (const killed of ['client', 'server', 'both', 'server shutdown'] as Killed[]) {
      it(`${killed} ${killed === 'server shutdown' ? '(SIGTERM)' : 'SIGKILLed'} while bytes flow, ${mode.title}`, async () => {
        const row = reliabilityRow(
          'fault',
          `channel: ${killed === 'server shutdown' ? 'relay server shut down (SIGTERM)' : `${killed === 'both' ? 'client and server' : killed} SIGKILLed`} mid-stream, ${mode.title}`,
        );
        const { relayDir } = await servedRelay(['--grace', '1', ...mode.serverArgs]);
        const server = ctx().servers[0]!;
        const marker = uniqueMarker();
        // A tree with a setsid escape, reading what the client keeps writing and echoing some.
        const client = track(
          startChannelClient(relayDir, 'hold', 0, {
            env: {
              ...ctx().env,
              TEXT: `export ${marker}=1; setsid sleep 300 & sleep 301 & cat | head -c 1000000000 | tail -c 1000000 >/dev/null`,
            },
            ...(mode.pollMs ? { pollMs: mode.pollMs } : {}),
          }),
        );
        await client.event('open', 60_000);
        await waitUntil(() => processesWithMarker(marker).length >= 5, 'the channel’s processes');
        // Bytes are flowing: chunks come and go in the channel's in/.
        const channelDir = path.join(relayDir, 'channel', fs.readdirSync(path.join(relayDir, 'channel'))[0]!);
        await waitUntil(
          () =>
            fs
              .readdirSync(path.join(channelDir, 'in'))
              .some((name) => /^\d+$/.test(name) && name !== '000000000000'),
          'chunks to flow',
        );
        const tree = processesWithMarker(marker).length;
        const began = performance.now();
        if (killed === 'client' || killed === 'both') client.child.kill('SIGKILL');
        if (killed === 'server' || killed === 'both') server.child.kill('SIGKILL');
        if (killed === 'server shutdown') server.child.kill('SIGTERM');
        await waitUntil(
          () =>
            processesWithMarker(marker).length === 0 &&
            channelLeftovers(relayDir).length === 0 &&
            // The announcement goes with its server (a killed one's watchdog withdraws it).
            fs.existsSync(path.join(relayDir, 'channels.ready')) === (killed === 'client'),
          'no process and no file of the channel',
          60_000,
          () =>
            `left: ${processesWithMarker(marker).join(' ')} ${channelLeftovers(relayDir).join(' ')}\nserver: ${server.stderr()}`,
        );
        const cleanMs = performance.now() - began;
        let said = '';
        if (killed === 'server' || killed === 'server shutdown') {
          // The client that lost its server says so, and ends.
          const result = await finish(client, 60_000, 'the channel client');
          const error = client.events().find((event) => event.event === 'error');
          expect(result.code).toBe(3);
          expect(error?.message).toMatch(/channel \d+_\d+ was removed from \S+ and its process stopped/);
          said = `; the client said: "${
            String(error?.message)
              .replace(/\d+_\d+/, 'ID')
              .replaceAll(relayDir, 'R')
              .split(':')[0]
          }…"`;
        }
        row.figure = `${tree} processes (a setsid escape among them) and every channel file gone ${(cleanMs / 1000).toFixed(1)} s after the kill${said}`;
      }, 180_000);
    }
  }

  it('server and its watchdog SIGKILLed: the next server stops the channel’s tree and removes its files', async () => {
    const row = reliabilityRow(
      'fault',
      'channel: server and its watchdog SIGKILLed, then a new server starts',
    );
    const { relayDir, workdir } = await servedRelay(['--grace', '1']);
    const server = ctx().servers[0]!;
    const marker = uniqueMarker();
    const client = track(
      startChannelClient(relayDir, 'hold', 0, {
        env: { ...ctx().env, TEXT: `export ${marker}=1; setsid sleep 300 & cat >/dev/null` },
      }),
    );
    await client.event('open', 60_000);
    await waitUntil(() => processesWithMarker(marker).length >= 3, 'the channel’s processes');
    const watchdogs = fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
          return cmdline.includes('read -r word') && cmdline.includes(`${relayDir}\0`);
        } catch {
          return false;
        }
      });
    expect(watchdogs).toHaveLength(1);
    process.kill(Number(watchdogs[0]), 'SIGKILL');
    client.child.kill('SIGKILL');
    server.child.kill('SIGKILL');
    await finish(client);
    await server.finished;
    expect(
      processesWithMarker(marker).length,
      'the channel’s processes, with nobody to stop them',
    ).toBeGreaterThan(0);
    const left = channelLeftovers(relayDir).length;
    expect(left).toBeGreaterThan(0);
    const began = performance.now();
    await serve(relayDir, workdir, ['--grace', '1']);
    await waitUntil(
      () => processesWithMarker(marker).length === 0 && channelLeftovers(relayDir).length === 0,
      'the new server to settle the channel',
      60_000,
    );
    row.figure = `${left} channel files and the tree (a setsid escape among it) gone ${((performance.now() - began) / 1000).toFixed(1)} s after the new server started`;
  }, 180_000);
});

describe('a channel asked of a server that does not open them', () => {
  it('a Part-A shell server: relay-dap shell and the client library refuse at once, in one line naming the server and the fix', async () => {
    const row = reliabilityRow(
      'fault',
      'channel asked of a Part-A shell server (no channels): refused in one line, the server serves on',
    );
    const { relayDir, workdir } = relayDirs();
    const server = track(partA(['--relay-dir', relayDir, '--workdir', workdir, 'serve'], { env: ctx().env }));
    await waitUntil(() => fs.existsSync(path.join(relayDir, 'server.ready')), 'the Part-A server');
    const said = noChannelsLine(relayDir, server.child.pid!);
    let began = performance.now();
    const shell = await runRelayDap(['shell', '--relay-dir', relayDir], { env: ctx().env });
    const shellMs = performance.now() - began;
    expect(shell.code).toBe(1);
    expect(shell.stderr.trim().split('\n')).toHaveLength(1);
    expect(shell.stderr.trim()).toMatch(said);

    const client = await RelayClient.open({ relayDir, handshakeTimeoutMs: 20_000 });
    try {
      began = performance.now();
      const refused = await client.openChannel({ text: 'true' }).then(
        () => undefined,
        (error: Error) => error,
      );
      const libraryMs = performance.now() - began;
      expect(refused?.message).toMatch(said);
      const command = client.submit('echo served');
      expect((await command.exit).exitCode).toBe(0);
      row.figure = `relay-dap shell: exit 1 after ${(shellMs / 1000).toFixed(2)} s (one line on stderr); openChannel refused after ${libraryMs.toFixed(0)} ms; a command queued after it ran (exit 0)`;
    } finally {
      await client.close();
      await stopProcess(server);
    }
  }, 120_000);
});
