// Start-up (issue 12, item 9): scripts and AI agents call `relay-dap run` in loops, and an
// editor waits for the adapter's first answer. Each subcommand, and the adapter's
// `initialize` response, from spawn to done, against `node -e 0` measured in the same rounds
// (interleaved, so that a busy machine slows both alike). Target: ≤ 1.2× `node -e 0`.
//
// `run -- true` also waits for its command: the server has to notice it, start bash, and
// report its exit, which no start-up can save. Its baseline is therefore `node -e 0` plus
// that round trip, measured in the same rounds by a client that is already running; the
// row says its ratio to `node -e 0` alone too.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RelayClient } from '../dist/relay/client.js';
import { clientOverStdio, now } from '../scripts/adapterSession.mjs';
import { bin, ms, percentile, startServer, tempRelayDir } from './measure.mjs';

const ROUNDS = 40;
const TARGET = 1.2;

/** Spawn → exit. */
function exits(args, options = {}) {
  return new Promise((resolve, reject) => {
    const begin = now();
    const child = spawn(process.execPath, args, { stdio: 'ignore', ...options });
    child.once('error', reject);
    child.once('exit', () => resolve(now() - begin));
  });
}

/** Spawn → the first stdout/stderr text matching `ready`; then the process is stopped (not timed). */
function becomesReady(args, ready, options = {}) {
  return new Promise((resolve, reject) => {
    const begin = now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let seen = '';
    let elapsed;
    const look = (chunk) => {
      seen += chunk;
      if (elapsed === undefined && ready.test(seen)) {
        elapsed = now() - begin;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
    child.once('error', reject);
    child.once('exit', () =>
      elapsed === undefined
        ? reject(new Error(`${args.join(' ')} ended before ready:\n${seen}`))
        : resolve(elapsed),
    );
  });
}

/** Spawn the stdio adapter → its `initialize` response. */
async function initializeAnswered() {
  const begin = now();
  const child = spawn(process.execPath, [bin], { stdio: ['pipe', 'pipe', 'ignore'] });
  await clientOverStdio(child).initializeRequest({ adapterID: 'relay' });
  const elapsed = now() - begin;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin.end();
  await exited;
  return elapsed;
}

const startup = {
  id: 'startup',
  async run() {
    const { dir: root, relayDir } = tempRelayDir('relay-dap-bench-startup-');
    const idle = path.join(root, 'idle');
    const server = await startServer(relayDir);
    const client = await RelayClient.open({ relayDir });
    const relay = ['--relay-dir', relayDir];
    const RUN = 'relay-dap run -- true (a server running)';
    const probes = {
      baseline: () => exits(['-e', '0']),
      'round trip': async () => {
        const begin = now();
        const command = client.submit('true');
        command.output.resume();
        await command.exit;
        return now() - begin;
      },
      'relay-dap --version': () => exits([bin, '--version']),
      'relay-dap --help': () => exits([bin, '--help']),
      [RUN]: () => exits([bin, 'run', ...relay, '--', 'true']),
      'relay-dap status': () => exits([bin, 'status', ...relay]),
      'relay-dap cancel (nothing running)': () => exits([bin, 'cancel', ...relay]),
      'relay-dap handshake': () => exits([bin, 'handshake', ...relay]),
      'relay-dap flush': () => exits([bin, 'flush', ...relay]),
      'relay-dap serve → serving': () =>
        becomesReady([bin, 'serve', '--relay-dir', idle], /serving /, { cwd: root }),
      'adapter (stdio) → `initialize` response': initializeAnswered,
      'adapter (--server=0) → listening': () => becomesReady([bin, '--server=0'], /listening on /),
    };
    const times = Object.fromEntries(Object.keys(probes).map((name) => [name, []]));
    try {
      for (let round = 0; round < ROUNDS + 2; round++) {
        for (const [name, probe] of Object.entries(probes)) {
          const elapsed = await probe();
          if (round >= 2) times[name].push(elapsed); // two rounds to warm the disk cache
        }
      }
    } finally {
      await client.close();
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    }
    const base = percentile(times.baseline, 50);
    const roundTrip = percentile(times['round trip'], 50);
    return Object.entries(times)
      .filter(([name]) => name !== 'baseline' && name !== 'round trip')
      .map(([name, values]) => {
        const p50 = percentile(values, 50);
        const baseline = name === RUN ? base + roundTrip : base;
        return {
          name: `start-up: ${name}, p50`,
          value:
            `${ms(p50)} (p95 ${ms(percentile(values, 95))})` +
            (name === RUN ? `; ${(p50 / base).toFixed(2)}× node -e 0 alone` : ''),
          baseline:
            name === RUN
              ? `${ms(baseline)} (node -e 0 ${ms(base)} + relayed true ${ms(roundTrip)})`
              : `${ms(base)} (node -e 0)`,
          // Two decimals: the target is 1.2×.
          ratio: `${(p50 / baseline).toFixed(2)}×`,
          target: `≤ ${TARGET}× baseline`,
          met: p50 <= TARGET * baseline,
        };
      });
  },
};

export const startupScenarios = [startup];
