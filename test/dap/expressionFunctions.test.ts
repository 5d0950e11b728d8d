// What came with GitHub's own expression implementation (@actions/expressions), end to end
// through the adapter (a real process over stdio) and its embedded relay (real bash): object
// filters and case() in `if:` and `run:`. (hashFiles(), computed on the relay server's side, has
// its own file: hashFiles.test.ts.)
import { describe, it } from 'vitest';
import { useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();

function workflow(name: string, steps: string[]): string {
  return session.writeFile(
    ctx.workdir,
    name,
    [
      'name: Expressions',
      'on: push',
      'jobs:',
      '  build:',
      '    runs-on: ubuntu-latest',
      '    steps:',
      ...steps,
      '',
    ].join('\n'),
  );
}

describe('GitHub expression functions and filters', () => {
  it('object filters (.*, [*]) and case() decide an if: and fill a run: as GitHub documents', async () => {
    const program = workflow('filters.yml', [
      '      - id: build',
      '        run: echo built',
      '      - id: test',
      '        run: echo tested',
      '      - name: Report',
      "        if: ${{ !contains(steps.*.outcome, 'failure') }}",
      '        env:',
      '          LABELS: \'[{"name":"bug"},{"name":"help wanted"}]\'',
      '        run: |',
      '          echo "outcomes=${{ join(steps.*.outcome, \',\') }}"',
      '          echo "labels=${{ join(fromJSON(env.LABELS)[*].name, \', \') }}"',
      "          echo \"tier=${{ case(steps.test.outcome == 'success', 'green', 'red') }}\"",
    ]);
    const adapter = await ctx.runJob({ program, cwd: ctx.workdir, stopOnEntry: false });
    await session.finishWith(ctx, adapter, {
      exitCode: 0,
      steps: ['✓ Run echo built: exit 0, T s', '✓ Run echo tested: exit 0, T s', '✓ Report: exit 0, T s'],
      stdout: 'built\ntested\noutcomes=success,success\nlabels=bug, help wanted\ntier=green\n',
    });
  });
});
