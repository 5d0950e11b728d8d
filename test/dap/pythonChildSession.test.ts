/**
 * `!debug python script.py` in the debug console: a real Python program, run on the far side
 * under Debian's debugpy, debugged through a child session the client opens when asked by
 * `startDebugging` (as VS Code and nvim-dap do: a second adapter process, given the
 * configuration). Every message of both sessions, debugpy's included, is checked against
 * the DAP schema by the test client.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import { DapClient } from '../support/dapClient.js';
import * as session from '../support/jobSession.js';
import {
  attachDirectly,
  cancelParent,
  commandLines,
  debugAddPy,
  debugToTheEnd,
  LINE_DOUBLED,
  LINE_TOTAL,
  openChild,
  PARENT_TYPE,
  pausedParent,
  pythonWithDebugpy,
  SCRIPT,
} from '../support/pythonChild.js';
import { OTHER_UID, otherUser } from '../support/otherUser.js';
import { connectAsOtherUser } from '../support/otherUserClient.js';
import {
  hitAndContinue,
  hostileAttempt,
  LINE_LOSS,
  listeningPorts,
  trainCommand,
  writeTrainJob,
} from '../support/pythonSteps.js';
import { noChannelsLine, partA, processesWithMarker, stopProcess } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

/** `!debug` from a client without `startDebugging`: the address the console gives to attach to. */
async function addressGiven(): Promise<{
  client: DapClient;
  script: string;
  debugging: Promise<DebugProtocol.Response>;
  port: number;
}> {
  const python = pythonWithDebugpy();
  const { client, script } = await pausedParent(ctx, { startDebugging: false });
  const debugging = client.request(
    'evaluate',
    { expression: `!debug ${python} add.py`, context: 'repl' },
    120_000,
  );
  const attachTo =
    /^relay-dap: !debug add\.py waits for a Python debugger: attach one to 127\.0\.0\.1:(\d+) /;
  const said = await client.waitForEvent('output', (event) => attachTo.test(event.body.output), LIMIT);
  return { client, script, debugging, port: Number(attachTo.exec(said.body.output)![1]) };
}

