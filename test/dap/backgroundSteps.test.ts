// GitHub's background steps end to end through the adapter (a real process over stdio) and its
// embedded relay (real bash, real python3 and curl): a `background: true` step runs beside the
// queue as a relay channel, its output arrives in the console as it comes, each line prefixed
// with the step's name; `cancel:` stops it, and no process of it outlives the job — also when
// the session is disconnected while it runs.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TIMEOUT_MS, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { partA, processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = useAdapterContext();

describe('background steps', () => {
  it.skipIf(!session.onPath('python3', 'curl'))(
    'service-tests.yml: a site served in the background answers the steps after it, its output is prefixed, cancel: stops it, and nothing of it is left',
    async () => {
      const launch = { env: { [ctx.marker]: '1' } };
      const { adapter, client, results } = await session.workflowToEnd(
        ctx,
        'service-tests.yml',
        0,
        {},
        launch,
      );
      expect(results).toEqual([
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

  it('disconnecting while a background step runs (and a step waits on it) stops both: exited 130, terminated, no process of the job left', async () => {
    const program = session.writeOneJobWorkflow(ctx.workdir, 'held-service.yml', [
      '    steps:',
      '      - id: service',
      '        background: true',
      '        run: echo "service up"; while true; do sleep 1; done',
      '      - run: echo "queue waits"; while true; do sleep 1; done',
    ]);
    const adapter = await ctx.runJob({ ...session.pastEntry(ctx, program), env: { [ctx.marker]: '1' } });
    await waitUntil(
      () =>
        adapter.client
          .output('stdout')
          .includes('[Run echo "service up"; while true; do sleep 1; done] service up'),
      'the background step’s output',
      EVENT_TIMEOUT_MS,
    );
    // The background step's tree carries the job's environment (the marker) as any step does.
    const cmdline = (pid: number): string => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      } catch {
        return ''; // it ended meanwhile
      }
    };
    // Step 1's script (step-1) runs in the channel's tree.
    const background = (): number[] =>
      processesWithMarker(ctx.marker).filter((pid) => cmdline(pid).includes('step-1'));
    await waitUntil(() => background().length > 0, 'the background step’s marked process', EVENT_TIMEOUT_MS);
    // Both the background step's tree and the queued step's run, marked; then none is left.
    await session.disconnectWhileRunning(ctx, adapter, 'queue waits');
  });

  it('a relay served by a Part-A shell server (no channels) runs a background step in turn, saying so, and the job ends', async () => {
    const relayDir = path.join(ctx.workdir, 'part-a-relay');
    fs.mkdirSync(relayDir);
    const server = partA(['--relay-dir', relayDir, '--workdir', ctx.workdir, 'serve']);
    try {
      const program = session.writeOneJobWorkflow(ctx.workdir, 'in-turn.yml', [
        '    steps:',
        '      - name: Warm',
        '        id: warm',
        '        background: true',
        '        run: echo "cache warm"',
        '      - wait: warm',
        '      - name: Test',
        '        run: echo "tests pass"',
      ]);
      const adapter = await ctx.runJob({ ...session.pastEntry(ctx, program), relayDir });
      expect(await session.stepResultsAtEnd(adapter.client, 0)).toEqual([
        '✓ Warm: exit 0, T s',
        '– Wait for warm: skipped (wait: nothing to wait for: warm already ran to the end (relay-dap runs background steps one after another))',
        '✓ Test: exit 0, T s',
      ]);
      expect(session.consoleLines(adapter.client)).toContain(
        'step 1 (Warm): background: it runs to its end before the next one here, as the relay server opens no channels ' +
          '(a Part-A server); a service that runs until cancelled never ends: skip it (Set Next Step) or serve the relay with a current relay-dap',
      );
      expect(outputByCategory(adapter.client).stdout).toBe('cache warm\ntests pass\n');
      const response = await adapter.client.request('disconnect', {});
      expect(response.success, response.message).toBe(true);
    } finally {
      server.child.kill('SIGTERM');
      await server.finished;
    }
  });

  it('a secret a background step prints, split across two writes, is masked in its prefixed lines', async () => {
    const secret = `pw-${process.pid}-background`;
    const program = session.writeOneJobWorkflow(ctx.workdir, 'masked-service.yml', [
      '    steps:',
      '      - name: Service',
      '        id: service',
      '        background: true',
      '        env:',
      '          PASSWORD: ${{ secrets.DB_PASSWORD }}',
      // Half of the secret, a pause, the other half: two writes, one line.
      '        run: printf "connecting with %s" "${PASSWORD:0:6}"; sleep 0.5; echo "${PASSWORD:6}"',
      '      - wait: service',
    ]);
    const adapter = await ctx.runJob({
      ...session.pastEntry(ctx, program),
      secrets: { DB_PASSWORD: secret },
    });
    expect(await session.stepResultsAtEnd(adapter.client, 0)).toEqual([
      '✓ Service: started in the background',
      '✓ Service: exit 0, T s',
      '✓ Wait for service: service ended',
    ]);
    expect(outputByCategory(adapter.client).stdout).toBe('[Service] connecting with ***\n');
    expect(adapter.client.output()).not.toContain(secret.slice(0, 6) + secret.slice(6));
    await session.finish(ctx, adapter);
  });
});
