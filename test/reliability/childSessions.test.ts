/**
 * `!debug` child sessions when the parent goes: the program under debugpy, debugpy's adapter
 * and the hub on the far side must all end with it, whether the parent session is ended
 * (disconnect) or its adapter is killed outright.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import { commandLines, debugAddPy } from '../support/pythonChild.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';
import { reliabilityRow } from './report.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

/** Processes running add.py or debugpy (the far side's, which carry the adapter's marker). */
function pythonLeft(): string[] {
  return commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) =>
    /add\.py|debugpy|python/.test(line),
  );
}

describe('!debug child sessions when the parent goes', { timeout: 240_000 }, () => {
  it('parent session ended while its child is stopped at a breakpoint: no python or debugpy process is left', async () => {
    const row = reliabilityRow(
      'fault',
      '!debug child stopped at a breakpoint, parent session disconnected: the program and debugpy end',
    );
    const { client, debugging, child } = await debugAddPy(ctx);
    await child.waitForEvent('stopped', undefined, LIMIT);
    expect(pythonLeft().some((line) => line.includes('add.py'))).toBe(true);
    const started = performance.now();
    await client.request('disconnect', { terminateDebuggee: true });
    expect((await debugging).message).toBe('cancelled');
    await waitUntil(() => pythonLeft().length === 0, 'no python process left', LIMIT);
    row.figure = `no python/debugpy process ${((performance.now() - started) / 1000).toFixed(2)} s after the disconnect`;
  });

  it('parent adapter SIGKILLed while its child is stopped (external relay server): the server ends the program and debugpy', async () => {
    const row = reliabilityRow(
      'fault',
      '!debug child stopped at a breakpoint, parent adapter SIGKILLed: the relay server ends the program and debugpy',
    );
    const { adapter, child, debugging } = await debugAddPy(ctx, { server: ['--grace', '1'] });
    // Its adapter is killed: the `!debug` is never answered.
    const unanswered = debugging.catch((error: Error) => error.message);
    await child.waitForEvent('stopped', undefined, LIMIT);
    const server = path.join(ctx.workdir, 'relay');
    expect(pythonLeft().some((line) => line.includes('add.py'))).toBe(true);
    const started = performance.now();
    adapter.child.kill('SIGKILL');
    await harness.waitForExit(adapter);
    expect(await unanswered).toMatch(/connection closed/);
    await waitUntil(() => pythonLeft().length === 0, `no python process left under ${server}`, 60_000);
    row.figure = `no python/debugpy process ${((performance.now() - started) / 1000).toFixed(2)} s after the SIGKILL`;
    ctx.expectViolations(child, 'its parent was killed: the child connection ends abruptly');
  });
});
