// A workflow's launch (issue 11): launch → the first `stopped` of a 30-step workflow job, over a
// running TCP adapter (its own start-up is startupScenarios.mjs), against reading the same file
// with the yaml package alone. The launch reads, checks and parses the workflow once, starts
// the embedded relay, asks the far side once (workspace, arch) and pauses before the first step.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { connectTcp, initialize, nextEvent, now, startTcpAdapter } from '../scripts/adapterSession.mjs';
import { ms, percentile, ratio, tempDir, timed } from './measure.mjs';

const STEPS = 30;
const LAUNCHES = 15;
const PARSES = 200;

/** A CI job shaped like real ones: a checkout, a toolchain, env, conditions and `${{ }}` in run. */
function thirtyStepWorkflow() {
  const steps = [
    '      - uses: actions/checkout@v4',
    '      - uses: actions/setup-node@v4\n        with:\n          node-version: ${{ matrix.node }}',
  ];
  for (let i = steps.length; i < STEPS; i++) {
    steps.push(
      [
        `      - name: Stage ${i}`,
        `        id: stage${i}`,
        i % 3 === 0 ? "        if: ${{ github.event_name == 'push' && success() }}" : '',
        '        env:',
        `          STAGE: ${i}`,
        '          REF: ${{ github.ref_name }}',
        '        run: |',
        '          echo "stage $STAGE of ${{ github.workflow }} on $REF (node ${{ matrix.node }})"',
        `          echo "done=${i}" >> "$GITHUB_OUTPUT"`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
  }
  return [
    'name: CI',
    'on: [push, pull_request]',
    'env:',
    '  FORCE_COLOR: "1"',
    'jobs:',
    '  test:',
    '    runs-on: ubuntu-latest',
    '    strategy:',
    '      matrix:',
    '        node: [20]',
    '    steps:',
    ...steps,
    '',
  ].join('\n');
}

const workflowLaunch = {
  id: 'workflow-launch',
  async run() {
    const dir = tempDir('relay-dap-bench-workflow-');
    const program = path.join(dir, 'ci.yml');
    fs.writeFileSync(program, thirtyStepWorkflow());
    const adapter = await startTcpAdapter();
    const times = [];
    for (let i = 0; i < LAUNCHES + 2; i++) {
      const { client, close } = await connectTcp(adapter.port);
      await initialize(client);
      const stopped = nextEvent(client, 'stopped');
      const begin = now();
      const launched = client.launchRequest({ program, job: 'test', cwd: dir, stopOnEntry: true });
      await client.configurationDoneRequest();
      await launched;
      const event = await stopped;
      if (i >= 2) times.push(now() - begin);
      if (event.body.reason !== 'entry') throw new Error(`stopped for ${event.body.reason}`);
      await client.disconnectRequest({ terminateDebuggee: true });
      close();
    }
    await adapter.stop();
    const text = fs.readFileSync(program, 'utf8');
    fs.rmSync(dir, { recursive: true, force: true });
    const parses = [];
    for (let i = 0; i < PARSES; i++) parses.push((await timed(async () => YAML.parseDocument(text))).ms);
    const [l50, p50] = [percentile(times, 50), percentile(parses, 50)];
    return [
      {
        name: `workflow launch → first \`stopped\` (${STEPS} steps), p50`,
        value: `${ms(l50)} (p95 ${ms(percentile(times, 95))})`,
        baseline: `${ms(p50)} (yaml parseDocument of the file)`,
        ratio: ratio(l50, p50),
        target: '≤ 150 ms',
        met: l50 <= 150,
      },
    ];
  },
};

export const workflowScenarios = [workflowLaunch];