describe('!debug python: a Python program debugged in a child session', { timeout: 240_000 }, () => {
  it('stops at a breakpoint in the script, shows its locals, steps, evaluates, and the parent answers the exit code', async () => {
    const { adapter, client, script, debugging, child, launched } = await debugAddPy(ctx);
    expect((await launched).success).toBe(true);

    await debugToTheEnd(child, script, debugging, client);
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
    client.end();
    await harness.waitForExit(adapter);
  });

  it("the program's own command line is exactly `python add.py`: no debugpy argument, no access token", async () => {
    const { client, script, debugging, child } = await debugAddPy(ctx);
    const hit = await child.waitForEvent('stopped', undefined, LIMIT);
    // /proc's NUL-separated words, joined by spaces: what `ps` shows every local user.
    const program = commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) =>
      line.includes('add.py'),
    );
    expect(program).toEqual([`${pythonWithDebugpy()} add.py `]);
    await debugToTheEnd(child, script, debugging, client, hit);
  });

  it('the same with python -m, through a relay server of its own that polls (as on a network filesystem)', async () => {
    const { client, script, debugging, child, launched } = await debugAddPy(
      ctx,
      { server: ['--poll', '50'] },
      '-m add',
    );
    expect((await launched).success).toBe(true);
    await debugToTheEnd(child, script, debugging, client);
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
  });

  /**
   * The launch's `cwd` on the far side (as a container's /workspace) and `localRoot`, the
   * editor's folder that holds the same files (as ${workspaceFolder}): two paths, the same
   * `files` in each. `!debug python TARGET` is debugged with a breakpoint in add() set in the
   * editor's copy of `breakIn`: it is hit, and the frames show that copy.
   */
  async function debugMapped(
    launch: Record<string, unknown>,
    files: Record<string, string>,
    breakIn: string,
    target: string,
  ) {
    const far = path.join(ctx.workdir, 'far');
    const local = path.join(ctx.workdir, 'local');
    for (const [name, text] of Object.entries(files)) {
      session.writeFile(far, name, text);
      session.writeFile(local, name, text);
    }
    const script = path.join(local, breakIn);
    const { client } = await pausedParent(ctx, { launch: { cwd: far, localRoot: local, ...launch } });
    const debugging = client.request(
      'evaluate',
      { expression: `!debug ${pythonWithDebugpy()} ${target}`, context: 'repl' },
      120_000,
    );
    const { child, launched } = await openChild(ctx, client, { path: script, lines: [LINE_TOTAL] });
    expect((await launched).success).toBe(true);
    // Stopped in add() at the editor's path, its locals, a step, and the program's exit code.
    await debugToTheEnd(child, script, debugging, client);
    return {
      said: session.consoleLines(client).find((line) => line.startsWith('relay-dap: debugging')),
      local,
    };
  }

  it("with localRoot, a breakpoint set in the editor's copy of the script is hit, and its frames show that copy", async () => {
    const { said, local } = await debugMapped(
      {},
      { 'app/script.py': SCRIPT },
      'app/script.py',
      'app/script.py',
    );
    expect(said).toMatch(
      new RegExp(
        `^relay-dap: debugging app/script\\.py under debugpy \\S+ in (\\S+/far) \\(\\1 there is ${local} here\\)$`,
      ),
    );
  });

  it('from a job file whose own cwd is app, a breakpoint in lib/ beside it (a module the script imports) is hit too', async () => {
    const job = session.writeFile(ctx.workdir, 'job.yml', 'cwd: app\nsteps:\n  - run: "true"\n');
    // add() from SCRIPT, in a module of its own (same lines); the script imports it from ../lib.
    const helper =
      SCRIPT.split('\n')
        .slice(0, LINE_DOUBLED + 1)
        .join('\n') + '\n';
    const script = [
      'import os, sys',
      'sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib")))',
      'from helper import add',
      'result = add(2, 40)',
      'print("result", result)',
      'raise SystemExit(7)',
      '',
    ].join('\n');
    const { said, local } = await debugMapped(
      { program: job },
      { 'app/script.py': script, 'lib/helper.py': helper },
      'lib/helper.py',
      'script.py',
    );
    // Where it runs is app; what maps is the launch's cwd, so lib/ beside app maps too.
    expect(said).toMatch(
      new RegExp(
        `^relay-dap: debugging script\\.py under debugpy \\S+ in (\\S+/far)/app \\(\\1 there is ${local} here\\)$`,
      ),
    );
  });

  const servers = {
    tcp: 'relay-dap --server=0',
    socket: 'relay-dap --socket PATH',
    debugServer:
      'relay-dap --server=0 as VS Code’s debugServer (the child asked for with the same debugServer)',
  };
  for (const over of ['tcp', 'socket', 'debugServer'] as const) {
    it(`the parent on ${servers[over]}: the child is a new connection to the same server, debugged to the end; the server goes on`, async () => {
      const { adapter, client, script, debugging, child, launched } = await debugAddPy(ctx, { over });
      expect((await launched).success).toBe(true);
      await debugToTheEnd(child, script, debugging, client);
      await client.request('continue', { threadId: 1 });
      await session.runToEnd(client, 0);
      // One server for both sessions: it still takes new ones.
      expect(adapter.hasExited).toBe(false);
      const next = await (adapter as harness.TcpAdapter | harness.SocketAdapter).connect();
      expect((await next.request('initialize', harness.DEFAULT_CLIENT_CAPS)).success).toBe(true);
      await next.close();
    });
  }

  it('a debug: python step under a parent that came through debugServer: its child is asked for with the same debugServer, and debugged there', async () => {
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await ctx.spawnTcp();
    const client = await adapter.connect();
    await harness.launchAndConfigure(
      client,
      { type: PARENT_TYPE, cwd: ctx.workdir, stopOnEntry: false, program: job, debugServer: adapter.port },
      { supportsStartDebuggingRequest: true },
    );
    const { child, launched } = await openChild(
      ctx,
      client,
      { path: script, lines: [LINE_LOSS] },
      async (configuration) => {
        expect(configuration.debugServer).toBe(adapter.port);
        return { child: await DapClient.connectTcp(adapter.port) };
      },
    );
    expect((await launched).success).toBe(true);
    await hitAndContinue(child, script, '5');
    // train.py exits 3: the failed step pauses the job, which then ends with 3.
    await session.stoppedAt(client, 'exception');
    await session.continueJob(client);
    await session.runToEnd(client, 3);
  });

  it('a client without startDebugging is given a loopback address to attach to, and debugs through it', async () => {
    const { client, script, debugging, port } = await addressGiven();
    await attachDirectly(port, { path: script, lines: [LINE_TOTAL] }, async (child, attached) => {
      const answer = await attached;
      expect({ success: answer.success, command: answer.command }).toEqual({
        success: true,
        command: 'attach',
      });
      await debugToTheEnd(child, script, debugging, client);
    });
  });

  it.skipIf(!otherUser.ok)(
    `another local user (uid ${OTHER_UID}) connecting to that address is refused unanswered${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const { debugging, port } = await addressGiven();
      const attempt = await connectAsOtherUser({ host: '127.0.0.1', port });
      expect(attempt).toMatchObject({ connected: true, received: 0, answered: false });
      // The address is still the user's own: a session through it gets debugpy's answer.
      const own = await DapClient.connectTcp(port, '127.0.0.1');
      expect((await own.request('initialize', harness.DEFAULT_CLIENT_CAPS)).body).toMatchObject({
        supportsConfigurationDoneRequest: true,
      });
      await own.close();
      expect(((await debugging).body as DebugProtocol.EvaluateResponse['body']).result).toMatch(/^exit /);
    },
  );

  it.skipIf(!otherUser.ok)(
    `another local user (uid ${OTHER_UID}) gets nothing from any loopback port of the far side's debugpy, and the session goes on${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const { client, script, debugging, child } = await debugAddPy(ctx);
      const hit = await child.waitForEvent('stopped', undefined, LIMIT);
      const ports = listeningPorts(processesWithMarker(ctx.adapterMarker));
      expect(ports).not.toEqual([]);
      const attempt = await hostileAttempt(ports);
      expect(attempt.ports).toEqual(
        ports.map((port) => ({ port, answered: false, authorized: false, closed: true })),
      );
      // Still stopped where it was, and debugged to its end.
      await debugToTheEnd(child, script, debugging, client, hit);
      await client.request('continue', { threadId: 1 });
      await session.runToEnd(client, 0);
    },
  );

  it('a parent ended while its child is stopped at a breakpoint leaves no Python or debugpy process behind', async () => {
    const { adapter, client, debugging, child, childAdapter } = await debugAddPy(ctx);
    await child.waitForEvent('stopped', undefined, LIMIT);
    // Far-side processes carry the adapter's marker (the embedded relay server runs them).
    expect(
      commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) => line.includes('add.py')),
    ).not.toEqual([]);

    // The child's connection ends with its parent's channel, and its adapter with it.
    await cancelParent(ctx, { adapter, client, debugging }, [childAdapter!]);
  });

  it('through a Part-A shell server (no channels): the console names the server, why, and what to do; nothing hangs', async () => {
    const relayDir = path.join(ctx.workdir, 'part-a-relay');
    fs.mkdirSync(relayDir);
    const server = partA(['--relay-dir', relayDir, '--workdir', ctx.workdir, 'serve']);
    try {
      const { client } = await pausedParent(ctx, { launch: { relayDir } });
      const answer = await client.request(
        'evaluate',
        { expression: `!debug ${pythonWithDebugpy()} add.py`, context: 'repl' },
        60_000,
      );
      expect(answer.success).toBe(false);
      expect(answer.message).toMatch(noChannelsLine(relayDir, server.child.pid!, '!debug: '));
      expect(
        client.transcript.some(
          ({ message }) => (message as { command?: string }).command === 'startDebugging',
        ),
      ).toBe(false);
      // The session goes on: a plain command still runs.
      const after = await client.request('evaluate', { expression: '!true', context: 'repl' });
      expect(after.body.result).toBe('exit 0');
    } finally {
      await stopProcess(server);
    }
  });

  it('debugpy missing on the far side: the console says so and how to install it, the program does not run, and nothing hangs', async () => {
    const python = pythonWithDebugpy();
    const { client } = await pausedParent(ctx);
    // A virtual environment of the same interpreter without Debian's site directories, where
    // its debugpy lives (as a project's venv without debugpy): bare/python3 is its python.
    const venv = path.join(ctx.workdir, 'venv');
    expect(spawnSync(python, ['-m', 'venv', '--without-pip', venv]).status).toBe(0);
    const bin = path.join(ctx.workdir, 'bare');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\nexec ${venv}/bin/python3 "$@"\n`, {
      mode: 0o755,
    });
    fs.writeFileSync(path.join(ctx.workdir, 'add.py'), 'open("ran", "w").close()\n');
    const answer = await client.request(
      'evaluate',
      { expression: '!debug bare/python3 add.py', context: 'repl' },
      60_000,
    );
    expect(answer.success).toBe(false);
    expect(answer.message).toMatch(
      /^!debug: debugpy is not installed for bare\/python3 \(.*\) on the relay server's side: install it there with `.* -m pip install debugpy` or `apt-get install python3-debugpy`, then try again$/,
    );
    expect(fs.existsSync(path.join(ctx.workdir, 'ran'))).toBe(false);
    // The session goes on: a plain command still runs.
    const after = await client.request('evaluate', { expression: '!true', context: 'repl' });
    expect(after.body.result).toBe('exit 0');
  });
});
