// How the session looks in an editor (issue 12, items 2 and 3), asserted on the DAP transcript:
// each step's lines at the console's top level, where VS Code shows them as they arrive (it did
// not, inside an open output group), with no empty line between steps; finished steps in the call stack as
// plainly as the step on top (VS Code folds `subtle` frames away), and a wrong launch
// attribute named with its configuration and the value that is wrong.
import { describe, expect, it } from 'vitest';
import { errorId, outputEvents, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { ERR } from '../support/errorIds.js';

const ctx = useAdapterContext();

/** The console's top level as VS Code draws it: text outside every output group. */
function topLevelText(client: DapClient): string {
  let depth = 0;
  let text = '';
  for (const { body } of outputEvents(client)) {
    if (body.group === 'start' || body.group === 'startCollapsed') depth++;
    else if (body.group === 'end') depth = Math.max(0, depth - 1);
    else if (depth === 0) text += body.output;
  }
  return text;
}

describe('what an editor shows', () => {
  it('each step is a header line, its output and its result line, all at the top level (no group, no empty line)', async () => {
    const adapter = await ctx.runJob({
      steps: session.markedSteps(ctx, { first: 'echo one', second: 'echo two' }),
      stopOnEntry: false,
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    const steps = topLevelText(client).replace(/\d+\.\d+ s/g, 'T s');
    expect(steps).toContain(
      '▶ step 1/2: first\none\n✓ first: exit 0, T s\n▶ step 2/2: second\ntwo\n✓ second: exit 0, T s\n',
    );
    expect(steps).not.toMatch(/^\n|\n\n/m);
    await session.finish(ctx, adapter);
  });

  it('finished steps stay in the call stack as plainly as the step on top (no `subtle` frames to fold away)', async () => {
    const adapter = await ctx.runJob({
      steps: session.markedSteps(ctx, { checkout: 'true', build: 'true', test: 'true' }),
    });
    const { client } = adapter;
    await session.stoppedAt(client, 'entry');
    for (let step = 0; step < 2; step++) {
      const stopped = client.waitForEvent('stopped', (e) => e.body.reason === 'step', 30_000);
      expect((await client.request('next', { threadId: 1 })).success).toBe(true);
      await stopped;
    }
    await session.expectFrames(client, ['next: test', '✓ build: exit 0, T s', '✓ checkout: exit 0, T s']);
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('a wrong launch or attach attribute is named with its configuration and the value that is wrong', async () => {
    const adapter = await ctx.spawnInitialized();
    const { client } = adapter;
    const cases: Array<['launch' | 'attach', Record<string, unknown>, string]> = [
      [
        'launch',
        { type: 'relay', request: 'launch', name: 'Nightly build', command: 'true', stopOnEntry: 'yes' },
        'launch configuration "Nightly build": `stopOnEntry` must be boolean, not "yes".',
      ],
      [
        'launch',
        { name: 'Steps', steps: [{ run: 'true' }, { run: 42 }] },
        'launch configuration "Steps": `steps[1].run` must be string, not 42.',
      ],
      [
        'launch',
        { name: 'Long', command: 'true', cwd: { path: 'x'.repeat(100) } },
        `launch configuration "Long": \`cwd\` must be string, not {"path":"${'x'.repeat(48)}….`,
      ],
      [
        'launch',
        { name: 'Nothing to run' },
        'launch configuration "Nothing to run": say what to run with one of `command`',
      ],
      ['launch', { command: 'true', timeout: -1 }, 'launch arguments: `timeout` must be > 0, not -1.'],
      [
        'launch',
        { name: 'Mapped', command: 'true', cwd: '/workspace', localRoot: 'src' },
        'launch configuration "Mapped": `localRoot` must be an absolute folder on this machine (the editor\'s), not "src": e.g. "${workspaceFolder}".',
      ],
      [
        'attach',
        { name: 'Join mapped', relayDir: '/r', localRoot: '.' },
        'attach configuration "Join mapped": `localRoot` must be an absolute folder on this machine (the editor\'s), not ".": e.g. "${workspaceFolder}".',
      ],
      [
        'attach',
        { type: 'relay', request: 'attach', name: 'Join the job', relayDir: 7 },
        'attach configuration "Join the job": `relayDir` must be string, not 7.',
      ],
    ];
    for (const [command, args, expected] of cases) {
      const response = await client.request(command, args);
      expect(response.success, JSON.stringify(args)).toBe(false);
      expect(errorId(response), JSON.stringify(args)).toBe(ERR.InvalidArguments);
      expect(response.message, JSON.stringify(args)).toContain(expected);
    }
    await session.finish(ctx, adapter);
  });
});
