// Neovim (Debian: neovim) headless with nvim-dap and the shipped launch-configs/nvim-dap.lua:
// the `relay` adapter over stdio, `relay_server` (nvim-dap spawns `relay-dap --server=${port}`
// and must not leave it running), and `relay_tcp` (an adapter already listening on a port).
// nvim-dap is not packaged in Debian or npm: point RELAY_DAP_NVIM_DAP at a checkout (a version
// that supports the installed Neovim: 0.6.0 for Neovim 0.7), or install it as a package under
// ~/.local/share/nvim/site/pack/*/start/nvim-dap.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { freePort } from '../support/adapterHarness.js';
import { LINE_TOTAL, pythonWithDebugpy, SCRIPT } from '../support/pythonChild.js';
import { expectScenario, runEditor, type DriverResult } from './clientRun.js';
import * as editor from './editorHarness.js';

const packRoots = [
  path.join(os.homedir(), '.local/share/nvim/site/pack'),
  '/usr/share/nvim/site/pack',
  '/usr/local/share/nvim/site/pack',
];
const nvimDap = editor.findPackPlugin('RELAY_DAP_NVIM_DAP', packRoots, 'nvim-dap', 'lua/dap.lua');
const missing =
  editor.missingProgram('nvim', 'neovim') ??
  editor.missingPlugin(
    nvimDap,
    'nvim-dap',
    'RELAY_DAP_NVIM_DAP',
    'github.com/mfussenegger/nvim-dap, 0.6.0 for Neovim 0.7',
    '~/.local/share/nvim/site/pack',
  );

const ws = editor.useEditorWorkspace();

/** Headless Neovim: an init.lua that loads nvim-dap and the shipped nvim-dap.lua, then the driver. */
function runNeovim(mode: 'stdio' | 'server' | 'tcp', extra: NodeJS.ProcessEnv = {}, keepAdapter?: number) {
  const init = path.join(ws.dir, '..', 'init.lua');
  fs.writeFileSync(
    init,
    `vim.opt.rtp:prepend(${JSON.stringify(nvimDap)})\ndofile(${JSON.stringify(path.join(editor.launchConfigs, 'nvim-dap.lua'))})\n`,
  );
  return runEditor(
    ws,
    'nvim',
    ['--headless', '-u', init, '-c', `luafile ${path.join(import.meta.dirname, 'nvim-dap-driver.lua')}`],
    { RELAY_TEST_MODE: mode, ...extra },
    keepAdapter,
  );
}

/** The `!debug` scenario's script, in the project (the job's working directory), and how to run it. */
function debugScenario(): NodeJS.ProcessEnv {
  const script = path.join(ws.dir, 'add.py');
  fs.writeFileSync(script, SCRIPT);
  return {
    RELAY_TEST_DEBUG_SCRIPT: script,
    RELAY_TEST_DEBUG_LINE: String(LINE_TOTAL),
    RELAY_TEST_DEBUG_PYTHON: pythonWithDebugpy(),
  };
}

/** What the user saw of `!debug`: the child stopped in add() with its arguments, then exit 7 in the job's console. */
function expectDebugged(result: DriverResult): void {
  const untilStop = result.events.slice(0, 4);
  // Stop's own `exited` and `terminated` reach nvim-dap before it closes the session, or not.
  expect([
    ['exited', 130],
    ['terminated', null],
  ]).toEqual(expect.arrayContaining(result.events.slice(4)));
  expect(untilStop).toEqual([
    ['stopped', 'entry'],
    ['child stopped', 'breakpoint'],
    // Then `raise SystemExit(7)` ends it: debugpy, attached to the program as to a step's
    // process, does not see a SystemExit as uncaught (it stopped there when it launched it).
    ['child exited', 7],
    ['child terminated', null],
  ]);
  expect(result.child).toEqual({
    stoppedAt: [path.join(ws.dir, 'add.py'), LINE_TOTAL, 'add'],
    a: '2',
    b: '40',
    windows: [[path.join(ws.dir, 'add.py'), LINE_TOTAL]],
  });
  expect(result.output).toContain('result 84');
  expect(result.output).toContain('exit 7');
}

editor.editorSuite('Neovim nvim-dap with launch-configs/nvim-dap.lua', missing, () => {
  it('stdio (adapter `relay`): entry, !echo, Next, breakpoint, failed step, Stop answered, nothing left', async () => {
    const result = await runNeovim('stdio');
    expectScenario(result);
    // The failed-step pause has its exception (nvim-dap asks before it shows the pause).
    expect(result.events).toContainEqual(['exceptionInfo', 'exit 3']);
  });

  it('spawned server (adapter `relay_server`): the same, and the adapter nvim-dap started exits after Stop', async () => {
    // runEditor waits for every adapter started by this Neovim to be gone while it still runs.
    expectScenario(await runNeovim('server'));
  });

  it('!debug python3 add.py in the console (adapter `relay`): nvim-dap opens the child session, stops at the breakpoint in add.py with its locals; the console answers exit 7', async () => {
    expectDebugged(await runNeovim('stdio', debugScenario()));
  });

  it('!debug through the spawned server (adapter `relay_server`): nvim-dap opens the child on the same server; the same, and the adapter exits after Stop', async () => {
    expectDebugged(await runNeovim('server', debugScenario()));
  });

  it('fixed port (adapter `relay_tcp`, on a free port): the same; disconnect is answered, the adapter goes on', async () => {
    const port = await freePort();
    const adapter = await editor.listeningAdapter(ws, port);
    try {
      expectScenario(await runNeovim('tcp', { RELAY_TEST_PORT: String(port) }, adapter.pid));
      expect(adapter.exitCode).toBe(null);
    } finally {
      adapter.kill('SIGTERM');
    }
  });
});
