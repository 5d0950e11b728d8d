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
import { DapWire, startTcpAdapter } from './dapWire.mjs';

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
let wire;
let workdir;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    wire?.socket.destroy();
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
wire = await DapWire.tcp(target);
wire.onMessage((message) => {
  if (message.type !== 'event') return;
  if (message.event === 'output') {
    const text = message.body.output.replace(/\n$/, '');
    if (text.trim() !== '') {
      for (const line of text.split('\n'))
        say(`   ${message.body.category === 'stdout' ? '│' : '·'} ${line}`);
    }
  }
});
const next = (predicate) => wire.nextEvent(predicate);
const stopped = async (reason) => {
  const event = await next((m) => m.event === 'stopped');
  if (event.body.reason !== reason) throw new Error(`expected a ${reason} stop, got ${event.body.reason}`);
  const { body } = await wire.request('stackTrace', { threadId: 1 });
  say(
    `⏸  stopped (${event.body.reason}): ${event.body.description}; top frame "${body.stackFrames[0].name}" at line ${body.stackFrames[0].line}`,
  );
  return body.stackFrames[0];
};

let exitCode;
try {
  say(`▶  launch ${path.relative(root, job)} (steps run in ${workdir})`);
  const initialized = next((m) => m.event === 'initialized');
  await wire.request('initialize', { adapterID: 'relay', clientID: 'relay-dap-demo', linesStartAt1: true });
  await initialized;
  const launched = wire.request('launch', { program: job, cwd: workdir, stopOnEntry: true });
  const buildLine =
    fs
      .readFileSync(job, 'utf8')
      .split('\n')
      .findIndex((line) => line.includes('name: Build')) + 1;
  const breakpoints = await wire.request('setBreakpoints', {
    source: { path: job },
    breakpoints: [{ line: buildLine }],
  });
  say(
    `●  breakpoint at line ${buildLine} (Build): ${breakpoints.body.breakpoints[0].verified ? 'verified' : 'not verified'}`,
  );
  await wire.request('configurationDone');
  await launched;

  await stopped('entry');
  say('⌨  console: !uname -a');
  const uname = await wire.request('evaluate', { expression: '!uname -a', context: 'repl' });
  say(`   → ${uname.body.result}`);

  say('▶  continue');
  await wire.request('continue', { threadId: 1 });
  await stopped('breakpoint');

  say('▶  continue');
  await wire.request('continue', { threadId: 1 });
  const failed = await stopped('exception');
  const info = await wire.request('exceptionInfo', { threadId: 1 });
  say(`✗  ${info.body.description}; last output: ${JSON.stringify(info.body.details.stackTrace.trim())}`);

  say('⌨  console: !touch build/fixed   (fix what the test wanted)');
  const fix = await wire.request('evaluate', { expression: '!touch build/fixed', context: 'repl' });
  say(`   → ${fix.body.result}`);
  say('↻  restart frame: run Test again');
  await wire.request('restartFrame', { frameId: failed.id });
  await stopped('restart');
  const deploying = next((m) => m.event === 'output' && m.body.output.includes('deploying'));
  await wire.request('continue', { threadId: 1 });
  await deploying;

  say('■  terminate while Deploy runs');
  const exited = next((m) => m.event === 'exited');
  const terminated = next((m) => m.event === 'terminated');
  await wire.request('terminate');
  exitCode = (await exited).body.exitCode;
  await terminated;
  say(`■  exited with code ${exitCode}, then terminated`);
  await wire.request('disconnect');
} catch (error) {
  say(`demo failed: ${error.message}`);
} finally {
  wire.socket.destroy();
  await ownAdapter?.stop();
  fs.rmSync(workdir, { recursive: true, force: true });
}
process.exitCode = exitCode === 130 ? 0 : 1;
