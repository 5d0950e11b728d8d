// `uses:` steps run end to end through the adapter (a real process over stdio) and its embedded
// relay (real bash, real node): a repository's own composite action (its steps as frames above
// the `uses:` step, Step Into, a breakpoint in its action.yml, a failure inside it), a
// JavaScript action (its output bytes, GITHUB_OUTPUT, GITHUB_STATE and its post step's place),
// a Docker action (not run, said), and a remote action found in an actions cache laid out as
// act's. The repository (test/fixtures/projects/actions-repo) is copied into the workspace, as
// actions/checkout would put it there.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLIENT_CAPS,
  EVENT_TIMEOUT_MS,
  outputByCategory,
  useAdapterContext,
  type StdioAdapter,
} from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { repoRoot } from '../support/relayHarness.js';
import type { DapClient } from '../support/dapClient.js';

const ctx = useAdapterContext();
const fixtures = path.join(repoRoot, 'test', 'fixtures');
const actionsCache = path.join(fixtures, 'action-cache');

/**
 * The fixture repository copied into the workspace, and a session launched on one of its
 * workflows (build.yml unless `workflow` says), paused at entry; the actions cache is the
 * fixture's unless `launch` says otherwise.
 */
async function launchInRepo(launch: Record<string, unknown> = { actionsCache }, workflow = 'build.yml') {
  const repo = path.join(ctx.workdir, 'repo');
  fs.cpSync(path.join(fixtures, 'projects', 'actions-repo'), repo, { recursive: true });
  const build = path.join(repo, '.github', 'workflows', 'build.yml');
  const setupThing = path.join(repo, '.github', 'actions', 'setup-thing', 'action.yml');
  const program = path.join(repo, '.github', 'workflows', workflow);
  const reason = launch.stopOnEntry === false ? 'exception' : 'entry';
  const started = await session.runUntilStop(ctx, reason, { program, cwd: repo, ...launch });
  return { ...started, repo, build, setupThing };
}

async function request(client: DapClient, command: 'stepIn' | 'next' | 'stepOut'): Promise<void> {
  const response = await client.request(command, { threadId: 1 });
  expect(response.success, response.message).toBe(true);
}

/** After `command` from a pause: the next stop, which must be a step stop; returns the frames. */
async function stepAndFrames(client: DapClient, command: 'stepIn' | 'next' | 'stepOut') {
  const from = client.transcript.length;
  await request(client, command);
  const stop = await session.nextStopOrEnd(client, from);
  expect(stop.event, client.output()).toBe('stopped');
  return session.frames(client);
}

/** stepAndFrames, whose frames must be named `names` (see frameNames); returns them. */
async function stepTo(client: DapClient, command: 'stepIn' | 'next' | 'stepOut', names: string[]) {
  const stack = await stepAndFrames(client, command);
  expect(session.frameNames(stack)).toEqual(names);
  return stack;
}

/** The frame names of steps that passed, as a paused job shows them. */
const passed = (...steps: string[]): string[] => steps.map((step) => `✓ ${step}: exit 0, T s`);

/** The frame name of broken-setup.yml's failed step inside setup-thing. */
const CHECK_FAILED = '✗ Check thing: failed, exit 3, T s';

/**
 * A broken-setup.yml job, paused at the failed step inside setup-thing, continued to its end with
 * `exitCode`: setup-thing's steps up to the failed check, then `after`, are its step results, and
 * its stdout holds `printed`.
 */
async function brokenSetupEnds(
  adapter: StdioAdapter,
  exitCode: number,
  printed: string,
  after: string[],
): Promise<void> {
  const { client } = adapter;
  expect(await session.continueToEnd(client, exitCode)).toEqual([
    ...passed('Show inputs', 'Install thing'),
    CHECK_FAILED,
    ...after,
  ]);
  expect(outputByCategory(client).stdout).toContain(printed);
  await session.finish(ctx, adapter);
}

