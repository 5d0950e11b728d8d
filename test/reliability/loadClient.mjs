// One of the ten client processes of the "1,000 commands at once" load test
// (test/reliability/load.test.ts): opens a RelayClient on the relay directory, submits COUNT
// commands at once, collects each one's output and exit code, and prints them as one JSON
// document on stdout.
//
// Usage: node loadClient.mjs RELAY_DIR CLIENT_INDEX COUNT SHARED_FILE MARKER
//
// Command j of client k (number n = k * COUNT + j) appends its relay id ($RELAY_CMD_ID) to
// SHARED_FILE, prints one line naming itself and its id, and exits with n % 256.
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [relayDir, clientText, countText, sharedFile, marker] = process.argv.slice(2);
const clientIndex = Number(clientText);
const count = Number(countText);
const root = path.resolve(import.meta.dirname, '..', '..');
const { RelayClient } = await import(pathToFileURL(path.join(root, 'dist', 'relay', 'client.js')).href);

function textOf(j) {
  const n = clientIndex * count + j;
  return (
    `export ${marker}=1; printf '%s\\n' "$RELAY_CMD_ID" >> '${sharedFile}'; ` +
    `printf 'client ${clientIndex} command ${j} id %s\\n' "$RELAY_CMD_ID"; exit ${n % 256}`
  );
}

function collect(command) {
  const chunks = [];
  command.output.on('data', (chunk) => chunks.push(chunk));
  const ended = new Promise((resolve, reject) => {
    command.output.once('end', resolve);
    command.output.once('error', reject);
  });
  return Promise.all([command.exit, ended]).then(([outcome]) => ({
    j: Number(command.j),
    id: command.id,
    exitCode: outcome.exitCode,
    output: Buffer.concat(chunks).toString('utf8'),
  }));
}

const client = await RelayClient.open({ relayDir });
const started = performance.now();
const commands = Array.from({ length: count }, (_, j) => Object.assign(client.submit(textOf(j)), { j }));
const results = [];
const failures = [];
await Promise.all(
  commands.map((command) =>
    collect(command).then(
      (result) => results.push(result),
      (error) => failures.push({ j: command.j, id: command.id, error: String(error) }),
    ),
  ),
);
await client.close();
process.stdout.write(
  JSON.stringify({
    client: clientIndex,
    pid: process.pid,
    ms: performance.now() - started,
    results,
    failures,
  }),
);
