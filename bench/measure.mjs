// Small measuring tools shared by the bench scenarios.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const bin = path.join(root, 'dist', 'relay-dap.cjs');

export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const ms = (value) => `${value.toFixed(1)} ms`;
export const ratio = (a, b) => `${(a / b).toFixed(1)}×`;

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A fresh temporary folder `dir` and the relay directory inside it (not created: the server does). */
export function tempRelayDir(prefix) {
  const dir = tempDir(prefix);
  return { dir, relayDir: path.join(dir, 'relay') };
}

/** `bash -c TEXT` spawned directly: the baseline a relayed command is compared with. */
export function spawnBash(text, stdio = 'ignore') {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '--', text], { stdio });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

/** `relay-dap serve` as its own process, resolved once it serves. */
export async function startServer(relayDir, args = []) {
  const child = spawn(
    process.execPath,
    [bin, 'serve', '--relay-dir', relayDir, '--workdir', os.tmpdir(), ...args],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const deadline = Date.now() + 20_000;
  while (!/serving /.test(stderr)) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`relay-dap serve did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return {
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

export async function timed(fn) {
  const begin = performance.now();
  const value = await fn();
  return { ms: performance.now() - begin, value };
}