describe('uses: steps', () => {
  it('a local composite action: Step Into shows its steps as frames above the uses: step, in its action.yml at their lines; Step Out and Next go over it', async () => {
    const { adapter, client, build, setupThing } = await launchInRepo();
    const usesLine = session.lineOf(build, '- name: Set up thing');
    const workflowSource = { name: 'build.yml', path: build };
    const actionSource = { name: 'action.yml', path: setupThing };
    // A JavaScript action's pre step runs first, at its uses: step's lines.
    expect((await session.frames(client)).map(({ name, line, source }) => ({ name, line, source }))).toEqual([
      { name: 'next: Pre Greet', line: session.lineOf(build, '- name: Greet'), source: workflowSource },
    ]);
    await stepTo(client, 'next', ['next: Set up thing', ...passed('Pre Greet')]);

    // Step Into the action: its first step is on top, the uses: step under it.
    let stack = await stepAndFrames(client, 'stepIn');
    expect(
      stack.map(({ line, source }, k) => ({ name: session.frameNames(stack)[k], line, source })),
    ).toEqual([
      {
        name: 'next: Show inputs',
        line: session.lineOf(setupThing, '- name: Show inputs'),
        source: actionSource,
      },
      { name: 'running: Set up thing', line: usesLine, source: workflowSource },
      {
        name: '✓ Pre Greet: exit 0, T s',
        line: session.lineOf(build, '- name: Greet'),
        source: workflowSource,
      },
    ]);
    // Next inside the action runs one of its steps.
    const inner = ['next: Install thing', 'running: Set up thing', ...passed('Show inputs', 'Pre Greet')];
    stack = await stepTo(client, 'next', inner);
    expect(stack[0]).toMatchObject({
      line: session.lineOf(setupThing, '- id: install'),
      source: actionSource,
    });
    // Step Out runs the rest of the action and pauses after it, at the job's next step.
    const done = passed('Set up thing', 'Check thing', 'Install thing', 'Show inputs', 'Pre Greet');
    await stepTo(client, 'stepOut', ['next: Use thing', ...done]);
    // Next over the JavaScript action's step: one step.
    await stepAndFrames(client, 'next');
    stack = await stepAndFrames(client, 'next');
    expect(session.frameNames(stack)[0]).toBe('next: Show greeting');
    await session.continueToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('a local composite action: inputs (with: over action.yml defaults), INPUT_*, GITHUB_ACTION_PATH and its outputs reach the calling steps; GITHUB_PATH inside it holds after it', async () => {
    const { adapter, client } = await launchInRepo();
    const results = await session.continueToEnd(client, 0);
    expect(results.slice(0, 6)).toEqual([
      '✓ Pre Greet: exit 0, T s',
      '✓ Show inputs: exit 0, T s',
      '✓ Install thing: exit 0, T s',
      '✓ Check thing: exit 0, T s',
      '✓ Set up thing: exit 0, T s',
      '✓ Use thing: exit 0, T s',
    ]);
    const stdout = outputByCategory(client).stdout ?? '';
    // `version` from with:, `install-dir` from its default; INPUT_VERSION as the runner sets it.
    expect(stdout).toContain('thing 1.4.2 into .thing (INPUT_VERSION=1.4.2)\n');
    // thing.sh came from the action's own directory (GITHUB_ACTION_PATH); THING_VERSION from the uses: step's env.
    expect(stdout).toContain('thing 1.4.2 (from .thing)\n');
    // outputs: `path` mapped from steps.install.outputs.path, `version` from inputs.version.
    expect(stdout).toContain('installed at .thing/thing (version 1.4.2)\n');
    await session.finish(ctx, adapter);
  });

  it('a breakpoint on a step in action.yml is verified there and pauses before that step, the action’s frames under it; its condition and log points read the action’s inputs and steps', async () => {
    const { adapter, client, setupThing } = await launchInRepo();
    const checkLine = session.lineOf(setupThing, '- name: Check thing');
    const response = await client.request('setBreakpoints', {
      source: { name: 'action.yml', path: setupThing },
      breakpoints: [
        {
          line: checkLine + 2,
          condition: "inputs.version == '1.4.2' && steps.install.outputs.path == '.thing/thing'",
        },
        { line: 1 },
        {
          line: session.lineOf(setupThing, '- name: Show inputs'),
          logMessage: 'installing {inputs.version}',
        },
      ],
    });
    expect(response.success, response.message).toBe(true);
    const [inside, outside, logPoint] = response.body.breakpoints;
    expect(inside).toMatchObject({ verified: true, line: checkLine });
    expect(logPoint).toMatchObject({ verified: true });
    expect(outside).toMatchObject({ verified: false });
    expect(outside!.message).toMatch(/^line 1 is not inside a step \(steps start at lines \d+, \d+, \d+\)$/);
    await session.continueJob(client);
    const stop = await session.stoppedAt(client, 'breakpoint');
    expect(stop.body.hitBreakpointIds).toEqual([inside!.id]);
    const stack = await session.expectFrames(client, [
      'next: Check thing',
      'running: Set up thing',
      '✓ Install thing: exit 0, T s',
      '✓ Show inputs: exit 0, T s',
      '✓ Pre Greet: exit 0, T s',
    ]);
    expect(stack[0]).toMatchObject({ line: checkLine, source: { path: setupThing } });
    expect(session.consoleLines(client)).toContain('installing 1.4.2');
    await session.continueToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('a breakpoint in action.yml set before launch is verified once the job is read, and hit', async () => {
    const repo = path.join(ctx.workdir, 'repo');
    fs.cpSync(path.join(fixtures, 'projects', 'actions-repo'), repo, { recursive: true });
    const setupThing = path.join(repo, '.github', 'actions', 'setup-thing', 'action.yml');
    const installLine = session.lineOf(setupThing, '- id: install');
    const adapter = ctx.spawnStdio();
    const { client } = adapter;
    await client.request('initialize', DEFAULT_CLIENT_CAPS);
    const staged = await client.request('setBreakpoints', {
      source: { name: 'action.yml', path: setupThing },
      breakpoints: [{ line: installLine + 3 }],
    });
    expect(staged.body.breakpoints[0]).toMatchObject({
      verified: false,
      message: 'verified once the job is loaded',
    });
    const launching = client.request('launch', {
      program: path.join(repo, '.github', 'workflows', 'build.yml'),
      cwd: repo,
      actionsCache,
      stopOnEntry: false,
    });
    await client.request('configurationDone');
    expect((await launching).success).toBe(true);
    const changed = await client.waitForEvent('breakpoint', undefined, EVENT_TIMEOUT_MS);
    expect(changed.body.breakpoint).toMatchObject({
      id: staged.body.breakpoints[0]!.id,
      verified: true,
      line: installLine,
    });
    await session.stoppedAt(client, 'breakpoint');
    const [top] = await session.frames(client);
    expect(top).toMatchObject({
      name: 'next: Install thing',
      line: installLine,
      source: { path: setupThing },
    });
    await session.continueToEnd(client, 0);
    await session.finish(ctx, adapter);
  });

  it('a step failing inside a composite action pauses there (Exception Info names it); the action fails with its exit code, and failure() steps after it run', async () => {
    const { adapter, client, setupThing } = await launchInRepo(
      { stopOnEntry: false, job: 'check' },
      'broken-setup.yml',
    );
    const stack = await session.expectFrames(client, [
      CHECK_FAILED,
      'running: Set up thing',
      '✓ Install thing: exit 0, T s',
      '✓ Show inputs: exit 0, T s',
    ]);
    expect(stack[0]).toMatchObject({
      line: session.lineOf(setupThing, '- name: Check thing'),
      source: { path: setupThing },
    });
    const info = await client.request('exceptionInfo', { threadId: 1 });
    expect(info.body.description).toBe('Check thing failed with exit code 3');
    expect(info.body.details?.stackTrace).toContain('thing self-check failed');
    await brokenSetupEnds(adapter, 3, 'setup failed\n', [
      '✗ Set up thing: failed, exit 3, T s',
      '– After setup: skipped (if: success() is false)',
      '✓ Report: exit 0, T s',
    ]);
  });

  it('continue-on-error on the uses: step: a failure inside the action is tolerated (outcome failure, conclusion success) and the job succeeds', async () => {
    const { adapter, client } = await launchInRepo(
      { stopOnEntry: false, job: 'tolerant' },
      'broken-setup.yml',
    );
    expect(session.frameNames(await session.frames(client))[0]).toBe(CHECK_FAILED);
    await brokenSetupEnds(adapter, 0, 'optional setup ended as failure, concluded success\n', [
      '✗ Set up thing (optional): failed (continue-on-error), exit 3, T s',
      '✓ After optional setup: exit 0, T s',
    ]);
  });

  it('a with: value that does not parse fails the launch, naming its line, only when the action is found and run', async () => {
    const found = session.writeOneJobWorkflow(ctx.workdir, 'repo/.github/workflows/bad-with.yml', [
      '    steps:',
      '      - uses: ./.github/actions/setup-thing',
      '        with:',
      '          version: ${{ nosuch.version }}',
      '      - uses: octo-org/not-cached@v1',
      '        with:',
      '          key: ${{ nosuch.key }}',
    ]);
    fs.cpSync(
      path.join(fixtures, 'projects', 'actions-repo', '.github', 'actions'),
      path.join(ctx.workdir, 'repo', '.github', 'actions'),
      { recursive: true },
    );
    const failed = await ctx.runJob(
      { program: found, cwd: ctx.workdir, actionsCache },
      { allowLaunchFailure: true },
    );
    expect(failed.launch.success).toBe(false);
    expect(failed.launch.message).toMatch(new RegExp(`^${found}:8: unknown name 'nosuch'`));
    await session.finish(ctx, failed);
    // The same value for an action relay-dap skips (not cached) loads, as it did before actions ran.
    fs.writeFileSync(
      found,
      fs.readFileSync(found, 'utf8').replace('./.github/actions/setup-thing', 'octo-org/also-not-cached@v1'),
    );
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      program: found,
      cwd: ctx.workdir,
      actionsCache,
    });
    expect(await session.continueToEnd(client, 0)).toHaveLength(2);
    await session.finish(ctx, adapter);
  });

  it('a JavaScript action runs node with INPUT_*: its pre first in the job, its GITHUB_OUTPUT reaching the next step, its post at the end of the job, each seeing the GITHUB_STATE saved before it', async () => {
    const { adapter, client } = await launchInRepo();
    const results = await session.continueToEnd(client, 0);
    expect(results[0]).toBe('✓ Pre Greet: exit 0, T s');
    expect(results.slice(6)).toEqual([
      '✓ Greet: exit 0, T s',
      '✓ Show greeting: exit 0, T s',
      '– Lint: skipped (./.github/actions/lint-image is not run: a Docker action (image Dockerfile))',
      '– Format check: skipped (docker://alpine:3.20 is not run: a Docker container action)',
      '✓ Write notes: exit 0, T s',
      '✓ Release notes: exit 0, T s',
      '✓ Show notes: exit 0, T s',
      // GitHub runs post steps after every main step, in reverse order.
      '✓ Post Greet: exit 0, T s',
    ]);
    const stdout = outputByCategory(client).stdout ?? '';
    expect(stdout.startsWith('notify pre: getting ready to greet relay\n')).toBe(true);
    const greeting = stdout.indexOf('notify: Hello, relay! (prepared: yes)\n');
    const shown = stdout.indexOf("greeting was 'Hello, relay!'\n");
    const post = stdout.indexOf('notify post: goodbye, relay\n');
    expect(greeting).toBeGreaterThanOrEqual(0);
    expect(shown).toBeGreaterThan(greeting);
    expect(post).toBeGreaterThan(shown);
    expect(stdout.endsWith('notify post: goodbye, relay\n')).toBe(true);
    await session.finish(ctx, adapter);
  });

  it('a JavaScript action where node is not installed: one console line says so, it and its pre and post steps are skipped, the job goes on', async () => {
    // The steps' side without node: every command of /usr/bin but node.
    const bin = path.join(ctx.workdir, 'bin-without-node');
    fs.mkdirSync(bin);
    for (const name of fs.readdirSync('/usr/bin'))
      if (!name.startsWith('node')) fs.symlinkSync(path.join('/usr/bin', name), path.join(bin, name));
    ctx.env.PATH = bin;
    const { adapter, client, build } = await launchInRepo();
    const results = await session.continueToEnd(client, 0);
    expect(results[0]).toBe('– Pre Greet: skipped (node is not installed where the steps run)');
    expect(results).toContain('– Greet: skipped (node is not installed where the steps run)');
    expect(results).toContain('✓ Show greeting: exit 0, T s');
    expect(results.at(-1)).toBe('– Post Greet: skipped (the step it follows did not run)');
    expect(session.consoleLines(client)).toContain(
      `relay-dap: ./.github/actions/notify (line ${session.lineOf(build, '- name: Greet')}) is a JavaScript action, but node is not installed where the steps run (the relay server's side), so it is skipped; install Node.js there to run it`,
    );
    expect(outputByCategory(client).stdout).toContain("greeting was ''\n");
    await session.finish(ctx, adapter);
  });

  it('Docker actions (an action.yml with using: docker, a docker:// image) are not run, and the console says so in one line each', async () => {
    const { adapter, client, build } = await launchInRepo();
    await session.continueToEnd(client, 0);
    const lines = session.consoleLines(client);
    expect(lines).toContain(
      `relay-dap: ./.github/actions/lint-image (line ${session.lineOf(build, '- name: Lint')}) is a Docker action (image Dockerfile): relay-dap does not run Docker actions, so the step is skipped`,
    );
    expect(lines).toContain(
      `relay-dap: docker://alpine:3.20 (line ${session.lineOf(build, '- name: Format check')}) is a Docker container action: relay-dap does not run Docker actions, so the step is skipped`,
    );
    await session.finish(ctx, adapter);
  });

  it('a remote action found in the actions cache (launch argument actionsCache) is copied to the job folder and runs there, with github.action_repository/action_ref and its outputs', async () => {
    const { adapter, client, repo } = await launchInRepo();
    await session.continueToEnd(client, 0);
    const stdout = outputByCategory(client).stdout ?? '';
    expect(stdout).toContain('from octo-org/release-notes@v2: # Build build\n');
    expect(stdout).toContain('notes=notes.md\n');
    // Copied into the job's folder on the steps' side (RUNNER_TEMP), not run from the cache.
    expect(stdout).toMatch(
      new RegExp(
        `^action path: ${ctx.tmp}/relay-dap-job\\.[A-Za-z0-9]+/_actions/octo-org/release-notes/v2$`,
        'm',
      ),
    );
    expect(fs.readFileSync(path.join(repo, 'notes.md'), 'utf8')).toBe('# Build build\n');
    await session.finish(ctx, adapter);
  });

  it("a remote action in act's default cache (~/.cache/act/<owner>-<repo>@<ref>) runs; one found nowhere is skipped as before", async () => {
    const home = path.join(ctx.workdir, 'home');
    fs.cpSync(actionsCache, path.join(home, '.cache', 'act'), { recursive: true });
    ctx.env.HOME = home;
    const first = await launchInRepo({});
    await session.continueToEnd(first.client, 0);
    expect(outputByCategory(first.client).stdout).toContain(
      'from octo-org/release-notes@v2: # Build build\n',
    );
    await session.finish(ctx, first.adapter);

    fs.rmSync(path.join(home, '.cache'), { recursive: true });
    const second = await launchInRepo({});
    expect(await session.continueToEnd(second.client, 0)).toContain(
      '– Release notes: skipped (`uses: octo-org/release-notes@v2` runs an action, which relay-dap does not run)',
    );
    await session.finish(ctx, second.adapter);
  });
});
