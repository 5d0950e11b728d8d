/**
 * A step under the Python debugger when the parent goes: the step's Python processes (stopped
 * at breakpoints in their child sessions), their debugpy adapters, the hub and its private
 * directory, and the relay channels they run on must all end with it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { commandLines } from '../support/pythonChild.js';
import { hitAndGoOn, launchTrain, nextChild, trainCommand, writeTrainJob } from '../support/pythonSteps.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';
import { reliabilityRow } from './report.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

/** Far-side processes of Python or debugpy (they carry the adapter's marker). */
function pythonLeft(): string[] {
  return commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) => /python|debugpy/.test(line));
}

function hubDirectories(): string[] {
  return fs.readdirSync(ctx.tmp).filter((name) => name.startsWith('relay-dap-py-'));
}

describe('a step under the Python debugger when the parent goes', { timeout: 240_000 }, () => {
  it('parent disconnected while a script and its Python subprocess are stopped in two child sessions: nothing is left', async () => {
    const row = reliabilityRow(
      'fault',
      'step under the Python debugger, two Python processes stopped in child sessions, parent disconnected: python, debugpy, hub and channels end',
    );
    const relayDir = path.join(ctx.workdir, 'relay');
    await ctx.startRelayServer(relayDir);
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx, 'child'));
    const adapter = await launchTrain(ctx, { program: job, relayDir });
    const first = await nextChild(ctx, adapter.client, script);
    await hitAndGoOn(first.child, script, '14');
    const second = await nextChild(ctx, adapter.client, script);
    await second.child.waitForEvent('stopped', undefined, LIMIT);
    // The script waits for its subprocess, which is stopped: two trains, two adapters, one hub.
    const trains = pythonLeft().filter((line) => /^\S*python\S* \S*train\.py/.test(line));
    expect(trains).toHaveLength(2);
    expect(pythonLeft().filter((line) => line.includes('from debugpy.adapter import'))).toHaveLength(2);
    expect(hubDirectories()).toHaveLength(1);

    const started = performance.now();
    await adapter.client.request('disconnect', { terminateDebuggee: true });
    await session.runToEnd(adapter.client, 130);
    await harness.waitForExit(adapter);
    await waitUntil(() => pythonLeft().length === 0, 'no python or debugpy process left', LIMIT);
    const seconds = (performance.now() - started) / 1000;
    // Both child sessions end with their adapters' channels.
    await harness.waitForExit(first.childAdapter);
    await harness.waitForExit(second.childAdapter);
    expect(hubDirectories()).toEqual([]);
    expect(fs.readdirSync(path.join(relayDir, 'channel'))).toEqual([]);
    row.figure = `no python/debugpy process ${seconds.toFixed(2)} s after the disconnect; hub directory and channel files removed`;
  });
});
