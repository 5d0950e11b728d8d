// A workflow's `secrets`, `vars` and `inputs`, and the masking of secrets, end to end through the
// adapter (a real process over stdio) and its embedded relay (real bash), with release-deploy.yml:
// a release job that checks a token, logs in to a registry named by `vars`, prints the token in two
// writes, masks a key it derives with `::add-mask::` and echoes it in a later step, deploys where
// `inputs` say, and fails with the token in its output. GitHub replaces every secret value, and
// every `::add-mask::` value, by `***` in everything it shows ("Using secrets in GitHub Actions":
// "GitHub automatically redacts the contents of all GitHub secrets that are printed to workflow
// logs"; "Workflow commands": add-mask); so must every channel of the adapter.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import {
  errorId,
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  outputByCategory,
  useAdapterContext,
} from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import { ERR } from '../support/errorIds.js';
import * as session from '../support/jobSession.js';
import { waitUntil } from '../support/relayHarness.js';
import { leaks, receivedMessages } from '../support/secretLeaks.js';

const ctx = useAdapterContext();

/** release-deploy.yml as .github/workflows/ of a repository at the workdir (its root). */
function repository(): { program: string; root: string } {
  const root = fs.realpathSync(ctx.workdir);
  const text = fs.readFileSync(session.workflowFixture('release-deploy.yml'), 'utf8');
  return { program: session.writeFile(root, '.github/workflows/release-deploy.yml', text), root };
}

const unique = (prefix: string): string => `${prefix}${randomBytes(12).toString('hex')}`;

/** The deploy key release-deploy.yml derives from the registry password, and masks. */
const deployKey = (password: string): string =>
  createHash('sha256').update(password).digest('hex').slice(0, 32);

/**
 * What the deploy job prints on stdout, line by line, with these values (secrets by their
 * length only); `console`: lines console commands printed before its last step.
 */
function deployOutput(
  given: { token: string; password: string; registry: string; user: string; environment: string },
  console: string[] = [],
): string[] {
  return [
    `token: ${given.token.length} characters, github.token is it: true`,
    `password: ${given.password.length} characters`,
    `logging in to ${given.registry} as ${given.user} with ***`,
    'token, in two writes: ***',
    '::add-mask::***',
    `deploying ${given.registry}/widgets to ${given.environment} (dry run: true, replicas: 2)`,
    'using key *** (***)',
    'upload refused (401) for token ***',
    ...console,
    // SLACK_WEBHOOK is given nowhere: empty, as on GitHub.
    'no Slack webhook: not notifying',
    '',
  ];
}

async function ok<T extends DebugProtocol.Response>(response: Promise<T>): Promise<T> {
  const answer = await response;
  expect(answer.success, answer.message).toBe(true);
  return answer;
}

/** Every variable of every scope of the top frame, expanded one level: `Scope/name=value`. */
async function allVariables(client: DapClient): Promise<string[]> {
  const [top] = await session.frames(client);
  const { scopes } = (await ok(client.request('scopes', { frameId: top!.id }))).body;
  const shown: string[] = [];
  for (const scope of scopes) {
    const { variables } = (
      await ok(client.request('variables', { variablesReference: scope.variablesReference }))
    ).body;
    for (const variable of variables) {
      shown.push(`${scope.name}/${variable.name}=${variable.value}`);
      if (variable.variablesReference === 0) continue;
      const inner = await ok(
        client.request('variables', { variablesReference: variable.variablesReference }),
      );
      for (const child of inner.body.variables)
        shown.push(`${scope.name}/${variable.name}/${child.name}=${child.value}`);
    }
  }
  return shown;
}

