/**
 * `!debug python parent.py` whose program starts a Python subprocess (`child.py`): the
 * subprocess is a child session of its own (the hub of pythonProcessHub.ts, as for a step
 * under the Python debugger), and nothing of debugpy — its access token least of all — is on
 * the subprocess's command line, which `ps` shows to every local user. Real python3 with
 * Debian's debugpy, the real adapter, every message checked against the DAP schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as harness from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import {
  breakpointHitThenContinue,
  cancelParent,
  childEnds,
  commandLines,
  openChild,
  pausedParent,
  pythonWithDebugpy,
} from '../support/pythonChild.js';
import { processesWithMarker, waitUntil } from '../support/relayHarness.js';

const ctx = harness.useAdapterContext();
const LIMIT = harness.EVENT_TIMEOUT_MS;

const PARENT = [
  'import subprocess, sys',
  'print("parent", flush=True)',
  'code = subprocess.run([sys.executable, "child.py"]).returncode',
  'sys.exit(code + 10)',
  '',
].join('\n');
// helper.py is in lib/, on the job's PYTHONPATH: the subprocess still finds it.
const CHILD = [
  'from helper import FACTOR',
  'def work(n):',
  '    doubled = n * FACTOR',
  '    return doubled',
  '',
  'print("child", work(21), flush=True)',
  'raise SystemExit(5)',
  '',
].join('\n');
const LINE_DOUBLED = 3;

/**
 * `!debug PYTHON parent.py` in a paused parent whose job has lib/ on its PYTHONPATH, its
 * program's child session opened (no breakpoints).
 */
async function debugParentPy() {
  const python = pythonWithDebugpy();
  const lib = path.join(ctx.workdir, 'lib');
  session.writeFile(lib, 'helper.py', 'FACTOR = 2\n');
  const { adapter, client } = await pausedParent(ctx, { launch: { env: { PYTHONPATH: lib } } });
  session.writeFile(ctx.workdir, 'parent.py', PARENT);
  const childScript = session.writeFile(ctx.workdir, 'child.py', CHILD);
  const debugging = client.request(
    'evaluate',
    { expression: `!debug ${python} parent.py`, context: 'repl' },
    120_000,
  );
  const program = await openChild(ctx, client, { path: childScript, lines: [] });
  return { adapter, client, debugging, childScript, program };
}

/** The far side's processes running child.py, with their command lines. */
function childPyCommandLines(): string[] {
  return commandLines(processesWithMarker(ctx.adapterMarker)).filter((line) => line.includes('child.py'));
}

describe("!debug python: the program's Python subprocesses", { timeout: 240_000 }, () => {
  it("a subprocess's command line is exactly `python child.py`: no debugpy argument, no access token", async () => {
    const { client, debugging, childScript, program } = await debugParentPy();
    await waitUntil(() => childPyCommandLines().length > 0, 'child.py running', LIMIT);
    // sys.executable, then the script: /proc's NUL-separated words, joined by spaces.
    expect(childPyCommandLines()).toEqual([expect.stringMatching(/^\/\S*python3?\S* child\.py $/)]);

    // It waits for its own child session; opened without breakpoints, it runs to its end.
    const { child } = await openChild(ctx, client, { path: childScript, lines: [] });
    await childEnds(child);
    const exited = await program.child.waitForEvent('exited', undefined, LIMIT);
    expect(exited.body.exitCode).toBe(15);
    // The program's output, its subprocess's too, is the parent's, as a `!CMD`'s is.
    expect(client.output('stdout')).toContain('parent\nchild 42\n');
    await program.child.request('disconnect', {});
    program.child.end();
    const answer = await debugging;
    expect(answer.body.result).toBe('exit 15');
  });

  it("a breakpoint in child.py is hit in a second child session, and the parent's !debug answers the program's exit code", async () => {
    const { client, debugging, childScript, program } = await debugParentPy();
    const { child, launched } = await openChild(ctx, client, { path: childScript, lines: [LINE_DOUBLED] });
    expect((await launched).success).toBe(true);
    await breakpointHitThenContinue(
      child,
      { line: LINE_DOUBLED, path: childScript, name: 'work' },
      { n: '21' },
    );
    await childEnds(child);

    const exited = await program.child.waitForEvent('exited', undefined, LIMIT);
    expect(exited.body.exitCode).toBe(15);
    await childEnds(program.child);
    const answer = await debugging;
    expect(answer.success, answer.message).toBe(true);
    expect(answer.body.result).toBe('exit 15');
    await client.request('continue', { threadId: 1 });
    await session.runToEnd(client, 0);
  });

  it('cancelling the parent while the subprocess is stopped at a breakpoint leaves no Python, debugpy or hub behind', async () => {
    const { adapter, client, debugging, childScript, program } = await debugParentPy();
    const { child, childAdapter } = await openChild(ctx, client, {
      path: childScript,
      lines: [LINE_DOUBLED],
    });
    await child.waitForEvent('stopped', undefined, LIMIT);
    expect(childPyCommandLines()).not.toEqual([]);

    await cancelParent(ctx, { adapter, client, debugging }, [childAdapter, program.childAdapter]);
    expect(fs.readdirSync(ctx.tmp).filter((name) => name.startsWith('relay-dap-py-'))).toEqual([]);
  });
});
