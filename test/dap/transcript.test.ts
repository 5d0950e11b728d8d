// Exact transcripts: the adapter as a real process, every request, response and event in
// order, against real relayed commands. Every message the adapter sends is validated against
// the official DAP schema by the DapClient (and any stray byte on its stdout is a violation).
import { describe, expect, it } from 'vitest';
import {
  assertResponsesMatchRequests,
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  stableSummary,
  waitForExit,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { processesWithMarker } from '../support/relayHarness.js';

const ctx = useAdapterContext();

/** How each session here starts: the handshake in VS Code's order, up to the entry stop. */
const TO_ENTRY_STOP = [
  '→ request 1 initialize',
  '← response 1 initialize ok',
  '→ request 2 launch',
  '← event initialized',
  '→ request 3 configurationDone',
  '← response 3 configurationDone ok',
  '← response 2 launch ok',
  '← event stopped (entry)',
];

describe('exact DAP transcripts', () => {
  it('stdio: a two-step job from entry stop through console, next and continue to disconnect', async () => {
    const adapter = ctx.spawnStdio();
    const client = adapter.client;
    await launchAndConfigure(client, {
      type: 'relay',
      request: 'launch',
      name: 'transcript',
      env: { GREETING: 'hello' },
      steps: [
        { name: 'first', run: ctx.mark('echo "one $GREETING"') },
        { name: 'second', run: ctx.mark('echo two') },
      ],
    });
    await client.waitForEvent('stopped', (e) => e.body.reason === 'entry', EVENT_TIMEOUT_MS);

    const threads = await client.request('threads');
    expect(threads.body.threads).toEqual([{ id: 1, name: 'job: steps' }]);
    const stack = await client.request('stackTrace', { threadId: 1 });
    expect(stack.body.stackFrames.map((f) => [f.name, f.line])).toEqual([['next: first', 4]]);
    const scopes = await client.request('scopes', { frameId: stack.body.stackFrames[0]!.id });
    expect(scopes.body.scopes.map((s) => s.name)).toEqual(['Step', 'Job', 'Environment']);
    const environment = await client.request('variables', {
      variablesReference: scopes.body.scopes[2]!.variablesReference,
    });
    expect(environment.body.variables).toEqual([
      { name: 'GREETING', value: 'hello', variablesReference: 0, evaluateName: 'env.GREETING' },
    ]);
    const shell = await client.request('evaluate', {
      expression: '!echo "console $GREETING"',
      context: 'repl',
    });
    expect(shell.body).toEqual({ result: 'exit 0', variablesReference: 0 });

    await client.request('next', { threadId: 1 });
    await client.waitForEvent('stopped', (e) => e.body.reason === 'step', EVENT_TIMEOUT_MS);
    const after = await client.request('stackTrace', { threadId: 1 });
    expect(after.body.stackFrames.map((f) => f.name.replace(/\d+\.\d+ s/, 'T s'))).toEqual([
      'next: second',
      '✓ first: exit 0, T s',
    ]);
    await client.request('continue', { threadId: 1 });
    await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    const disconnect = await client.request('disconnect', { terminateDebuggee: true });
    expect(disconnect.success).toBe(true);
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    await client.closed;

    expect(stableSummary(client)).toEqual([
      ...TO_ENTRY_STOP,
      '→ request 4 threads',
      '← response 4 threads ok',
      '→ request 5 stackTrace',
      '← response 5 stackTrace ok',
      '→ request 6 scopes',
      '← response 6 scopes ok',
      '→ request 7 variables',
      '← response 7 variables ok',
      '→ request 8 evaluate',
      '← event output [stdout] "console hello\\n"',
      '← response 8 evaluate ok',
      '→ request 9 next',
      '← response 9 next ok',
      '← event output [console] "▶ step 1/2: first\\n"',
      '← event output [stdout] "one hello\\n"',
      '← event output [console] "✓ first: exit 0, T s\\n"',
      '← event stopped (step)',
      '→ request 10 stackTrace',
      '← response 10 stackTrace ok',
      '→ request 11 continue',
      '← response 11 continue ok',
      '← event output [console] "▶ step 2/2: second\\n"',
      '← event output [stdout] "two\\n"',
      '← event output [console] "✓ second: exit 0, T s\\n"',
      '← event exited (exitCode 0)',
      '← event terminated',
      '→ request 12 disconnect',
      '← response 12 disconnect ok',
    ]);
    assertResponsesMatchRequests(client);
    expect(ctx.embeddedRelayDirs()).toEqual([]);
    expect(processesWithMarker(ctx.marker)).toEqual([]);
    client.assertClean();
  });

  it('TCP: one session of a one-command job, then the adapter stops on SIGTERM', async () => {
    const adapter = await ctx.spawnTcp(['--server=0']);
    const client = await adapter.connect();
    await launchAndConfigure(client, { command: ctx.mark('echo over tcp') });
    await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
    const stack = await client.request('stackTrace', { threadId: 1, startFrame: 0, levels: 20 });
    expect(stack.body.stackFrames.map((f) => f.name)).toEqual(['next: command']);
    await client.request('continue', { threadId: 1 });
    await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await client.request('disconnect', {});
    // The adapter ends the connection after answering disconnect; the server goes on.
    await client.closed;
    expect(adapter.hasExited).toBe(false);

    expect(stableSummary(client)).toEqual([
      ...TO_ENTRY_STOP,
      '→ request 4 stackTrace',
      '← response 4 stackTrace ok',
      '→ request 5 continue',
      '← response 5 continue ok',
      '← event output [console] "▶ step 1/1: command\\n"',
      '← event output [stdout] "over tcp\\n"',
      '← event output [console] "✓ command: exit 0, T s\\n"',
      '← event exited (exitCode 0)',
      '← event terminated',
      '→ request 6 disconnect',
      '← response 6 disconnect ok',
    ]);
    assertResponsesMatchRequests(client);
    client.assertClean();

    adapter.child.kill('SIGTERM');
    expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
    expect(ctx.embeddedRelayDirs()).toEqual([]);
  });
});
