// What relay-dap runs differently from GitHub's runner is said at launch, never silent: one
// console line per difference (a container, services, a Windows or macOS runner, permissions,
// concurrency, an environment) before the first stop; a job whose `if:` is false is skipped as
// GitHub skips it; a skipped setup action says what it would have done on GitHub. Each session
// runs the real adapter over stdio with its embedded relay (real bash).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';

const ctx = useAdapterContext();
const services = session.workflowFixture('integration-services.yml');
const rust = session.workflowFixture('rust-setup.yml');

/** `key (line N)` of the first line holding `text` (after line `after`). */
function at(file: string, key: string, text: string, after = 0): string {
  return `${key} (line ${session.lineOf(file, text, after)})`;
}

const PERMISSIONS = "not applied: they scope GitHub's GITHUB_TOKEN, which relay-dap does not issue";
const CONCURRENCY = 'not applied: other runs in the same group are neither queued nor cancelled';
/** The workflow-level `permissions:` and `concurrency:` of integration-services.yml: said for every job. */
const WORKFLOW_LEVEL = [
  `relay-dap: ${at(services, 'permissions', 'permissions:')}: ${PERMISSIONS}`,
  `relay-dap: ${at(services, 'concurrency', 'concurrency:')}: ${CONCURRENCY}`,
];

/** A session launched with these arguments (in the test's workdir), paused on entry. */
async function pausedOnEntry(args: Record<string, unknown>) {
  const adapter = await ctx.runJob({ cwd: ctx.workdir, ...args });
  await session.stoppedAt(adapter.client, 'entry');
  return adapter;
}

/** Paused on entry, the console says `said` (exactly); then the job runs to its end with exit 0. */
async function saysThenRuns(args: Record<string, unknown>, said: string[]) {
  const adapter = await pausedOnEntry(args);
  expect(session.consoleLines(adapter.client)).toEqual(said);
  await session.continueJob(adapter.client);
  await session.runToEnd(adapter.client, 0);
  return adapter;
}

