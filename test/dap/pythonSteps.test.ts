/**
 * Steps run under the Python debugger: `debug: python` in a job file, `debugSteps` in a
 * launch. The step is real bash running a real Python script under Debian's debugpy; every
 * Python process it starts opens as a child session (the client answers `startDebugging` as VS
 * Code and nvim-dap do), stops at a breakpoint in the script, and ends when the process ends,
 * while the step's output and exit code stay what they are without the debugger. Every message
 * of every session, debugpy's included, is checked against the DAP schema by the test client.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { OTHER_UID, otherUser } from '../support/otherUser.js';
import { attachDirectly, childEnds, commandLines, pythonWithDebugpy } from '../support/pythonChild.js';
import {
  environmentOf,
  hitAndContinue,
  hitAndGoOn,
  hostileAttempt,
  launchTrain,
  LINE_LOSS,
  listeningPorts,
  nextChild,
  TRAIN,
  trainCommand,
  writeTrainJob,
} from '../support/pythonSteps.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

/** The failed step (train.py exits 3) pauses the job (Failed steps); it then ends with 3. */
async function failedStepToEnd(client: harness.StdioAdapter['client']): Promise<void> {
  await session.stoppedAt(client, 'exception');
  await session.continueJob(client);
  await session.runToEnd(client, 3);
}

/** The step's python processes: those running train.py (they carry the test's marker). */
function trainProcesses(): number[] {
  return processesWithMarker(ctx.marker).filter((pid) => commandLines([pid])[0]!.includes('train.py'));
}

/** Hub directories (private, holding the bootstrap) left in the relay's TMPDIR. */
function hubDirectories(): string[] {
  return fs.readdirSync(ctx.tmp).filter((name) => name.startsWith('relay-dap-py-'));
}

