/**
 * The VS Code extension as a user gets it (issue 12, item 1): `npm run package` in a copy of
 * this checkout, the .vsix unpacked, and the adapter started from the unpacked folder alone —
 * in an empty directory with no node_modules anywhere above it, the way desktop VS Code starts
 * a `runtime: node` adapter (a forked Node that require()s the program) — then a whole DAP
 * session through it over stdio.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DapClient } from '../support/dapClient.js';
import { DEFAULT_CLIENT_CAPS, EVENT_TIMEOUT_MS } from '../support/adapterHarness.js';
import { repoRoot, tempDir } from '../support/relayHarness.js';
import { extractZip } from '../support/zip.js';
import { packageVsix } from '../support/vsixPackage.js';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  contributes: { debuggers: { program: string; runtime: string }[] };
};
/** What desktop VS Code runs for a `runtime: node` adapter (its Electron, as Node). */
const VS_CODE_FORK_ARGS = ['-e', 'delete process.env.ELECTRON_RUN_AS_NODE;require(process.argv[1])'];

let work: string;
let vsix: string;
let files: string[];
let unpacked: string;

function nodeModulesAbove(dir: string): string | undefined {
  for (let at = dir; ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, 'node_modules'))) return path.join(at, 'node_modules');
    if (path.dirname(at) === at) return undefined;
  }
}

beforeAll(() => {
  work = tempDir('relay-dap-vsix-');
  vsix = packageVsix(work);
  // The extension folder alone, somewhere no node_modules can help it.
  unpacked = path.join(work, 'installed');
  files = extractZip(vsix, unpacked);
}, 360_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the VS Code extension, from the .vsix that npm run package builds', () => {
  it('holds the bundled adapter and its documents, and nothing else', () => {
    const documents = files.filter(
      (name) => name.startsWith('extension/launch-configs/') || /^extension\/docs\/[^/]+\.md$/.test(name),
    );
    expect(documents).toContain('extension/docs/relay-protocol.md');
    expect(files.filter((name) => !documents.includes(name))).toEqual(
      [
        '[Content_Types].xml',
        'extension.vsixmanifest',
        'extension/LICENSE.txt',
        'extension/changelog.md',
        'extension/dist/THIRD-PARTY-NOTICES.txt',
        'extension/dist/adapter.cjs',
        'extension/dist/ajv.cjs',
        'extension/dist/channelReaper.js',
        'extension/dist/embeddedReaper.js',
        'extension/dist/job.cjs',
        'extension/dist/main.cjs',
        'extension/dist/relay-dap.cjs',
        'extension/dist/yaml.cjs',
        'extension/images/icon.png',
        'extension/package.json',
        'extension/readme.md',
      ].sort(),
    );
  });

  it('has the manifest of a published extension, and its README links stay inside the package', () => {
    const installed = JSON.parse(
      fs.readFileSync(path.join(unpacked, 'extension', 'package.json'), 'utf8'),
    ) as {
      repository?: { url: string };
      license?: string;
      icon?: string;
      categories?: string[];
      keywords?: string[];
      contributes: { debuggers: { program: string; runtime: string }[] };
    };
    expect(installed.repository?.url).toMatch(/^https:\/\//);
    expect(installed.license).toBe('MIT');
    expect(fs.existsSync(path.join(unpacked, 'extension', installed.icon!))).toBe(true);
    expect(installed.categories).toEqual(['Debuggers']);
    expect(installed.keywords?.length).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(unpacked, 'extension', 'LICENSE.txt'), 'utf8')).toContain(
      'relay-dap contributors',
    );
    const readme = fs.readFileSync(path.join(unpacked, 'extension', 'readme.md'), 'utf8');
    const relativeLinks = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)]
      .map((match) => match[1]!)
      .filter((target) => !/^[a-z]+:/.test(target));
    expect(relativeLinks.length).toBeGreaterThan(0);
    for (const target of relativeLinks)
      expect(fs.existsSync(path.join(unpacked, 'extension', target)), `README links ${target}`).toBe(true);
  });

  it('ships no source map, and no file that points at one', () => {
    expect(files.filter((name) => name.endsWith('.map'))).toEqual([]);
    for (const name of files.filter((file) => /\.(c|m)?js$/.test(file)))
      expect(fs.readFileSync(path.join(unpacked, name), 'utf8'), name).not.toMatch(/sourceMappingURL/);
  });

  it('runs a whole session from the unpacked folder alone, started the way VS Code starts it', async () => {
    const { program, runtime } = manifest.contributes.debuggers[0]!;
    expect(runtime).toBe('node');
    const home = tempDir('relay-dap-vsix-session-');
    try {
      const extension = path.join(home, 'extension');
      fs.cpSync(path.join(unpacked, 'extension'), extension, { recursive: true });
      const cwd = path.join(home, 'project');
      const tmp = path.join(home, 'tmp');
      fs.mkdirSync(cwd);
      fs.mkdirSync(tmp);
      expect(nodeModulesAbove(cwd), 'a node_modules above the test directory').toBeUndefined();
      expect(nodeModulesAbove(extension)).toBeUndefined();

      const adapter = spawn(process.execPath, [...VS_CODE_FORK_ARGS, path.join(extension, program)], {
        cwd,
        env: { PATH: process.env.PATH, HOME: home, TMPDIR: tmp },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const exit = new Promise((resolve) =>
        adapter.once('exit', (code, signal) => resolve({ code, signal })),
      );
      const client = DapClient.overStdio(adapter);

      // 1 >> initialize  << response
      const initialize = await client.request('initialize', { ...DEFAULT_CLIENT_CAPS });
      expect(initialize.success, client.stderr).toBe(true);
      // 2 >> launch (held until configurationDone)  << initialized  3 >> configurationDone
      const launching = client.request('launch', {
        type: 'relay',
        request: 'launch',
        name: 'from the vsix',
        command: 'echo hello from the vsix',
        stopOnEntry: true,
      });
      await client.waitForEvent('initialized', undefined, EVENT_TIMEOUT_MS);
      expect((await client.request('configurationDone')).success).toBe(true);
      const launched = await launching;
      expect(launched.success, `${launched.message}\n${client.stderr}`).toBe(true);
      // << stopped (entry)
      const stopped = await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
      expect(stopped.body.reason).toBe('entry');
      // 4 >> continue  << output, exited(0), terminated
      expect((await client.request('continue', { threadId: stopped.body.threadId! })).success).toBe(true);
      const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
      expect(exited.body.exitCode).toBe(0);
      await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect(client.output()).toContain('hello from the vsix');
      // 5 >> disconnect  << response; the adapter exits 0
      expect((await client.request('disconnect', {})).success).toBe(true);
      adapter.stdin.end();
      expect(await exit).toEqual({ code: 0, signal: null });
      client.assertClean();
      expect(client.stderr).toBe('');
      // The embedded relay cleaned up after itself.
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
