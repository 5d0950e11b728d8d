// Emacs dap-mode (Debian: emacs-nox, elpa-dap-mode) in batch mode with the shipped
// launch-configs/dap-mode.el: over stdio (the provider starts `relay-dap`), and through an
// adapter already listening on a port (the template's :debugServer + :host).
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { freePort } from '../support/adapterHarness.js';
import { expectScenario, runEditor } from './clientRun.js';
import * as editor from './editorHarness.js';

const dapModeMissing =
  editor.missingProgram('emacs', 'emacs-nox elpa-dap-mode') ??
  (fs.existsSync('/usr/share/emacs/site-lisp/elpa-src') &&
  fs.readdirSync('/usr/share/emacs/site-lisp/elpa-src').some((name) => name.startsWith('dap-mode-'))
    ? undefined
    : 'dap-mode is not installed (Debian: apt-get install elpa-dap-mode)');

const ws = editor.useEditorWorkspace();

/** Emacs in batch mode, driving the shipped dap-mode.el's `template` through the scenario. */
function runEmacs(template: string, extra: NodeJS.ProcessEnv = {}, keepAdapter?: number) {
  return runEditor(
    ws,
    'emacs',
    ['--batch', '-l', path.join(import.meta.dirname, 'dap-mode-driver.el')],
    {
      RELAY_TEST_CONFIG: path.join(editor.launchConfigs, 'dap-mode.el'),
      RELAY_TEST_TEMPLATE: template,
      ...extra,
    },
    keepAdapter,
  );
}

editor.editorSuite('Emacs dap-mode with launch-configs/dap-mode.el', dapModeMissing, () => {
  it('stdio ("this job file or workflow"): entry, !echo, Next, breakpoint, failed step, Stop, nothing left', async () => {
    const result = await runEmacs('relay-dap: this job file or workflow');
    expectScenario(result);
    expect(result.repl).toContain(`!echo ${editor.CONSOLE_TEXT}\nexit 0\n`);
    // Stop: the disconnect was answered (no response handler left waiting).
    expect(result.pendingResponses).toBe(0);
    expect(result.state).toBe('terminated');
  });

  it('TCP ("through the adapter on port 4711", on a free port): the same, and the adapter goes on listening', async () => {
    const port = await freePort();
    const adapter = await editor.listeningAdapter(ws, port);
    try {
      const result = await runEmacs(
        'relay-dap: through the adapter on port 4711',
        { RELAY_TEST_PORT: String(port) },
        adapter.pid,
      );
      expectScenario(result);
      expect(result.pendingResponses).toBe(0);
      expect(adapter.exitCode).toBe(null);
    } finally {
      adapter.kill('SIGTERM');
    }
  });
});
