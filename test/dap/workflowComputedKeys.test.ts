// What GitHub accepts in a job and relay-dap used to refuse at launch, end to end through the
// adapter (a real process over stdio) and its embedded relay (real bash): timeouts and
// continue-on-error computed by expressions, evaluated where GitHub evaluates them; steps for
// Windows PowerShell and cmd, said at launch and failing with a message of their own; a
// `parallel:` group, run one step after another.
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();

describe('keys computed by expressions', () => {
  it("computed-timeouts.yml: a step's timeout-minutes from env ends the step, and a job's from github cancels the job", async () => {
    const adapter = await ctx.runJob(
      session.pastEntry(ctx, session.workflowFixture('computed-timeouts.yml')),
    );
    await session.finishWith(ctx, adapter, {
      exitCode: 130,
      steps: [
        '✗ Slow suite: timed out (continue-on-error), exit 124, T s',
        '✓ Report: exit 0, T s',
        "✗ Runs past the job's timeout: cancelled, exit 130, T s",
        '✓ Always runs: exit 0, T s',
      ],
      stdout:
        'slow suite started\n[cancelled]\n' +
        'slow suite failure, job goes on\n' +
        'still going\n[cancelled]\n' +
        'always runs\n',
      console: [
        'relay-dap: step 1 (Slow suite) timed out after 1.2 s; cancelling it',
        'relay-dap: cancelling: the job timed out after 6 s; steps with always() or cancelled() still run',
      ],
    });
  });

  it("a job's timeout-minutes reading vars is evaluated at launch with the launch's vars", async () => {
    const { adapter } = await session.runOneJobWorkflow(
      ctx,
      'vars-timeout.yml',
      ['    timeout-minutes: ${{ fromJSON(vars.JOB_MINUTES) }}', '    steps:', '      - run: sleep 300'],
      { launch: { vars: { JOB_MINUTES: '0.05' } } },
    );
    await session.finishWith(ctx, adapter, {
      exitCode: 130,
      steps: ['✗ Run sleep 300: cancelled, exit 130, T s'],
      console: [
        'relay-dap: cancelling: the job timed out after 3 s; steps with always() or cancelled() still run',
      ],
    });
  });

  it('a step timeout that is not a number fails that step with the line, and the job goes on', async () => {
    const { adapter, client, program } = await session.runOneJobWorkflow(
      ctx,
      'bad-timeout.yml',
      [
        '    steps:',
        '      - name: Budget from a typo',
        '        timeout-minutes: ${{ env.MISSING }}',
        '        run: echo "never"',
        '      - if: always()',
        '        run: echo "after"',
      ],
      { options: { filters: [] } },
    );
    expect(await session.stepResultsAtEnd(client, 126)).toEqual([
      '✗ Budget from a typo: failed, exit 126, T s',
      '✓ Run echo "after": exit 0, T s',
    ]);
    expect(session.consoleLines(client)).toContain(
      `relay-dap: step 1 (Budget from a typo): ${program}:7: timeout-minutes is '': it must be a positive number of minutes, at most 525600 (365 days) (in expression \`env.MISSING\`)`,
    );
    await session.finishWith(ctx, adapter, { stdout: 'after\n' });
  });
});

