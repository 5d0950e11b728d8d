#!/usr/bin/env node
// `npm start`: the adapter on TCP 127.0.0.1:4711 with the embedded relay (commands run on
// this machine), built first if needed, and how to connect an editor to it.
// `npm start -- --port 0` picks a free port; `--host H` listens elsewhere.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'dist', 'cli', 'main.js');

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
const adapter = spawn(process.execPath, [bin, `--server=${port}`, '--host', host], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
adapter.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const match = /listening on (\S+):(\d+)/.exec(chunk.toString());
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
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => adapter.kill(signal));
adapter.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
