/**
 * `!!` in the debug console: a terminal on the far side where the job stands, through the DAP
 * `runInTerminal` reverse request. The adapter runs as a real process; the test client answers
 * the request as an editor would, by running its command line with its env in a real
 * pseudo-terminal (test/support/ptyDriver.py), and types into the far shell.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import { EVENT_TIMEOUT_MS, useAdapterContext } from '../support/adapterHarness.js';
import type { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import { answerRunInTerminal, farShellPids, type Terminal } from '../support/ptyTerminal.js';
import { noChannelsLine, partA, startServer, stopProcess, waitUntil } from '../support/relayHarness.js';

const ctx = useAdapterContext();
const terminals: Terminal[] = [];
afterEach(() => {
  for (const terminal of terminals.splice(0)) terminal.child.kill('SIGKILL');
});

/**
 * Step 1 writes FOO to GITHUB_ENV and a tools directory to GITHUB_PATH and makes `sub`; step 2
 * (where the job pauses) runs in `sub`. The job env holds a secret.
 */
function workflow(): string {
  return session.writeOneJobWorkflow(ctx.workdir, 'terminal.yml', [
    '    env:',
    '      TOKEN_USE: ${{ secrets.TOKEN }}',
    '    steps:',
    '      - name: Prepare',
    '        run: |',
    '          mkdir -p sub tools',
    `          printf '#!/bin/sh\\necho tool ran\\n' > tools/tool-from-path`,
    '          chmod +x tools/tool-from-path',
    '          echo "FOO=from the env file" >> "$GITHUB_ENV"',
    '          echo "$PWD/tools" >> "$GITHUB_PATH"',
    '      - name: Build',
    '        working-directory: sub',
    '        run: echo building',
  ]);
}

/** Launched, paused before Build (after Prepare ran). */
async function pausedBeforeBuild(
  launch: Record<string, unknown>,
  caps: Partial<DebugProtocol.InitializeRequestArguments>,
): Promise<Awaited<ReturnType<typeof session.runUntilStop>>> {
  const started = await session.runUntilStop(
    ctx,
    'entry',
    { program: workflow(), cwd: ctx.workdir, ...launch },
    { caps },
  );
  await started.client.request('next', { threadId: 1 });
  await session.stoppedAt(started.client, 'step');
  expect(session.frameNames(await session.frames(started.client))[0]).toBe('next: Build');
  return started;
}

function typeBang(client: DapClient): Promise<DebugProtocol.EvaluateResponse> {
  return client.request('evaluate', { expression: '!!', context: 'repl' }, 60_000);
}

function alive(pid: number): boolean {
  return fs.existsSync(`/proc/${pid}`);
}

const relays = [
  { name: 'the embedded relay', relayDir: (): undefined => undefined },
  {
    name: 'a relay server of its own',
    relayDir: async (): Promise<string> => {
      const dir = path.join(ctx.tmp, 'relay');
      await ctx.startRelayServer(dir);
      return dir;
    },
  },
];

