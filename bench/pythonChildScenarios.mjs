// `!debug` (issue 13, item 4): a child session's `stackTrace` round trip, through the parent
// adapter and a relay channel to debugpy on the far side, against a client talking to the same
// debugpy adapter directly (debugServer mode on a loopback port). Both clients are the same
// DebugClient over TCP (connectTcp: its adapter type is only a label).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  connectTcp,
  initialize,
  launch,
  nextEvent,
  now,
  startTcpAdapter,
} from '../scripts/adapterSession.mjs';
import { ms, percentile, ratio, tempDir } from './measure.mjs';

const ROUND_TRIPS = 100;
const SCRIPT = ['import time', 'def work(n):', '    total = n * 2', '    return total', 'work(21)', ''].join(
  '\n',
);
const BREAK_LINE = 3;

function pythonWithDebugpy() {
  for (const python of ['python3', '/usr/bin/python3'])
    if (spawnSync(python, ['-c', 'import debugpy'], { stdio: 'ignore' }).status === 0) return python;
  throw new Error('no python3 here imports debugpy: apt-get install python3-debugpy');
}

/** Stopped at the breakpoint in work(): the p50 of `stackTrace` round trips, after 10 to warm up. */
async function stackTraceTimes(client, request, args, script) {
  const initialized = nextEvent(client, 'initialized');
  await client.initializeRequest({
    adapterID: 'python',
    linesStartAt1: true,
    columnsStartAt1: true,
    pathFormat: 'path',
  });
  const started = client.send(request, args);
  await initialized;
  const stopped = nextEvent(client, 'stopped');
  await client.setBreakpointsRequest({ source: { path: script }, breakpoints: [{ line: BREAK_LINE }] });
  await client.configurationDoneRequest();
  await started;
  const { body } = await stopped;
  const times = [];
  for (let i = 0; i < ROUND_TRIPS + 10; i++) {
    const begin = now();
    const response = await client.stackTraceRequest({ threadId: body.threadId });
    if (response.body.stackFrames[0]?.line !== BREAK_LINE)
      throw new Error('stackTrace: not at the breakpoint');
    if (i >= 10) times.push(now() - begin);
  }
  await client.disconnectRequest({ terminateDebuggee: true });
  return times;
}

const childStackTrace = {
  id: 'adapter-python-child',
  async run() {
    const python = pythonWithDebugpy();
    const dir = tempDir('relay-dap-bench-pychild-');
    const script = path.join(dir, 'work.py');
    fs.writeFileSync(script, SCRIPT);

    // Through relay-dap: the address a client without startDebugging is given.
    const adapter = await startTcpAdapter();
    const parent = await connectTcp(adapter.port);
    const paused = nextEvent(parent.client, 'stopped');
    await initialize(parent.client);
    await launch(parent.client, { command: 'true', cwd: dir, stopOnEntry: true });
    await paused;
    const address = nextEvent(parent.client, 'output', (e) =>
      /waits for a Python debugger: attach one to/.test(e.body.output),
    );
    const debugging = parent.client.evaluateRequest({
      expression: `!debug ${python} work.py`,
      context: 'repl',
    });
    const port = Number(/127\.0\.0\.1:(\d+)/.exec((await address).body.output)[1]);
    const child = await connectTcp(port);
    const relayed = await stackTraceTimes(child.client, 'attach', {}, script);
    child.close();
    await debugging;
    await parent.client.disconnectRequest({ terminateDebuggee: true });
    parent.close();
    await adapter.stop();

    // Directly: debugpy's adapter listening here, launching the same script.
    const free = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => free.once('listening', resolve));
    const directPort = free.address().port;
    await new Promise((resolve) => free.close(resolve));
    const debugpy = spawn(
      python,
      ['-m', 'debugpy.adapter', '--host', '127.0.0.1', '--port', String(directPort)],
      {
        stdio: 'ignore',
      },
    );
    let direct;
    try {
      let connection;
      for (let i = 0; i < 100 && !connection; i++) {
        connection = await connectTcp(directPort).catch(() => undefined);
        if (!connection) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      direct = await stackTraceTimes(
        connection.client,
        'launch',
        { program: script, cwd: dir, console: 'internalConsole', justMyCode: true },
        script,
      );
      connection.close();
    } finally {
      debugpy.kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const [r50, d50] = [percentile(relayed, 50), percentile(direct, 50)];
    return [
      {
        name: '`!debug` child session: stackTrace round trip, p50',
        value: `${ms(r50)} (p95 ${ms(percentile(relayed, 95))})`,
        baseline: `${ms(d50)} (debugpy's adapter directly)`,
        ratio: ratio(r50, d50),
        target: '< 3× direct',
        met: r50 < 3 * d50,
      },
    ];
  },
};

export const pythonChildScenarios = [childStackTrace];
