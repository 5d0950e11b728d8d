// The debug adapter's figures (issue 3): a console `!true` round trip, terminate → exited(130),
// and 100 MB of step output through output events. (Its start-up: startupScenarios.mjs.)
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import {
  clientOverStdio,
  connectTcp,
  initialize,
  launch,
  nextEvent,
  now,
  spawnAdapter,
  startTcpAdapter,
} from '../scripts/adapterSession.mjs';
import { ms, percentile, ratio, spawnBash, timed } from './measure.mjs';

const REPL_ROUND_TRIPS = 100;
const TERMINATES = 20;
const OUTPUT_BYTES = 100 * 2 ** 20;

const replRoundTrip = {
  id: 'adapter-repl',
  async run() {
    const adapter = await startTcpAdapter();
    const { client, close } = await connectTcp(adapter.port);
    const stopped = nextEvent(client, 'stopped');
    await initialize(client);
    await launch(client, { command: 'true', stopOnEntry: true });
    await stopped;
    const times = [];
    for (let i = 0; i < REPL_ROUND_TRIPS + 10; i++) {
      const begin = now();
      const response = await client.evaluateRequest({ expression: '!true', context: 'repl' });
      if (response.body?.result !== 'exit 0') throw new Error(`!true answered ${JSON.stringify(response)}`);
      if (i >= 10) times.push(now() - begin);
    }
    await client.disconnectRequest({ terminateDebuggee: true });
    close();
    await adapter.stop();
    const direct = [];
    for (let i = 0; i < REPL_ROUND_TRIPS; i++) direct.push((await timed(() => spawnBash('true'))).ms);
    const [r50, d50] = [percentile(times, 50), percentile(direct, 50)];
    return [
      {
        name: 'console `!true`: evaluate → response, p50',
        value: `${ms(r50)} (p95 ${ms(percentile(times, 95))})`,
        baseline: `${ms(d50)} (bash -c true spawned directly)`,
        ratio: ratio(r50, d50),
        target: '≤ 25 ms',
        met: r50 <= 25,
      },
    ];
  },
};

const terminate = {
  id: 'adapter-terminate',
  async run() {
    const adapter = await startTcpAdapter();
    const times = [];
    for (let i = 0; i < TERMINATES; i++) {
      const { client, close } = await connectTcp(adapter.port);
      const started = nextEvent(client, 'output', (e) => e.body.output.includes('started'));
      await initialize(client);
      await launch(client, { command: 'echo started; exec sleep 300', stopOnEntry: false });
      await started;
      const exited = nextEvent(client, 'exited');
      const begin = now();
      await client.terminateRequest();
      const event = await exited;
      times.push(now() - begin);
      if (event.body.exitCode !== 130) throw new Error(`exited with ${event.body.exitCode}`);
      await client.disconnectRequest();
      close();
    }
    await adapter.stop();
    const direct = [];
    for (let i = 0; i < TERMINATES; i++) {
      const child = spawn('sleep', ['300'], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('spawn', resolve));
      direct.push(
        (
          await timed(
            () =>
              new Promise((resolve) => {
                child.once('exit', resolve);
                child.kill('SIGTERM');
              }),
          )
        ).ms,
      );
    }
    const [r50, d50] = [percentile(times, 50), percentile(direct, 50)];
    return [
      {
        name: '`terminate` of a running `sleep` → `exited` (130), p50',
        value: `${ms(r50)} (p95 ${ms(percentile(times, 95))})`,
        baseline: `${ms(d50)} (SIGTERM to a local child)`,
        ratio: ratio(r50, d50),
        target: '≤ 100 ms',
        met: r50 <= 100,
      },
    ];
  },
};

/** Peak resident memory (VmHWM) of a process, in MiB. */
function peakMemoryMiB(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

const bigOutput = {
  id: 'adapter-output',
  async run() {
    const command = `yes 'relay-dap carries this line to the editor, 0123456789' | head -c ${OUTPUT_BYTES}`;
    const expected = await new Promise((resolve) => {
      const hash = createHash('sha256');
      const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.stdout.on('data', (chunk) => hash.update(chunk));
      child.stdout.on('end', () => resolve(hash.digest('hex')));
    });
    const child = spawnAdapter();
    child.stderr.resume();
    const client = clientOverStdio(child);
    const hash = createHash('sha256');
    let bytes = 0;
    client.on('output', (e) => {
      if (e.body.category === 'stdout') {
        const chunk = Buffer.from(e.body.output, 'utf8');
        bytes += chunk.length;
        hash.update(chunk);
      }
    });
    const idle = await (async () => {
      await initialize(client);
      return peakMemoryMiB(child.pid);
    })();
    const terminated = nextEvent(client, 'terminated');
    const begin = now();
    const launched = launch(client, { command, stopOnEntry: false });
    await terminated;
    await launched;
    const took = now() - begin;
    const peak = peakMemoryMiB(child.pid);
    await client.disconnectRequest();
    child.stdin.end();
    const intact = bytes === OUTPUT_BYTES && hash.digest('hex') === expected;
    return [
      {
        name: `${OUTPUT_BYTES / 2 ** 20} MB of step output through \`output\` events: adapter peak memory`,
        value: `${peak.toFixed(0)} MiB, ${(OUTPUT_BYTES / 2 ** 20 / (took / 1000)).toFixed(0)} MB/s${intact ? ', all bytes, same sha256' : ', BYTES LOST'}`,
        baseline: `${idle.toFixed(0)} MiB (the adapter after initialize)`,
        ratio: ratio(peak, idle),
        target: '≤ 200 MB, no byte lost',
        met: peak <= 200 && intact,
      },
    ];
  },
};

// Start-up (adapter start → `initialize` response) is in startupScenarios.mjs, with the CLI's.
export const adapterScenarios = [replRoundTrip, terminate, bigOutput];
