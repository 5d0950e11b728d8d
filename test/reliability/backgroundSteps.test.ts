// Background steps through the adapter, for docs/reliability.md: a step started in the background
// (a relay channel beside the queue) is never left running — whether a `cancel:` step stops it,
// the job ends with it still running, or the session is disconnected while it runs — again and
// again, checked in /proc by the marker every step's process carries.
import { describe, expect, it } from 'vitest';
import { useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { processesWithMarker } from '../support/relayHarness.js';
import { seconds } from './faultSupport.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();
const ROUNDS = 5;
const SCENARIO = 'a background step is never left running (cancel:, job end, disconnect)';

describe('background steps', () => {
  it('a background step is never left running', async () => {
    const row = reliabilityRow('fault', SCENARIO);
    const unended = session.writeOneJobWorkflow(ctx.workdir, 'unended-service.yml', [
      '    steps:',
      '      - id: service',
      '        background: true',
      '        run: echo "service up"; while true; do sleep 1; done',
      '      - run: echo "checked"',
    ]);
    const held = session.writeOneJobWorkflow(ctx.workdir, 'held-service.yml', [
      '    steps:',
      '      - id: service',
      '        background: true',
      '        run: echo "service up"; while true; do sleep 1; done',
      '      - run: echo "queue waits"; while true; do sleep 1; done',
    ]);
    const service = session.workflowFixture('service-tests.yml');
    const jobEnds: number[] = [];
    const disconnects: number[] = [];
    let left = 0;
    for (let round = 0; round < ROUNDS; round++) {
      if (session.onPath('python3', 'curl')) {
        const adapter = await ctx.runJob({ ...session.pastEntry(ctx, service), env: { [ctx.marker]: '1' } });
        await session.runToEnd(adapter.client, 0);
        left += processesWithMarker(ctx.marker).length;
        await session.finish(ctx, adapter);
      }
      const began = performance.now();
      const ending = await ctx.runJob({ ...session.pastEntry(ctx, unended), env: { [ctx.marker]: '1' } });
      await session.runToEnd(ending.client, 0);
      jobEnds.push(performance.now() - began);
      left += processesWithMarker(ctx.marker).length;
      expect(ending.client.output('console')).toContain(
        "still runs in the background at the job's end: stopping it",
      );
      await session.finish(ctx, ending);

      const adapter = await ctx.runJob({ ...session.pastEntry(ctx, held), env: { [ctx.marker]: '1' } });
      disconnects.push(await session.disconnectWhileRunning(ctx, adapter, 'queue waits'));
    }
    expect(left).toBe(0);
    const median = (values: number[]): number =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    row.figure =
      `${ROUNDS} rounds each of: a served site stopped by cancel:, a service still running at the job's end ` +
      `(launch → exited ${seconds(median(jobEnds))} median), a disconnect while it runs (exited 130 in ` +
      `${seconds(median(disconnects))} median, max ${seconds(Math.max(...disconnects))}): 0 processes left in /proc`;
  });
});
