// What the Job API changed for a user, through the real adapter (stdio) and its embedded relay
// (real bash): a step that could not be prepared is not reported as a lost relay, and a console
// command's output is closed when it ends, as a step's is.
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();

describe('the Job API through the adapter', () => {
  it('a workflow step whose ${{ }} fails when evaluated ends the job with 126 (never run), not 125 (relay lost)', async () => {
    const { adapter, client, program } = await session.runOneJobWorkflow(
      ctx,
      'bad-expression.yml',
      ['    steps:', '      - name: Parses', `        run: echo "\${{ fromJSON('{not json').level }}"`],
      { options: { filters: [] } },
    );
    expect(await session.stepResultsAtEnd(client, 126)).toEqual(['✗ Parses: failed, exit 126, T s']);
    const complaint = session.consoleLines(client).find((line) => line.includes('fromJSON'));
    expect(complaint).toContain(`${program}:${session.lineOf(program, 'fromJSON')}:`);
    // Nothing says the relay lost anything: it never had the command.
    expect(client.output('console')).not.toMatch(/relay lost|lost the command|\b125\b/);
    expect(outputByCategory(client).stdout).toBeUndefined();
    await session.finish(ctx, adapter);
  });

  it('`!CMD` output that ends in the middle of a UTF-8 character is closed like a step’s: the last bytes show as U+FFFD', async () => {
    // The step and the console command print the same bytes: "cut" and the first two bytes of "€".
    const adapter = await ctx.runJob({
      cwd: ctx.workdir,
      command: ctx.mark("printf 'step-cut\\342\\202'"),
      stopOnEntry: true,
    });
    const { client } = adapter;
    await session.stoppedAt(client, 'entry');
    const shell = await client.request('evaluate', {
      expression: "!printf 'console-cut\\342\\202'",
      context: 'repl',
    });
    expect(shell.success, shell.message).toBe(true);
    expect(shell.body.result).toBe('exit 0');
    expect(outputByCategory(client).stdout).toBe('console-cut\uFFFD');
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
    await session.finishWith(ctx, adapter, { stdout: 'console-cut\uFFFDstep-cut\uFFFD' });
  });
});