describe('!! opens a terminal at the paused step (runInTerminal)', () => {
  for (const relay of relays) {
    it(`through ${relay.name}: in the step's directory with GITHUB_ENV, GITHUB_PATH and the secret; the secret only in the request's env; closing the session stops the far shell`, async () => {
      const secret = `tok-${randomBytes(12).toString('hex')}`;
      const trace = path.join(ctx.tmp, 'trace.jsonl');
      const relayDir = await relay.relayDir();
      const { adapter, client } = await pausedBeforeBuild(
        { secrets: { TOKEN: secret }, trace, ...(relayDir !== undefined ? { relayDir } : {}) },
        { supportsRunInTerminalRequest: true },
      );

      const answer = typeBang(client);
      const { request, terminal } = await answerRunInTerminal(client, ctx.env, ctx.tmp);
      terminals.push(terminal);
      const args = request.arguments;
      expect(args.kind).toBe('integrated');
      expect(args.title).toBe('relay-dap: terminal.yml / j › Build');
      // The command line names variables; their values travel in env only.
      expect(args.args.slice(2, 4)).toEqual(['shell', '--relay-dir']);
      expect(args.args).toContain('--env');
      expect(args.args).toContain('TOKEN_USE');
      expect(args.args).toContain('FOO');
      expect(args.args.join(' ')).not.toContain(secret);
      expect(args.env?.TOKEN_USE).toBe(secret);
      expect(args.env?.FOO).toBe('from the env file');
      expect((await answer).body.result).toMatch(/^terminal opened/);

      const [shellPid, helperPid] = await farShellPids(terminal);
      terminal.type('pwd; echo "FOO=$FOO"; command -v tool-from-path; echo "T=$TOKEN_USE"; echo END\r');
      const workdir = fs.realpathSync(ctx.workdir);
      await terminal.waitFor(/\nEND\n/, 'the far shell’s answers');
      expect(terminal.screen()).toContain(
        `\n${path.join(workdir, 'sub')}\nFOO=from the env file\n${path.join(workdir, 'tools', 'tool-from-path')}\nT=${secret}\nEND\n`,
      );
      expect(alive(shellPid)).toBe(true);

      await session.finish(ctx, adapter);
      await waitUntil(
        () => !alive(shellPid) && !alive(helperPid),
        'the far shell and its pty helper to end',
        30_000,
      );
      const closed = await terminal.finished;
      expect(closed.code).not.toBe(0);
      if (relayDir !== undefined) {
        expect(terminal.screen()).toContain(
          'relay-dap shell: the debug session that opened this terminal has ended: closing this terminal',
        );
        expect(fs.readdirSync(path.join(relayDir, 'channel'))).toEqual([]);
      }
      const traced = fs.readFileSync(trace, 'utf8');
      expect(traced).toContain('"command":"runInTerminal"');
      expect(traced).not.toContain(secret);
    });
  }

  it('a client without runInTerminal gets the command line to paste, naming variables and not the secret', async () => {
    const secret = `tok-${randomBytes(12).toString('hex')}`;
    const { adapter, client } = await pausedBeforeBuild({ secrets: { TOKEN: secret } }, {});
    const answer = await typeBang(client);
    expect(answer.success, answer.message).toBe(true);
    const consoleText = client.output('console');
    expect(consoleText).toContain('relay-dap: this editor cannot open a terminal itself (no runInTerminal)');
    const line = consoleText.split('\n').find((text) => text.includes(' shell --relay-dir '))!;
    expect(line).toMatch(/^ {2}RELAY_DAP_SESSION=[0-9a-f]{32} \S+ \S+ shell --relay-dir \S+ --cwd \S+\/sub /);
    expect(line).toContain(' --env FOO ');
    expect(line).toContain(' --env TOKEN_USE ');
    expect(line).toMatch(/ --path \S+\/tools$/);
    expect(consoleText).toMatch(/\n {2}export (\S+ )*FOO='from the env file' /);
    expect(consoleText).toContain('and the secrets TOKEN_USE (not shown here)');
    expect(consoleText).not.toContain(secret);
    await session.finish(ctx, adapter);
  });

  it('a client that refuses runInTerminal: the console says so, with the command line instead', async () => {
    const { adapter, client } = await pausedBeforeBuild({}, { supportsRunInTerminalRequest: true });
    const answer = typeBang(client);
    const request = await client.waitForReverseRequest('runInTerminal', undefined, EVENT_TIMEOUT_MS);
    client.respond(request, {}, false, 'no terminal in this editor');
    const response = await answer;
    expect(response.success).toBe(false);
    expect(response.message).toBe('the editor did not open a terminal: no terminal in this editor');
    expect(client.output('console')).toContain(
      'relay-dap: the editor did not open the terminal (runInTerminal: no terminal in this editor); run it yourself instead:',
    );
    expect(client.output('console')).toMatch(/\n {2}RELAY_DAP_SESSION=[0-9a-f]{32} .* shell --relay-dir /);
    await session.finish(ctx, adapter);
  });
});

describe('!! where no terminal can start', () => {
  /** `!!` typed in a job paused at entry through `relayDir`: refused, said in the console, no runInTerminal. */
  async function bangRefused(relayDir: string) {
    const { adapter, client } = await session.runUntilStop(
      ctx,
      'entry',
      { program: session.jobFixture('minimal.yaml'), cwd: ctx.workdir, relayDir },
      { caps: { supportsRunInTerminalRequest: true } },
    );
    const response = await typeBang(client);
    expect(response.success).toBe(false);
    expect(client.output('console')).toContain(`relay-dap: ${response.message}\n`);
    expect(
      client.transcript.some(({ message }) => (message as { command?: string }).command === 'runInTerminal'),
    ).toBe(false);
    return { adapter, client, message: response.message };
  }

  it('a Part-A shell server (no channels): the console names the server, why, and what to do; no runInTerminal is sent', async () => {
    const relayDir = path.join(ctx.tmp, 'part-a-relay');
    fs.mkdirSync(relayDir);
    const server = partA(['--relay-dir', relayDir, '--workdir', ctx.workdir, 'serve']);
    try {
      const { adapter, client, message } = await bangRefused(relayDir);
      expect(message).toMatch(noChannelsLine(relayDir, server.child.pid!, 'no terminal: '));
      // The session goes on: a command still runs through that server.
      expect(await session.consoleResult(client, '!true')).toBe('exit 0');
      await session.finish(ctx, adapter);
    } finally {
      await stopProcess(server);
    }
  });

  it('says in the console that python3 is missing on the far side, and how to fix it; no runInTerminal is sent', async () => {
    // A PATH with bash and nothing else: the server runs steps, python3 is not there.
    const bin = path.join(ctx.tmp, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(fs.realpathSync('/bin/bash'), path.join(bin, 'bash'));
    const relayDir = path.join(ctx.tmp, 'relay');
    const server = await startServer(relayDir, ['--workdir', ctx.workdir], {
      env: { ...ctx.env, PATH: bin },
    });
    const { adapter, message } = await bangRefused(relayDir);
    expect(message).toBe(
      `no terminal: python3 is not installed on the relay server's side (${relayDir}), and a terminal there needs it for its pseudo-terminal: install python3 there (apt-get install python3, apk add python3), then type !! again`,
    );
    await session.finish(ctx, adapter);
    await server.stop();
  });
});
