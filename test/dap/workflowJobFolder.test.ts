// The job folder a workflow's steps use on the far side of the relay (RUNNER_TEMP: step scripts,
// GITHUB_ENV files) when the adapter is SIGKILLed while paused: it records its adapter, and the
// next workflow job made through a relay removes it once that adapter is dead. Real adapters over
// stdio, the embedded relay and a `relay-dap serve` (the far side that outlives an adapter), real
// bash; the folders are looked at in the TMPDIR both sides use.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assertResponsesMatchRequests, useAdapterContext, waitForExit } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { OTHER_UID, otherUser } from '../support/otherUser.js';
import { waitUntil } from '../support/relayHarness.js';
import { processStartEpochMs } from '../../src/relay/processTree.js';

const ctx = useAdapterContext();

const WORKFLOW = `name: Folder check
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - name: Keep state in the job's temp
        run: echo state > "$RUNNER_TEMP/state.txt"
      - name: Second
        run: echo second
      - name: Third
        run: echo third
`;

const RECORD = 'relay-dap-owner';

function jobFolders(): string[] {
  return fs
    .readdirSync(ctx.tmp)
    .filter((name) => name.startsWith('relay-dap-job.'))
    .sort();
}

/** A folder as an adapter leaves it, holding `record` (omitted: a folder without one). */
function plantFolder(name: string, record?: string): string {
  const folder = path.join(ctx.tmp, name);
  fs.mkdirSync(folder, { mode: 0o700 });
  if (record !== undefined) fs.writeFileSync(path.join(folder, RECORD), `${record}\n`);
  fs.writeFileSync(path.join(folder, 'step-1'), 'echo kept\n');
  return folder;
}

/** A pid of this host that no process has now (a child that has exited). */
function deadPid(): number {
  return spawnSync('true').pid;
}

/** Launches the workflow, pauses at step 2 (step 1 has run), SIGKILLs the adapter; returns its folder. */
async function killedWhilePaused(program: string, extra: Record<string, unknown>): Promise<string> {
  const before = new Set(jobFolders());
  const adapter = await ctx.runJob({ program, cwd: ctx.workdir, stopOnEntry: true, ...extra });
  const { client } = adapter;
  ctx.expectViolations(client, 'the adapter is SIGKILLed while paused: no exited or terminated');
  await session.stoppedAt(client, 'entry');
  expect((await client.request('next', { threadId: 1 })).success).toBe(true);
  await session.stoppedAt(client, 'step');
  const made = jobFolders().filter((name) => !before.has(name));
  expect(made).toHaveLength(1);
  const folder = path.join(ctx.tmp, made[0]!);
  expect(fs.readFileSync(path.join(folder, 'state.txt'), 'utf8')).toBe('state\n');
  // `host:pid:start`: the adapter's, with its start time as /proc gives it (to a clock tick).
  const [host, pid, started] = fs.readFileSync(path.join(folder, RECORD), 'utf8').trim().split(':');
  expect([host, Number(pid)]).toEqual([os.hostname(), adapter.child.pid]);
  expect(Math.abs(Number(started) - processStartEpochMs(adapter.child.pid!)!)).toBeLessThan(1000);
  adapter.child.kill('SIGKILL');
  expect(await waitForExit(adapter)).toEqual({ code: null, signal: 'SIGKILL' });
  return folder;
}

/** Runs the workflow to its end through a new adapter and disconnects. */
async function runAgain(program: string, extra: Record<string, unknown>): Promise<void> {
  const adapter = await ctx.runJob({ program, cwd: ctx.workdir, stopOnEntry: false, ...extra });
  const { client } = adapter;
  expect(await session.stepResultsAtEnd(client, 0)).toEqual([
    "✓ Keep state in the job's temp: exit 0, T s",
    '✓ Second: exit 0, T s',
    '✓ Third: exit 0, T s',
  ]);
  expect((await client.request('disconnect', {})).success).toBe(true);
  expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
  assertResponsesMatchRequests(client);
  client.assertClean();
}

describe('the job folder of an adapter killed while paused', () => {
  it('is removed by the next workflow launch (embedded relay and a relay server); folders of live adapters, of other hosts, without a record, and links stay', async () => {
    const program = session.writeFile(ctx.workdir, '.github/workflows/folder.yml', WORKFLOW);
    const relayDir = path.join(ctx.workdir, '.relay');
    await ctx.startRelayServer(relayDir);

    // Killed with the embedded relay: its watchdog removes the relay, and the job folder, with
    // the step scripts and the files the steps wrote, stays until a next launch.
    const embedded = await killedWhilePaused(program, {});
    await waitUntil(
      () => fs.readdirSync(ctx.tmp).every((name) => !/^relay-dap-(?!job\.)/.test(name)),
      'the embedded relay’s watchdog to remove the relay',
      15_000,
    );
    expect(fs.existsSync(embedded)).toBe(true);
    const deadRecord = fs.readFileSync(path.join(embedded, RECORD), 'utf8').trim();

    // The next launch, through a relay server (which outlives its adapter, as one in a container
    // does), removes it when it makes its own folder; then that adapter is killed too.
    const served = await killedWhilePaused(program, { relayDir });
    expect(fs.existsSync(embedded)).toBe(false);
    expect(fs.existsSync(served)).toBe(true);

    const live = plantFolder(
      'relay-dap-job.Live0001',
      `${os.hostname()}:${process.pid}:${processStartEpochMs(process.pid)}`,
    );
    const elsewhere = plantFolder('relay-dap-job.Else0001', `build-node-7:${deadPid()}:1`);
    const unrecorded = plantFolder('relay-dap-job.Old00001');
    const victim = plantFolder('victim', deadRecord);
    fs.symlinkSync(victim, path.join(ctx.tmp, 'relay-dap-job.Link0001'));

    await runAgain(program, { relayDir });

    expect(fs.existsSync(served)).toBe(false);
    expect(jobFolders()).toEqual([
      path.basename(elsewhere),
      'relay-dap-job.Link0001',
      path.basename(live),
      path.basename(unrecorded),
    ]);
    expect(fs.readlinkSync(path.join(ctx.tmp, 'relay-dap-job.Link0001'))).toBe(victim);
    expect(fs.readdirSync(victim).sort()).toEqual([RECORD, 'step-1']);
    for (const kept of [live, elsewhere, unrecorded])
      expect(fs.existsSync(path.join(kept, 'step-1'))).toBe(true);
  });

  it.skipIf(!otherUser.ok)(
    `a folder of another user (uid ${OTHER_UID}) naming a dead adapter of this host stays${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const program = session.writeFile(ctx.workdir, '.github/workflows/folder.yml', WORKFLOW);
      const theirs = plantFolder('relay-dap-job.Them0001', `${os.hostname()}:${deadPid()}:1`);
      for (const file of [theirs, ...fs.readdirSync(theirs).map((name) => path.join(theirs, name))]) {
        fs.chownSync(file, OTHER_UID, OTHER_UID);
      }
      await runAgain(program, {});
      expect(jobFolders()).toEqual([path.basename(theirs)]);
      expect(fs.readdirSync(theirs).sort()).toEqual([RECORD, 'step-1']);
    },
  );
});