describe('Windows shells', () => {
  const program = session.workflowFixture('windows-shells.yml');
  const hasPowershell = session.onPath('powershell');

  it('windows-shells.yml loads; each missing shell is said once at launch, and its step fails with a message of its own', async ({
    skip,
  }) => {
    if (hasPowershell)
      skip('a powershell is installed on this machine: the missing-shell path cannot be shown here');
    const adapter = await ctx.runJob(session.pastEntry(ctx, program), { filters: [] });
    const { client } = adapter;
    const powershellLine = session.lineOf(program, '- name: Install the MSI');
    const cmdLine = session.lineOf(program, '- name: Register the service');
    expect(await session.stepResultsAtEnd(client, 126)).toEqual([
      '✓ Build: exit 0, T s',
      '✗ Install the MSI: failed (continue-on-error), exit 127, T s',
      '✗ Register the service: failed, exit 126, T s',
      '✓ Summary: exit 0, T s',
    ]);
    const lines = session.consoleLines(client);
    expect(lines.slice(0, 2)).toEqual([
      `relay-dap: shell: powershell (line ${powershellLine}): powershell is not installed where the steps run (the relay server's side), so those steps will fail; install Windows PowerShell (a Windows runner has it) there, or write them for bash`,
      `relay-dap: shell: cmd (line ${cmdLine}): shell 'cmd' runs cmd.exe, which exists only on Windows runners; the steps run in Linux on the relay server's side, so this step cannot run here: skip it (Set Next Step), or write it for 'bash' or 'pwsh'`,
    ]);
    expect(lines).toContain(
      "relay-dap: step 3 (Register the service): shell 'cmd' runs cmd.exe, which exists only on Windows runners; the steps run in Linux on the relay server's side, so this step cannot run here: skip it (Set Next Step), or write it for 'bash' or 'pwsh'",
    );
    // The step's own output (the relay carries stdout and stderr as one stream) says why it failed.
    await session.finishWith(ctx, adapter, {
      stdout:
        'built on Linux\n' +
        "relay-dap: shell: powershell: powershell is not installed where the steps run (the relay server's side): install it there, or write this step for bash\n" +
        'summary\n',
    });
  });
});

describe('parallel steps', () => {
  it('parallel-checks.yml: the group’s steps run at the same time (each waits for the other to begin), each a step of its own, both outputs arrive, and the job goes on once both ended', async () => {
    const { adapter, client, results } = await session.workflowToEnd(ctx, 'parallel-checks.yml', 0);
    // Which check ends first depends on the machine; both end before Test.
    expect(results[0]).toBe('✓ Install: exit 0, T s');
    expect(results.slice(1, 4).sort()).toEqual(
      ['✓ Lint: started in the background', '✓ Lint: exit 0, T s', '✓ Type check: exit 0, T s'].sort(),
    );
    expect(results.slice(4)).toEqual(['✓ Test: exit 0, T s']);
    expect(session.consoleLines(client).filter((line) => line.includes('parallel (line'))).toEqual([]);
    const stdout = (outputByCategory(client).stdout ?? '').split('\n');
    expect(stdout[0]).toBe('installed');
    expect(stdout.slice(1, 3).sort()).toEqual([
      '[Lint] lint clean, beside the type check',
      'types clean, beside lint',
    ]);
    expect(stdout.slice(3)).toEqual(['tests pass', '']);
    await session.finish(ctx, adapter);
  });
});

describe('background steps', () => {
  it('background-steps.yml: background steps start beside the queue (their output prefixed), wait, cancel and wait-all act on them, nothing said at launch', async () => {
    const { adapter, client, results } = await session.workflowToEnd(ctx, 'background-steps.yml', 0);
    // The two background steps end while the job goes on: where their result lines fall, and
    // whether the docs build had ended before `cancel:` reached it, depends on the machine.
    const docs = (line: string): boolean =>
      line.startsWith('✓ Build the docs: exit') || line.startsWith('✗ Build the docs: cancelled');
    expect(results.filter(docs)).toHaveLength(1);
    expect(results.filter((line) => !docs(line)).sort()).toEqual(
      [
        '✓ Warm the cache: started in the background',
        '✓ Warm the cache: exit 0, T s',
        '✓ Build the docs: started in the background',
        '✓ Wait for warm: warm ended',
        '✓ Test: exit 0, T s',
        '✓ Stop the docs build: stopped docs',
        '✓ Wait for all background steps: all background steps ended',
      ].sort(),
    );
    expect(results.indexOf('✓ Warm the cache: exit 0, T s')).toBeLessThan(
      results.indexOf('✓ Wait for warm: warm ended'),
    );
    expect(session.consoleLines(client).filter((line) => line.includes('background (line'))).toEqual([]);
    expect((outputByCategory(client).stdout ?? '').split('\n').sort()).toEqual(
      ['', '[Build the docs] docs built', '[Warm the cache] cache warm', 'tests pass'].sort(),
    );
    await session.finish(ctx, adapter);
  });
});
