/**
 * What the adapter's start-up loads (issue 12, item 9: an editor waits for its first answer).
 * Its speed is measured in `npm run bench`; here, the reason for it: an `initialize` and a
 * `--server` that is listening need only the command line (main.cjs) and the DAP session
 * (adapter.cjs). The job layer (job.cjs) and the packages under it (yaml.cjs, ajv.cjs) are
 * loaded at the first launch, so the adapter starts from a dist/ that lacks them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CLIENT_CAPS, EVENT_TIMEOUT_MS } from '../support/adapterHarness.js';
import { DapClient } from '../support/dapClient.js';
import { relayDapBin, tempDir, waitUntil } from '../support/relayHarness.js';

/** What an adapter's start-up may read of dist/: the launcher and the two bundles it runs. */
const START_UP_FILES = ['relay-dap.cjs', 'main.cjs', 'adapter.cjs'];

let home: string;
let bin: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  home = tempDir('relay-dap-startup-');
  const dist = path.join(home, 'dist');
  fs.mkdirSync(dist);
  for (const file of START_UP_FILES)
    fs.copyFileSync(path.join(path.dirname(relayDapBin), file), path.join(dist, file));
  bin = path.join(dist, 'relay-dap.cjs');
  // A cache of its own: the first run compiles, and writes one cache file per bundle it ran.
  env = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') };
});
afterEach(() => fs.rmSync(home, { recursive: true, force: true }));

describe('the adapter starts with only main.cjs and adapter.cjs beside the launcher', () => {
  it.each(['with an empty compile cache', 'with the cache its first run wrote'])(
    'answers initialize over stdio, %s, and exits 0 when its client closes',
    async (cache) => {
      if (cache.includes('first run')) await initializeOverStdio();
      await initializeOverStdio();
    },
  );

  it('--server=0 says where it listens and answers initialize there', async () => {
    const adapter = spawn(process.execPath, [bin, '--server=0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    adapter.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    adapter.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((resolve) =>
      adapter.once('exit', (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitUntil(
        () => /listening on 127\.0\.0\.1:\d+/.test(output) || adapter.exitCode !== null,
        'the adapter to listen',
        EVENT_TIMEOUT_MS,
      );
      const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      expect(port, output).toBeGreaterThan(0);
      const socket = net.connect(port, '127.0.0.1');
      const client = DapClient.overSocket(socket);
      const initialize = await client.request('initialize', { ...DEFAULT_CLIENT_CAPS });
      expect(initialize.success, output).toBe(true);
      expect(initialize.body?.supportsConfigurationDoneRequest).toBe(true);
      await client.close();
      client.assertClean();
    } finally {
      adapter.kill('SIGTERM');
      await exited;
    }
    expect(output).not.toMatch(/Cannot find module|internal error/);
  });
});

async function initializeOverStdio(): Promise<void> {
  const adapter = spawn(process.execPath, [bin], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => adapter.once('exit', (code, signal) => resolve({ code, signal })));
  const client = DapClient.overStdio(adapter);
  const initialize = await client.request('initialize', { ...DEFAULT_CLIENT_CAPS });
  expect(initialize.success, client.stderr).toBe(true);
  expect(initialize.body?.exceptionBreakpointFilters?.map((filter) => filter.filter)).toEqual([
    'failed',
    'cancelled',
  ]);
  adapter.stdin.end();
  expect(await exited).toEqual({ code: 0, signal: null });
  client.assertClean();
  expect(client.stderr).toBe('');
}
