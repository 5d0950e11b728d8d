// What the Job API changed for a user, through the real adapter (stdio) and its embedded relay
// (real bash): a console command's output is closed when it ends, as a step's is.
import { describe, expect, it } from 'vitest';
import { launchAndConfigure, outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import { finish, runToEnd, stoppedAt } from '../support/jobSession.js';

const ctx = useAdapterContext();

describe('the Job API through the adapter', () => {
  it('`!CMD` output that ends in the middle of a UTF-8 character is closed like a step’s: the last bytes show as U+FFFD', async () => {
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    // The step and the console command print the same bytes: "cut" and the first two bytes of "€".
    await launchAndConfigure(client, {
      cwd: ctx.workdir,
      command: ctx.mark("printf 'step-cut\\342\\202'"),
      stopOnEntry: true,
    });
    await stoppedAt(client, 'entry');
    const shell = await client.request('evaluate', {
      expression: "!printf 'console-cut\\342\\202'",
      context: 'repl',
    });
    expect(shell.success, shell.message).toBe(true);
    expect(shell.body.result).toBe('exit 0');
    expect(outputByCategory(client).stdout).toBe('console-cut\uFFFD');
    await client.request('continue', { threadId: 1 });
    await runToEnd(client, 0);
    expect(outputByCategory(client).stdout).toBe('console-cut\uFFFDstep-cut\uFFFD');
    await finish(ctx, adapter);
  });
});
