#!/usr/bin/env node
// `npm start`: the adapter on TCP 127.0.0.1:4711 with the embedded relay (commands run on
// this machine), built first if needed, and how to connect an editor to it.
// `npm start -- --port 0` picks a free port; `--host H` listens elsewhere.
//
// The adapter runs in this very process, and package.json starts it with `exec`, so that it
// is the process npm waits on: npm forwards SIGINT/SIGTERM to its child, and with `sh -c`
// and a second node in between, a SIGINT sent to npm alone stopped at the shell (which waits
// for its child to die of SIGINT first) and the adapter kept its port. What npm cannot
// forward (npm killed, or dying of SIGHUP) is noticed by watching our parent: when npm is
// gone we are re-parented, and the adapter stops as if told SIGTERM.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'dist', 'relay-dap.cjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : fs.statSync(file).mtimeMs);
  }
  return newest;
}

if (!fs.existsSync(bin) || fs.statSync(bin).mtimeMs < newestSource(path.join(root, 'src'))) {
  process.stderr.write('npm start: building first (npm run build)…\n');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const args = process.argv.slice(2);
const port = args.includes('--port') ? args[args.indexOf('--port') + 1] : '4711';
const host = args.includes('--host') ? args[args.indexOf('--host') + 1] : '127.0.0.1';

function ready(line) {
  const match = /listening on (\S+):(\d+)/.exec(line);
  if (!match) return;
  const [, address, listening] = match;
  process.stdout.write(`
relay-dap is ready on ${address}:${listening}, with an embedded relay (commands run on this machine).

  VS Code: add to .vscode/launch.json, then press F5 (the relay-dap extension, or any
  client that lets you name a debug server):
    { "type": "relay", "request": "launch", "name": "relay-dap", "debugServer": ${listening},
      "program": "\${workspaceFolder}/launch-configs/demo-job.yml" }

  nvim-dap: in your config, then :DapContinue
    require('dap').adapters.relay = { type = 'server', host = '${address}', port = ${listening} }
    require('dap').configurations.yaml = { { type = 'relay', request = 'launch', name = 'relay-dap',
      program = '\${file}' } }

  Or watch a whole session: npm run demo${listening === '4711' ? '' : ` -- --port ${listening}`}
  More editors: launch-configs/. Stop with Ctrl-C.
`);
}

const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid === parent) return;
  clearInterval(watch);
  process.stderr.write('npm start: npm has gone; stopping the adapter\n');
  process.kill(process.pid, 'SIGTERM');
}, 500);
watch.unref();

for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
const { runAdapter } = await import(pathToFileURL(path.join(root, 'dist', 'cli', 'adapterCommand.js')).href);
const io = {
  error: (line) => process.stderr.write(line + '\n'),
  stdout: {
    write(chunk) {
      process.stdout.write(chunk);
      ready(chunk.toString());
      return true;
    },
  },
  stdin: process.stdin,
};
const options = new Map([
  ['server', port],
  ['host', host],
]);
try {
  process.exitCode = await runAdapter({ command: undefined, options, positionals: [] }, io);
} catch (error) {
  process.stderr.write(`npm start: ${error.message}\n`);
  process.exitCode = 1;
}