describe('a step under the Python debugger', { timeout: 240_000 }, () => {
  it('debug: python in a job file: python3 train.py in its run: stops at a breakpoint in train.py; the step keeps its output and exit code', async () => {
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await launchTrain(ctx, { program: job });
    const { child, launched } = await nextChild(ctx, adapter.client, script);
    expect((await launched).success).toBe(true);
    await hitAndContinue(child, script, '5');
    await failedStepToEnd(adapter.client);
    // What the step printed, as without the debugger (no debugger warning among it).
    expect(adapter.client.output('stdout')).toBe('preparing\nbefore\nloss 15\n');
    expect(session.stepResults(adapter.client)).toEqual([
      '✓ Prepare: exit 0, T s',
      '✗ Train: failed, exit 3, T s',
    ]);
    expect(hubDirectories()).toEqual([]);
  });

  it('a Python subprocess of the script is a second child session, stopped at the same breakpoint with its own locals', async () => {
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx, 'child'));
    const adapter = await launchTrain(ctx, { program: job });
    const first = await nextChild(ctx, adapter.client, script);
    await hitAndGoOn(first.child, script, '14');
    // train.py then runs itself (subprocess.run, sys.executable): a session of its own.
    const second = await nextChild(ctx, adapter.client, script);
    expect((await second.launched).success).toBe(true);
    await hitAndContinue(second.child, script, '5');
    await childEnds(first.child);
    await failedStepToEnd(adapter.client);
    expect(adapter.client.output('stdout')).toBe('preparing\nbefore\nloss 42\nloss 15\n');
  });

  it('a client that refuses the child session: the process runs on without the debugger, said once', async () => {
    const { job } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await launchTrain(ctx, { program: job });
    const start = await adapter.client.waitForReverseRequest('startDebugging', undefined, LIMIT);
    adapter.client.respond(start, {}, false, 'no child sessions here');
    await failedStepToEnd(adapter.client);
    expect(adapter.client.output('stdout')).toBe('preparing\nbefore\nloss 15\n');
    expect(session.consoleLines(adapter.client).filter((line) => line.includes('child session'))).toEqual([
      expect.stringMatching(
        /^relay-dap: the client did not open the child session of Train: python3 train\.py \(pid \d+\): it runs without the debugger$/,
      ),
    ]);
  });

  it('a client without startDebugging is given an address for the process, and debugs it through that', async () => {
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await launchTrain(ctx, { program: job }, false);
    const attachTo = /waits for a Python debugger: attach one to 127\.0\.0\.1:(\d+) /;
    const said = await adapter.client.waitForEvent(
      'output',
      (event) => attachTo.test(event.body.output),
      LIMIT,
    );
    expect(said.body.output).toMatch(
      /^relay-dap: Train: python3 train\.py \(pid \d+\) waits for a Python debugger/,
    );
    const port = Number(attachTo.exec(said.body.output)![1]);
    await attachDirectly(port, { path: script, lines: [LINE_LOSS] }, async (child, attached) => {
      expect((await attached).success).toBe(true);
      await hitAndContinue(child, script, '5');
    });
    await failedStepToEnd(adapter.client);
  });

  it("with localRoot, the breakpoint is set in the editor's copy of train.py and the frames show that copy", async () => {
    const far = path.join(ctx.workdir, 'far');
    const local = path.join(ctx.workdir, 'local');
    session.writeFile(far, 'train.py', TRAIN);
    const script = session.writeFile(local, 'train.py', TRAIN);
    const job = session.writeFile(
      far,
      'train.yml',
      `steps:\n  - name: Train\n    debug: python\n    run: ${JSON.stringify(trainCommand(ctx))}\n`,
    );
    const adapter = await launchTrain(ctx, { program: job, cwd: far, localRoot: local });
    const { child } = await nextChild(ctx, adapter.client, script);
    await hitAndContinue(child, script, '5');
    await failedStepToEnd(adapter.client);
  });

  it('noDebug: a debug: python step runs as without the debugger', async () => {
    const { job } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await launchTrain(ctx, { program: job, noDebug: true });
    await session.runToEnd(adapter.client, 3);
    expect(adapter.client.output('stdout')).toBe('preparing\nbefore\nloss 15\n');
    expect(adapter.client.transcriptSummary().filter((line) => line.includes('startDebugging'))).toEqual([]);
  });

  it('debugSteps in a workflow launch names the step by id; the other steps run as they do without it', async () => {
    const python = pythonWithDebugpy();
    const script = session.writeFile(ctx.workdir, 'train.py', TRAIN);
    const workflow = session.writeOneJobWorkflow(ctx.workdir, '.github/workflows/train.yml', [
      '    steps:',
      '      - name: Plain',
      `        run: echo "hub \${RELAY_DAP_PYTHON_HUB-unset}"; ${python} -c 'print("plain python")'`,
      '      - id: train',
      '        name: Train model',
      `        run: ${ctx.mark(`${python} train.py`)}`,
    ]);
    const adapter = await launchTrain(ctx, { program: workflow, debugSteps: ['train'] });
    const { child } = await nextChild(ctx, adapter.client, script);
    await hitAndContinue(child, script, '5');
    await failedStepToEnd(adapter.client);
    expect(adapter.client.output('stdout')).toBe('hub unset\nplain python\nloss 15\n');
  });

  it('debugSteps naming no step: the launch fails naming it and listing the steps', async () => {
    const { job } = writeTrainJob(ctx, 'true', false);
    const adapter = await launchTrain(ctx, { program: job, debugSteps: ['Train', 'Tarin'] }).catch(
      (error: Error) => error,
    );
    expect(adapter).toBeInstanceOf(Error);
    expect((adapter as Error).message).toContain(
      'launch failed: debugSteps: no step is named or has the id "Tarin" (steps: Prepare, Train): use one of these',
    );
  });

  it('debugpy missing for the python the step runs: said once, how to install it, and the step runs without the debugger', async () => {
    // A debugpy that cannot be imported, first on the step's own PYTHONPATH (which the step keeps).
    session.writeFile(ctx.workdir, 'nodebugpy/debugpy/__init__.py', 'raise ImportError("no debugpy here")\n');
    const { job } = writeTrainJob(ctx, trainCommand(ctx, 'child'));
    const withPath = fs
      .readFileSync(job, 'utf8')
      .replace('    debug: python\n', '    debug: python\n    env: { PYTHONPATH: nodebugpy }\n');
    fs.writeFileSync(job, withPath);
    const adapter = await launchTrain(ctx, { program: job });
    await failedStepToEnd(adapter.client);
    expect(adapter.client.output('stdout')).toBe('preparing\nbefore\nloss 42\nloss 15\n');
    const said = session
      .consoleLines(adapter.client)
      .filter((line) => line.includes('debugpy is not installed'));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(
      /^relay-dap: step 2 \(Train\): debugpy is not installed for (\/\S+) on the relay server's side, so its Python runs without the debugger: install it there with `\1 -m pip install debugpy` or `apt-get install python3-debugpy`$/,
    );
    expect(adapter.client.transcriptSummary().filter((line) => line.includes('startDebugging'))).toEqual([]);
  });

  it('disconnecting the parent while its child is stopped at a breakpoint: no python, no debugpy, no hub, no channel left', async () => {
    const relayDir = path.join(ctx.workdir, 'relay');
    await ctx.startRelayServer(relayDir);
    const { job, script } = writeTrainJob(ctx, trainCommand(ctx));
    const adapter = await launchTrain(ctx, { program: job, relayDir });
    const { child, childAdapter } = await nextChild(ctx, adapter.client, script);
    await child.waitForEvent('stopped', undefined, LIMIT);
    expect(trainProcesses()).not.toEqual([]);
    expect(hubDirectories()).not.toEqual([]);
    await adapter.client.request('disconnect', { terminateDebuggee: true });
    await session.runToEnd(adapter.client, 130);
    await harness.waitForExit(adapter);
    await harness.waitForExit(childAdapter);
    await waitUntil(
      () =>
        commandLines(processesWithMarker(ctx.adapterMarker)).every((line) => !/python|debugpy/.test(line)),
      'no python or debugpy process',
      LIMIT,
    );
    expect(hubDirectories()).toEqual([]);
    expect(fs.readdirSync(path.join(relayDir, 'channel'))).toEqual([]);
  });

  it.skipIf(!otherUser.ok)(
    `another local user (uid ${OTHER_UID}) can neither talk DAP to debugpy's port nor pass its token check, nor reach the hub${otherUser.ok ? '' : ` (skipped: ${otherUser.reason})`}`,
    async () => {
      const { job, script } = writeTrainJob(ctx, trainCommand(ctx));
      const adapter = await launchTrain(ctx, { program: job });
      const { child } = await nextChild(ctx, adapter.client, script);
      const { threadId } = (await child.waitForEvent('stopped', undefined, LIMIT)).body;
      const ports = listeningPorts(processesWithMarker(ctx.adapterMarker));
      // debugpy's port for the process; none for more DAP clients.
      expect(ports.length).toBe(1);
      const hub = environmentOf(trainProcesses()[0]!, 'RELAY_DAP_PYTHON_HUB')!;
      const attempt = await hostileAttempt(ports, hub);
      expect(attempt).toEqual({
        ports: [{ port: ports[0], answered: false, authorized: false, closed: true }],
        hub: 'PermissionError',
      });
      // The session is untouched: it goes on to its end.
      await child.request('continue', { threadId: threadId! });
      await childEnds(child);
      await failedStepToEnd(adapter.client);
    },
  );
});
