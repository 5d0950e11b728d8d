// GitHub's background steps end to end through the adapter (a real process over stdio) and its
// embedded relay (real bash, real python3 and curl): a `background: true` step runs beside the
// queue as a relay channel, its output arrives in the console as it comes, each line prefixed
// with the step's name; `cancel:` stops it, and no process of it outlives the job — also when
// the session is disconnected while it runs.
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { processesWithMarker } from '../support/relayHarness.js';

const ctx = useAdapterContext();

describe('background steps', () => {
  it.skipIf(!session.onPath('python3', 'curl'))(
    'service-tests.yml: a site served in the background answers the steps after it, its output is prefixed, cancel: stops it, and nothing of it is left',
    async () => {
      const program = session.workflowFixture('service-tests.yml');
      const adapter = await ctx.runJob({ ...session.pastEntry(ctx, program), env: { [ctx.marker]: '1' } });
      const { client } = adapter;
      expect(await session.stepResultsAtEnd(client, 0)).toEqual([
        '✓ Serve the site: started in the background',
        '✓ Wait until it answers: exit 0, T s',
        '✓ Test against it: exit 0, T s',
        '✗ Serve the site: cancelled, exit 130, T s',
        '✓ Stop the site: stopped site',
      ]);
      const stdout = outputByCategory(client).stdout;
      expect(stdout).toBe(
        [
          '[Serve the site] serving site/',
          '[Serve the site] listening',
          'site answers',
          'hello from the site',
          '',
        ].join('\n'),
      );
      expect(processesWithMarker(ctx.marker)).toEqual([]);
      await session.finish(ctx, adapter);
    },
  );
});
