// Vim (Debian: vim-nox, which has +python3) with vimspector and the shipped
// launch-configs/vimspector.json saved as the project's .vimspector.json, in a pseudo-terminal
// (`script`; vimspector needs a terminal), over stdio. vimspector is not packaged in Debian or
// npm: point RELAY_DAP_VIMSPECTOR at a checkout of github.com/puremourning/vimspector, or
// install it under ~/.vim/pack/*/start/vimspector.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { expectScenario, runEditor } from './clientRun.js';
import * as editor from './editorHarness.js';

const packRoots = [path.join(os.homedir(), '.vim/pack'), '/usr/share/vim/vimfiles/pack'];
const vimspector = editor.findPackPlugin(
  'RELAY_DAP_VIMSPECTOR',
  packRoots,
  'vimspector',
  'plugin/vimspector.vim',
);
const missing =
  editor.missingProgram('vim', 'vim-nox') ??
  (/\+python3\b/.test(spawnSync('vim', ['--version'], { encoding: 'utf8' }).stdout ?? '')
    ? undefined
    : 'vim has no +python3, which vimspector needs (Debian: apt-get install vim-nox)') ??
  editor.missingProgram('script', 'bsdutils') ??
  editor.missingPlugin(
    vimspector,
    'vimspector',
    'RELAY_DAP_VIMSPECTOR',
    'github.com/puremourning/vimspector',
    '~/.vim/pack',
  );

const ws = editor.useEditorWorkspace();

editor.editorSuite('Vim vimspector with launch-configs/vimspector.json', missing, () => {
  it('stdio ("this job file or workflow"): no launch questions; entry, !echo, Next, breakpoint, failed step, Stop, nothing left', async () => {
    fs.copyFileSync(
      path.join(editor.launchConfigs, 'vimspector.json'),
      path.join(ws.dir, '.vimspector.json'),
    );
    const vimrc = path.join(ws.dir, '..', 'vimrc');
    fs.writeFileSync(
      vimrc,
      `set nocompatible\nset rtp^=${vimspector!.replace(/([ \\,])/g, '\\$1')}\nfiletype plugin on\n`,
    );
    const vim = `vim -Nu ${vimrc} -S ${path.join(import.meta.dirname, 'vimspector-driver.vim')}`;
    const result = await runEditor(ws, 'script', ['-qefc', vim, '/dev/null'], {
      TERM: 'xterm',
    });
    expectScenario(result);
    expect(result.disconnectAnswered).toBe(1);
    // vimspector asked nothing at launch: breakpoints.exception answered both of its questions.
    expect(fs.readFileSync(path.join(ws.env.HOME!, '.vimspector.log'), 'utf8')).toContain(
      '"command": "setExceptionBreakpoints", "arguments": {"filters": ["failed"]}',
    );
  });
});
