// A workflow of several jobs through the adapter, for docs/reliability.md: the whole workflow
// runs its jobs in the order of their needs (each a thread), again and again, and a disconnect
// while a later job runs stops it at once, every time, leaving no process and no folder.
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { seconds } from './faultSupport.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();
const ROUNDS = 5;

describe('workflow runs', () => {
  it('a multi-job workflow runs in dependency order and cancels cleanly', async () => {
    const row = reliabilityRow('fault', 'a multi-job workflow runs in dependency order and cancels cleanly');
    const pipeline = session.workflowFixture('pipeline.yml');
    const expected =
      'computed version 1.4.2\npackaging pkg-1.4.2\n' +
      'testing 1.4.2 on python 3.11 (build was success)\ntesting 1.4.2 on python 3.12 (build was success)\n' +
      'publishing pkg-1.4.2.tar.gz version 1.4.2\ntest report report-3.12.xml\n';
    const runs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const began = performance.now();
      const adapter = await ctx.runJob(session.pastEntry(ctx, pipeline));
      await session.runToEnd(adapter.client, 0);
      runs.push(performance.now() - began);
      expect(outputByCategory(adapter.client).stdout).toBe(expected);
      expect(session.runEvents(adapter.client).filter((line) => line.startsWith('thread'))).toEqual([
        'thread started 1',
        'thread started 2',
        'thread started 3',
        'thread started 4',
      ]);
      await session.finish(ctx, adapter);
    }

    const slow = session.workflowFixture('pipeline-slow.yml');
    const cancels: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const adapter = await ctx.runJob({ ...session.pastEntry(ctx, slow), env: { [ctx.marker]: '1' } });
      cancels.push(await session.disconnectWhileRunning(ctx, adapter, 'soaking'));
      expect(session.stepResults(adapter.client)).toEqual([
        '✓ Prepare: exit 0, T s',
        '✗ Soak: cancelled, exit 130, T s',
      ]);
    }
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    row.figure =
      `${ROUNDS} whole runs of a 3-job workflow (4 jobs with its matrix): threads 1–4 in order, same bytes each time, ` +
      `launch → exited ${seconds(median(runs))} median; ${ROUNDS} disconnects during the 2nd job: exited 130 in ` +
      `${seconds(median(cancels))} median (max ${seconds(Math.max(...cancels))}), 0 processes and 0 folders left`;
  });
});
