/**
 * A debug session that ends with a terminal open (`!!`): whichever way it ends, the far side's
 * shell and its pty helper do not outlive it. The adapter is not the terminal's parent (the
 * editor starts it), so what ties them is the relay directory: the session's lease there, and
 * the embedded relay's own end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { answerRunInTerminal, farShellPids, type Terminal } from '../support/ptyTerminal.js';
import { waitUntil } from '../support/relayHarness.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();
const terminals: Terminal[] = [];
afterEach(() => {
  for (const terminal of terminals.splice(0)) terminal.child.kill('SIGKILL');
});

const alive = (pid: number): boolean => fs.existsSync(`/proc/${pid}`);
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

describe('a session closed with a terminal open', () => {
  it('leaves no process on the far side: disconnect and adapter SIGKILL, with a relay server and with the embedded relay', async () => {
    const row = reliabilityRow(
      'fault',
      'a debug session ended with a `!!` terminal open (disconnect, or SIGKILL of the adapter; a relay server, or the embedded relay): the far shell and its pty helper end, the local terminal exits',
    );
    const program = session.writeOneJobWorkflow(ctx.workdir, 'terminal.yml', [
      '    steps:',
      '      - run: echo never runs',
    ]);
    const figures: string[] = [];
    const cases = [
      { relay: 'relay server', end: 'disconnect' },
      { relay: 'relay server', end: 'SIGKILL' },
      { relay: 'embedded', end: 'disconnect' },
      { relay: 'embedded', end: 'SIGKILL' },
    ] as const;
    for (const [index, { relay, end }] of cases.entries()) {
      let relayDir: string | undefined;
      if (relay === 'relay server') {
        relayDir = path.join(ctx.tmp, `relay-${index}`);
        await ctx.startRelayServer(relayDir);
      }
      const { adapter, client } = await session.runUntilStop(
        ctx,
        'entry',
        { program, cwd: ctx.workdir, ...(relayDir !== undefined ? { relayDir } : {}) },
        { caps: { supportsRunInTerminalRequest: true } },
      );
      const answer = client.request('evaluate', { expression: '!!', context: 'repl' }, 60_000);
      const { terminal } = await answerRunInTerminal(client, ctx.env, ctx.tmp);
      terminals.push(terminal);
      expect((await answer).success).toBe(true);
      const pids = await farShellPids(terminal);
      const began = performance.now();
      if (end === 'disconnect') await session.finish(ctx, adapter);
      else adapter.child.kill('SIGKILL');
      await waitUntil(() => !pids.some(alive), `${relay}, ${end}: the far shell to end`, 30_000);
      const farMs = performance.now() - began;
      const closed = await terminal.finished;
      figures.push(
        `${relay}, ${end}: far shell gone after ${seconds(farMs)}, terminal exited ${closed.code} after ${seconds(performance.now() - began)}`,
      );
    }
    row.figure = figures.join('; ');
  });
});