describe('differences from GitHub said at launch', () => {
  it('container, services, workflow permissions and concurrency: one console line each, in file order, before the entry stop; setup actions say what they would have done', async () => {
    const adapter = await pausedOnEntry({ program: services, job: 'integration' });
    const { client } = adapter;
    expect(session.consoleLines(client)).toEqual([
      ...WORKFLOW_LEVEL,
      `relay-dap: ${at(services, 'container', 'container: python:3.12-slim')}: python:3.12-slim is not used: the steps run where the relay server runs, not in that image`,
      `relay-dap: ${at(services, 'services', 'services:')}: postgres (postgres:16), redis (redis:7) not started: the steps run where the relay server runs, without them`,
    ]);
    const atEntry = session.consoleLines(client).length;
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    // Each skipped setup action: its result line, and before it what it does on GitHub.
    expect(session.consoleLines(client).slice(atEntry)).toEqual([
      'actions/checkout@v4 skipped: on GitHub it clones the repository into the workspace; here the steps run in your checkout',
      'actions/setup-python@v5 skipped: on GitHub it installs python and puts it on PATH; here the steps use the python found on PATH, if any',
      'actions/cache@v4 skipped: on GitHub it restores and saves cached files between runs; here nothing is cached',
      "actions/upload-artifact@v4 skipped: on GitHub it uploads files as the run's artifact; here the files stay where the steps wrote them",
    ]);
    await session.finishWith(ctx, adapter, {
      stdout: 'pytest tests/integration against postgres://postgres:postgres@postgres:5432/app (stand-in)\n',
      stops: ['entry'],
    });
  });

  it('a Windows runner: said with its label, the steps run in Linux bash', async () => {
    const windows = session.lineOf(services, '  windows:');
    const adapter = await saysThenRuns({ program: services, job: 'windows' }, [
      ...WORKFLOW_LEVEL,
      `relay-dap: ${at(services, 'runs-on', 'runs-on: windows-latest', windows)}: windows-latest is not used: the steps run in Linux bash on the relay server's side, not on Windows`,
    ]);
    expect(session.stepResults(adapter.client)).toEqual(['✓ Build: exit 0, T s']);
    await session.finish(ctx, adapter);
  });

  it('an environment, job permissions and job concurrency; a job `if: success()` runs', async () => {
    const deploy = session.lineOf(services, '  deploy:');
    const adapter = await saysThenRuns({ program: services, job: 'deploy' }, [
      ...WORKFLOW_LEVEL,
      `relay-dap: ${at(services, 'environment', 'environment:', deploy)}: production: its protection rules and environment secrets do not apply here`,
      `relay-dap: ${at(services, 'permissions', 'permissions:', deploy)}: ${PERMISSIONS}`,
      `relay-dap: ${at(services, 'concurrency', 'concurrency: deploy-production')}: ${CONCURRENCY}`,
    ]);
    expect(outputByCategory(adapter.client).stdout).toBe('deploying (stand-in)\n');
    await session.finish(ctx, adapter);
  });

  it('a macOS runner from the matrix; every common setup action says what it does on GitHub, another action only that it is not run', async () => {
    const adapter = await ctx.runJob({
      program: rust,
      matrix: { os: 'macos-14' },
      cwd: ctx.workdir,
      stopOnEntry: false,
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    expect(session.consoleLines(client)).toEqual([
      `relay-dap: ${at(rust, 'runs-on', 'runs-on:')}: macos-14 is not used: the steps run in Linux bash on the relay server's side, not on macOS`,
      'actions/checkout@v4 skipped: on GitHub it clones the repository into the workspace; here the steps run in your checkout',
      'dtolnay/rust-toolchain@stable skipped: on GitHub it installs a Rust toolchain with rustup; here the steps use the cargo and rustc on PATH',
      'Swatinem/rust-cache@v2 skipped: on GitHub it restores and saves Cargo caches between runs; here nothing is cached',
      'astral-sh/setup-uv@v5 skipped: on GitHub it installs uv and puts it on PATH; here the steps use the uv found on PATH, if any',
      'actions/download-artifact@v4 skipped: on GitHub it downloads artifacts of earlier jobs; here none are downloaded',
    ]);
    // An action outside the table keeps the plain skip reason, with no guess at what it does.
    expect(session.stepResults(client)).toContain(
      '– Run octo-org/lint-action@v1: skipped (`uses: octo-org/lint-action@v1` runs an action, which relay-dap does not run)',
    );
    await session.finish(ctx, adapter);
  });

  it('the ubuntu combination of the same matrix says nothing about its runner', async () => {
    const adapter = await pausedOnEntry({ program: rust, matrix: { os: 'ubuntu-latest' } });
    expect(session.consoleLines(adapter.client)).toEqual([]);
    await session.finish(ctx, adapter);
  });
});

describe('a job-level if:', () => {
  it('if: failure() is false for a job whose needs succeeded: the job is skipped, nothing runs, exited 0 and terminated', async () => {
    const adapter = await ctx.runJob({ program: services, job: 'notify-failure', cwd: ctx.workdir });
    const { client, launch } = adapter;
    expect(launch.success).toBe(true);
    await session.runToEnd(client, 0);
    const line = session.lineOf(services, 'if: failure()');
    expect(session.consoleLines(client)).toEqual([
      ...WORKFLOW_LEVEL,
      `relay-dap: This job was skipped: its if: failure() (line ${line}) is false, so no step runs`,
    ]);
    // Nothing ran: no step started or ended, no output, no stop; the session ended as a job does.
    expect(session.stepResults(client)).toEqual([]);
    expect(client.output('console')).not.toContain('▶');
    expect(outputByCategory(client).stdout).toBeUndefined();
    const events = client
      .transcriptSummary()
      .filter((entry) => /event (stopped|exited|terminated|thread)/.test(entry));
    expect(events.map((entry) => entry.replace(/^.*event /, ''))).toEqual([
      expect.stringMatching(/^exited/),
      expect.stringMatching(/^terminated/),
    ]);
    await session.finish(ctx, adapter);
  });

  it('if: ${{ always() && !cancelled() }} is true: the job runs', async () => {
    const adapter = await ctx.runJob({
      program: services,
      job: 'cleanup',
      cwd: ctx.workdir,
      stopOnEntry: false,
    });
    await session.finishWith(ctx, adapter, {
      exitCode: 0,
      steps: ['✓ Remove preview: exit 0, T s'],
      stdout: 'cleaning up\n',
    });
  });

  it('an if: reading github is decided at launch: the release job of a branch push is skipped', async () => {
    // `github.ref` from the launch argument, so the checkout the fixture sits in does not matter.
    const adapter = await ctx.runJob({
      program: services,
      job: 'release',
      cwd: ctx.workdir,
      github: { ref: 'refs/heads/main' },
    });
    const { client } = adapter;
    await session.runToEnd(client, 0);
    const line = session.lineOf(services, "if: github.event_name == 'push'");
    expect(session.consoleLines(client)).toContain(
      `relay-dap: This job was skipped: its if: github.event_name == 'push' && startsWith(github.ref, 'refs/tags/') (line ${line}) is false, so no step runs`,
    );
    expect(outputByCategory(client).stdout).toBeUndefined();
    expect(client.transcriptSummary().filter((entry) => /event stopped/.test(entry))).toEqual([]);
    await session.finish(ctx, adapter);
  });
});

describe('shell: pwsh', () => {
  const program = session.workflowFixture('powershell.yml');
  const pwshLine = session.lineOf(program, '- name: Read the version');

  const hasPwsh = session.onPath('pwsh');

  it('missing where the steps run: said once before the entry stop, and the step fails as it would without pwsh', async ({
    skip,
  }) => {
    if (hasPwsh) skip('pwsh is installed on this machine: the missing-pwsh path cannot be shown here');
    const adapter = await pausedOnEntry({ program });
    const { client } = adapter;
    expect(session.consoleLines(client)).toEqual([
      `relay-dap: shell: pwsh (line ${pwshLine}): pwsh is not installed where the steps run (the relay server's side), so those steps will fail; install PowerShell 7 there, or write them for bash`,
    ]);
    await session.continueJob(client);
    // The failed step pauses (the `failed` filter is on by default): continue past it.
    await session.stoppedAt(client, 'exception');
    await session.continueJob(client);
    await session.runToEnd(client, 127);
    expect(session.stepResults(client)[1]).toBe('✗ Read the version: failed, exit 127, T s');
    await session.finish(ctx, adapter);
  });

  it("there: the step runs as `pwsh -command \". '<script>.ps1'\"` with GitHub's wrapping of the script, and nothing is said", async () => {
    // A stand-in pwsh on the steps' PATH records how it was called and the script it was given.
    const bin = path.join(ctx.workdir, 'bin');
    const record = path.join(ctx.workdir, 'pwsh-record');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'pwsh'),
      `#!/bin/bash\nprintf '%s\\n' "$@" > '${record}.args'\nscript=\${2#". '"}; cp "\${script%"'"}" '${record}.ps1'\necho "VERSION=9.9.9" >> "$GITHUB_ENV"\n`,
      { mode: 0o755 },
    );
    const adapter = await pausedOnEntry({ program, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
    const { client } = adapter;
    expect(session.consoleLines(client)).toEqual([]);
    await session.continueJob(client);
    await session.runToEnd(client, 0);
    const [flag, argument] = fs.readFileSync(`${record}.args`, 'utf8').split('\n');
    expect(flag).toBe('-command');
    expect(argument).toMatch(/^\. '\/.+\/step-2\.ps1'$/);
    expect(fs.readFileSync(`${record}.ps1`, 'utf8')).toBe(
      "$ErrorActionPreference = 'stop'\n" +
        '$version = (Get-Content version.txt).Trim()\n"VERSION=$version" >> $env:GITHUB_ENV\n' +
        '\nif ((Test-Path -LiteralPath variable:\\LASTEXITCODE)) { exit $LASTEXITCODE }\n',
    );
    await session.finishWith(ctx, adapter, { stdout: 'tagging v9.9.9\n' });
  });
});
