#!/usr/bin/env node
// `npm run demo`: one whole debug session of launch-configs/demo-job.yml against the adapter
// that `npm start` runs (127.0.0.1:4711; `-- --port N` for another), or against one of its
// own if none is listening, printed as a readable transcript: paused at entry, `!uname -a`
// in the console, a breakpoint, a failing step that pauses and is fixed and re-run, and a
// cancel that ends with exit code 130. Exits 0 only if all of that happened.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectTcp, initialize, launch, nextEvent, startTcpAdapter } from './adapterSession.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const job = path.join(root, 'launch-configs', 'demo-job.yml');
const args = process.argv.slice(2);
const port = Number(args.includes('--port') ? args[args.indexOf('--port') + 1] : 4711);
const began = Date.now();

function say(text) {
  const seconds = ((Date.now() - began) / 1000).toFixed(2).padStart(6);
  process.stdout.write(`${seconds}s  ${text}\n`);
}

function listening(portNumber) {
  return new Promise((resolve) => {
    const socket = net.connect(portNumber, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Ctrl-C mid-demo: the adapter cancels the session when the connection closes; remove the
// steps' directory here, since the finally below never runs. (An adapter of our own that is
// still starting is stopped by startTcpAdapter's exit hook.)
let ownAdapter;
let connection;
let workdir;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    connection?.close();
    await ownAdapter?.stop();
    if (workdir) fs.rmSync(workdir, { recursive: true, force: true });
    process.exit(130);
  });
}

let target = port;
if (!(await listening(port))) {
  ownAdapter = await startTcpAdapter();
  target = ownAdapter.port;
  say(`no relay-dap on 127.0.0.1:${port} (start one with npm start); using one of its own on port ${target}`);
}

workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'relay-dap-demo-'));
connection = await connectTcp(target);
const { client } = connection;
client.on('output', (event) => {
  const text = event.body.output.replace(/\n$/, '');
  if (text.trim() !== '') {
    for (const line of text.split('\n')) say(`   ${event.body.category === 'stdout' ? '│' : '·'} ${line}`);
  }
});
/** Sends `request()` and waits for the `stopped` it causes, which must be for `reason`. */
const stopsAfter = async (reason, request) => {
  const stop = nextEvent(client, 'stopped');
  await request();
  const event = await stop;
  if (event.body.reason !== reason) throw new Error(`expected a ${reason} stop, got ${event.body.reason}`);
  const { body } = await client.stackTraceRequest({ threadId: 1 });
  say(
    `⏸  stopped (${event.body.reason}): ${event.body.description}; top frame "${body.stackFrames[0].name}" at line ${body.stackFrames[0].line}`,
  );
  return body.stackFrames[0];
};

let exitCode;
try {
  say(`▶  launch ${path.relative(root, job)} (steps run in ${workdir})`);
  await initialize(client, { clientID: 'relay-dap-demo' });
  const buildLine =
    fs
      .readFileSync(job, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes('name: Build')) + 1;
  await stopsAfter('entry', () =>
    launch(client, { program: job, cwd: workdir, stopOnEntry: true }, async () => {
      const breakpoints = await client.setBreakpointsRequest({
        source: { path: job },
        breakpoints: [{ line: buildLine }],
      });
      say(
        `●  breakpoint at line ${buildLine} (Build): ${breakpoints.body.breakpoints[0].verified ? 'verified' : 'not verified'}`,
      );
    }),
  );
  say('⌨  console: !uname -a');
  const uname = await client.evaluateRequest({ expression: '!uname -a', context: 'repl' });
  say(`   → ${uname.body.result}`);

  say('▶  continue');
  await stopsAfter('breakpoint', () => client.continueRequest({ threadId: 1 }));

  say('▶  continue');
  const failed = await stopsAfter('exception', () => client.continueRequest({ threadId: 1 }));
  const info = await client.exceptionInfoRequest({ threadId: 1 });
  say(`✗  ${info.body.description}; last output: ${JSON.stringify(info.body.details.stackTrace.trim())}`);

  say('⌨  console: !touch build/fixed   (fix what the test wanted)');
  const fix = await client.evaluateRequest({ expression: '!touch build/fixed', context: 'repl' });
  say(`   → ${fix.body.result}`);
  say('↻  restart frame: run Test again');
  await stopsAfter('restart', () => client.restartFrameRequest({ frameId: failed.id }));
  const deploying = nextEvent(client, 'output', (e) => e.body.output.includes('deploying'));
  await client.continueRequest({ threadId: 1 });
  await deploying;

  say('■  terminate while Deploy runs');
  const exited = nextEvent(client, 'exited');
  const terminated = nextEvent(client, 'terminated');
  await client.terminateRequest();
  exitCode = (await exited).body.exitCode;
  await terminated;
  say(`■  exited with code ${exitCode}, then terminated`);
  await client.disconnectRequest();
} catch (error) {
  say(`demo failed: ${error.message}`);
} finally {
  connection.close();
  await ownAdapter?.stop();
  fs.rmSync(workdir, { recursive: true, force: true });
}
process.exitCode = exitCode === 130 ? 0 : 1;