describe('secrets, vars and inputs of a workflow', () => {
  it('a secret, a secret split across two reads and an ::add-mask:: value set by one step and echoed by a later one appear in no channel: output, console, evaluate, hover, variables, exceptionInfo, a log point, the trace and the log file', async () => {
    const { program, root } = repository();
    const token = unique('ghs_');
    const password = unique('pw-');
    const key = deployKey(password);
    const logFile = path.join(ctx.tmp, 'adapter.log');
    const adapter = ctx.spawnStdio(['--log-file', logFile]);
    const { client } = adapter;
    await launchAndConfigure(client, {
      program,
      job: 'release',
      cwd: root,
      trace: true,
      secrets: { GITHUB_TOKEN: token, REGISTRY_PASSWORD: password },
      vars: { REGISTRY: 'ghcr.io/acme', REGISTRY_USER: 'acme-bot' },
      inputs: { environment: 'production' },
    });
    await session.stoppedAt(client, 'entry');
    const logPoint = await ok(
      client.request('setBreakpoints', {
        source: { path: program },
        breakpoints: [
          {
            line: session.lineOf(program, '- name: Deploy'),
            logMessage: 'deploying with {env.GH_TOKEN}, {secrets.REGISTRY_PASSWORD} and {env.DEPLOY_KEY}',
          },
        ],
      }),
    );
    expect(logPoint.body.breakpoints.map((b) => b.verified)).toEqual([true]);
    await session.continueJob(client);
    // The line's start is shown while the token's first piece is held back: the rest is written
    // only then, so the relay reads the token in two pieces.
    await waitUntil(
      () => client.output('stdout').includes('token, in two writes: '),
      'the first write of the split token',
      EVENT_TIMEOUT_MS,
    );
    expect(client.output('stdout')).not.toContain(token.slice(0, 12));
    fs.writeFileSync(path.join(root, 'token-go'), '');
    await session.stoppedAt(client, 'exception');

    // Paused after the failed upload: every way a user can look at the job.
    const evaluations: string[] = [];
    for (const [expression, context] of [
      ['env.GH_TOKEN', 'repl'],
      ['env.GH_TOKEN', 'hover'],
      ['env.DEPLOY_KEY', 'watch'],
      ['step.lastOutput', 'repl'],
    ] as const) {
      const [top] = await session.frames(client);
      const answer = await client.request('evaluate', { expression, context, frameId: top!.id });
      expect(answer.success, answer.message).toBe(true);
      evaluations.push(`${expression} (${context}) = ${answer.body.result}`);
    }
    expect(evaluations).toEqual([
      'env.GH_TOKEN (repl) = ***',
      'env.GH_TOKEN (hover) = ***',
      'env.DEPLOY_KEY (watch) = ***',
      'step.lastOutput (repl) = upload refused (401) for token ***\n',
    ]);
    const variables = await allVariables(client);
    expect(variables).toContain('Environment/GH_TOKEN=***');
    expect(variables).toContain('Environment/DEPLOY_KEY=***');
    expect(variables).toContain('Step/lastOutput=upload refused (401) for token ***\n');
    const exception = await ok(client.request('exceptionInfo', { threadId: 1 }));
    expect(exception.body.details?.stackTrace).toBe('upload refused (401) for token ***\n');
    // The console: a command printing them, and one whose text holds a secret as typed.
    expect(
      (
        await ok(
          client.request('evaluate', {
            expression: `!printf '%s\\n' "$GH_TOKEN" "$DEPLOY_KEY" ${password}`,
            context: 'repl',
          }),
        )
      ).body.result,
    ).toBe('exit 0');
    await session.continueJob(client);
    await session.runToEnd(client, 22);

    expect(outputByCategory(client).stdout!.split('\n')).toEqual(
      // The console command's three values are in the job's stdout too, masked.
      deployOutput(
        { token, password, registry: 'ghcr.io/acme', user: 'acme-bot', environment: 'production' },
        ['***', '***', '***'],
      ),
    );
    expect(session.consoleLines(client)).toContain('deploying with ***, *** and ***');

    const logText = fs.readFileSync(logFile, 'utf8');
    // The trace went to stderr and to the log file: both hold every message, masked.
    expect(logText).toContain('"command":"launch"');
    expect(logText).toContain('"secrets":{"GITHUB_TOKEN":"***","REGISTRY_PASSWORD":"***"}');
    expect(adapter.stderr()).toContain('"command":"exceptionInfo"');
    await session.finish(ctx, adapter);
    expect(
      leaks(
        {
          'messages to the client': receivedMessages(client),
          'stderr (trace: true)': adapter.stderr(),
          'log file': fs.readFileSync(logFile, 'utf8'),
        },
        { token, 'first piece': token.slice(0, 12), 'second piece': token.slice(12), password, key },
      ),
    ).toEqual([]);
  });

  it('reads .secrets and .vars at the repository root, launch arguments win over them, inputs take the workflow’s defaults, and a secret not given is empty with one console line naming it; the trace file shows none', async () => {
    const { program, root } = repository();
    const fileToken = unique('ghs_');
    const filePassword = unique('file-pw-');
    const launchPassword = unique('launch-password-');
    fs.writeFileSync(
      path.join(root, '.secrets'),
      `# act's --secret-file format\nGITHUB_TOKEN=${fileToken}\nREGISTRY_PASSWORD="${filePassword}"\n`,
      { mode: 0o600 },
    );
    fs.writeFileSync(path.join(root, '.vars'), 'REGISTRY=registry.example.com\nREGISTRY_USER=file-bot\n');
    fs.writeFileSync(path.join(root, 'token-go'), '');
    const traceFile = path.join(ctx.tmp, 'trace.jsonl');
    const adapter = await ctx.runJob(
      {
        ...session.pastEntry(ctx, program),
        job: 'release',
        cwd: root,
        trace: traceFile,
        secrets: { REGISTRY_PASSWORD: launchPassword },
        vars: { REGISTRY_USER: 'launch-bot' },
      },
      { filters: [] },
    );
    const { client } = adapter;
    await session.runToEnd(client, 22);
    expect(outputByCategory(client).stdout!.split('\n')).toEqual(
      deployOutput({
        // GITHUB_TOKEN from .secrets (github.token is it); REGISTRY_PASSWORD from the launch
        // argument, over .secrets.
        token: fileToken,
        password: launchPassword,
        // REGISTRY from .vars; REGISTRY_USER from the launch argument, over .vars.
        registry: 'registry.example.com',
        user: 'launch-bot',
        // on.workflow_dispatch.inputs: environment "staging", dry_run true, replicas 2.
        environment: 'staging',
      }),
    );
    expect(session.consoleLines(client).filter((line) => line.includes('SLACK_WEBHOOK'))).toEqual([
      'relay-dap: secret SLACK_WEBHOOK is not given, so it is empty: add SLACK_WEBHOOK=… to the secrets file or the launch argument "secrets"',
    ]);
    expect(session.consoleLines(client).filter((line) => /secret \w+ is not given/.test(line))).toHaveLength(
      1,
    );
    await session.finish(ctx, adapter);
    const trace = fs.readFileSync(traceFile, 'utf8');
    expect(trace).toContain('"command":"launch"');
    expect(
      leaks(
        { 'messages to the client': receivedMessages(client), 'trace file': trace, stderr: adapter.stderr() },
        {
          fileToken,
          filePassword,
          launchPassword,
          key: deployKey(launchPassword),
        },
      ),
    ).toEqual([]);
  });

  it('a job-level if: reading inputs and vars is decided at launch: skipped with the default input, run when a workflow_dispatch launch asks for production, whose payload holds the inputs', async () => {
    const { program, root } = repository();
    const line = session.lineOf(program, "if: inputs.environment == 'production'");
    const skipped = await ctx.runJob({ ...session.pastEntry(ctx, program), job: 'production', cwd: root });
    await session.runToEnd(skipped.client, 0);
    expect(session.consoleLines(skipped.client)).toContain(
      `relay-dap: This job was skipped: its if: inputs.environment == 'production' && vars.DEPLOYS_ENABLED == 'true' (line ${line}) is false, so no step runs`,
    );
    expect(session.stepResults(skipped.client)).toEqual([]);
    await session.finish(ctx, skipped);

    const runs = await ctx.runJob({
      ...session.pastEntry(ctx, program),
      job: 'production',
      cwd: root,
      event: 'workflow_dispatch',
      inputs: { environment: 'production', replicas: 5 },
      vars: { DEPLOYS_ENABLED: 'true', REGISTRY: 'ghcr.io/acme' },
    });
    expect(await session.stepResultsAtEnd(runs.client, 0)).toEqual(['✓ Roll out: exit 0, T s']);
    // A workflow_dispatch payload holds the inputs too, as strings (github.event.inputs).
    expect(outputByCategory(runs.client).stdout).toBe(
      "rolling out 5 replicas of ghcr.io/acme/widgets\nrequested in the run's event: production, 5 replicas\n",
    );
    expect(session.consoleLines(runs.client).join('\n')).not.toContain('as if the condition were true');
    await session.finish(ctx, runs);
  });

  it('a launch argument secret of the wrong type is refused naming it, never showing its value', async () => {
    const { program } = repository();
    const value = 31415926535;
    const adapter = await ctx.runJob(
      { program, job: 'release', secrets: { GITHUB_TOKEN: value } },
      { allowLaunchFailure: true },
    );
    const { client, launch } = adapter;
    expect(launch.success).toBe(false);
    expect(errorId(launch)).toBe(ERR.InvalidArguments);
    expect(launch.message).toContain('`secrets.GITHUB_TOKEN` must be string');
    await session.finish(ctx, adapter);
    expect(receivedMessages(client)).not.toContain(String(value));
  });
});
