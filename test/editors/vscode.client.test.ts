// VS Code (code-server from npm, in Debian's chromium driven by playwright-core) with the relay-dap
// extension installed from the .vsix that `npm run package` builds, and the shipped
// launch-configs/vscode-launch.json as the project's .vscode/launch.json. Driven through the UI
// as a user does it, on a GitHub Actions workflow: breakpoints set in the editor, "relay-dap:
// debug a workflow job" started from the command palette, `!echo` typed in the Debug Console,
// Step Over, Continue and Stop clicked in the debug toolbar (that configuration does not stop on
// entry; the first one, "relay-dap: run a command", then shows the pause on entry). Each step's
// output must show up in the open Debug Console while the job is paused after it (issue 12,
// item 2: VS Code 1.96 drew only the lines an expanded output group had when first drawn).
//
// code-server and playwright-core are not devDependencies (code-server is ~400 MB):
// `.ci/install-vscode-tools PREFIX` installs both, and RELAY_DAP_VSCODE_TOOLS=PREFIX points this
// test at them (default: ~/.cache/relay-dap-editors/vscode). Screenshots of each step are kept in
// test-results/editors/vscode/.
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { freePort } from '../support/adapterHarness.js';
import { processesWithMarker, repoRoot, tempDir, waitUntil } from '../support/relayHarness.js';
import { LINE_TOTAL, pythonWithDebugpy, SCRIPT } from '../support/pythonChild.js';
import { packageVsix } from '../support/vsixPackage.js';
import {
  BREAKPOINT_LINE,
  editorJob,
  editorWorkspace,
  launchConfigs,
  missingProgram,
  editorSuite,
  listeningAdapter,
  type EditorWorkspace,
} from './editorHarness.js';

const tools =
  process.env.RELAY_DAP_VSCODE_TOOLS ?? path.join(os.homedir(), '.cache', 'relay-dap-editors', 'vscode');
const codeServer = path.join(tools, 'node_modules', '.bin', 'code-server');
const playwrightDir = path.join(tools, 'node_modules', 'playwright-core');
const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
const install = `.ci/install-vscode-tools ${tools}, or set RELAY_DAP_VSCODE_TOOLS to where they are`;
const missing =
  missingProgram('chromium', 'chromium') ??
  (fs.existsSync(codeServer) ? undefined : `code-server (npm) not found in ${tools}: run ${install}`) ??
  (fs.existsSync(playwrightDir) ? undefined : `playwright-core (npm) not found in ${tools}: run ${install}`);

const screenshots = path.join(repoRoot, 'test-results', 'editors', 'vscode');
const CONFIGURATION = 'relay-dap: debug a workflow job';
const FIRST_CONFIGURATION = 'relay-dap: run a command';
const DEBUG_CONFIGURATION = 'relay-dap: a command to !debug from';
const CONSOLE_COMMAND = '!echo hello-from-console';
/** Generous: code-server's first start compiles and loads a lot on a loaded 2-core machine. */
const UI_TIMEOUT_MS = 90_000;

/**
 * The workflow the shipped configuration debugs (`.github/workflows/ci.yml`, job `test`): the
 * editors' job (its env with the job marker, its four steps) as a real workflow's job.
 */
function workflow(marker: string): string {
  const job = editorJob(marker).split('\n').slice(1); // Without the job file's `name:`.
  return [
    'name: CI',
    'on: push',
    'jobs:',
    '  test:',
    '    runs-on: ubuntu-latest',
    ...job.map((line) => (line ? `    ${line}` : line)),
  ].join('\n');
}
/** The job's lines sit 4 lines lower in the workflow: the `run:` of Greet and of Check. */
const GREET_LINE = 6 + 4;
const CHECK_LINE = BREAKPOINT_LINE + 4;

/** The few playwright-core calls this test makes (it is loaded from RELAY_DAP_VSCODE_TOOLS, untyped). */
interface Locator {
  waitFor(options?: { state?: 'visible' | 'hidden' | 'attached'; timeout?: number }): Promise<void>;
  fill(text: string): Promise<void>;
  click(options?: { position: { x: number; y: number } }): Promise<void>;
  first(): Locator;
  innerText(): Promise<string>;
  allInnerTexts(): Promise<string[]>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
  screenshot(options: { path: string }): Promise<unknown>;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> };
}

let work: string;
let vsix: string;
beforeAll(() => {
  if (missing) return;
  work = tempDir('relay-dap-vscode-');
  vsix = packageVsix(work);
  fs.rmSync(screenshots, { recursive: true, force: true });
  fs.mkdirSync(screenshots, { recursive: true });
}, 360_000);
afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

let ws: EditorWorkspace;
let server: ChildProcessByStdio<null, Readable, Readable> | undefined;
let browser: Browser | undefined;
beforeEach(() => {
  ws = editorWorkspace();
});
afterEach(async () => {
  await browser?.close();
  server?.kill('SIGKILL');
  ws.cleanup();
});

/** code-server on a free port with the extension installed from the .vsix, serving `ws.dir`. */
async function startCodeServer(): Promise<{ url: string; extensions: string; log: () => string }> {
  const root = path.dirname(ws.dir);
  const extensions = path.join(root, 'extensions');
  const userData = path.join(root, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  // No welcome page over the editor; nothing else is changed from a new user's settings.
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), '{ "workbench.startupEditor": "none" }\n');
  const dirs = ['--extensions-dir', extensions, '--user-data-dir', userData];
  const installed = spawnSync(codeServer, [...dirs, '--install-extension', vsix], {
    env: ws.env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(installed.status, `${installed.stdout}\n${installed.stderr}`).toBe(0);
  expect(installed.stdout).toContain('was successfully installed');
  const port = await freePort();
  server = spawn(
    codeServer,
    [
      ...dirs,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      ws.dir,
    ],
    { cwd: ws.dir, env: ws.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  server.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  await waitUntil(
    () => {
      if (server!.exitCode !== null) throw new Error(`code-server exited early:\n${log}`);
      return log.includes('HTTP server listening');
    },
    'code-server to listen',
    UI_TIMEOUT_MS,
  );
  return {
    url: `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws.dir)}`,
    extensions,
    log: () => log,
  };
}

/**
 * The adapters VS Code started that still run: they (and their embedded relay's helpers) run from
 * the installed extension's folder, not from anything on PATH.
 */
function installedAdapters(extensions: string): number[] {
  const installedExtension = path.join(extensions, 'relay-dap.relay-dap-');
  return processesWithMarker(ws.editorMarker).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(installedExtension);
    } catch {
      return false;
    }
  });
}

/** Runs `steps`; a failure comes with a screenshot and the end of code-server's log. */
async function showingFailures(
  ui: ReturnType<typeof workbench>,
  log: () => string,
  steps: () => Promise<void>,
): Promise<void> {
  try {
    await steps();
  } catch (error) {
    await ui.screenshot('failure').catch(() => undefined);
    throw new Error(`${String(error)}\ncode-server's log:\n${log().slice(-3000)}`, { cause: error });
  }
}

/** After Stop, with code-server still running as a user's editor stays open: nothing of the job left. */
async function nothingLeft(adapters: () => number[]): Promise<void> {
  await waitUntil(() => adapters().length === 0, 'the adapters to exit after Stop', 30_000);
  await waitUntil(() => ws.jobProcesses().length === 0, 'the job’s processes to end', 30_000);
  expect(ws.relayDirs()).toEqual([]);
}

/** Chromium on a fresh page, and the workbench as the user meets it there. */
async function openBrowser(): Promise<{ page: Page; ui: ReturnType<typeof workbench> }> {
  const playwright = createRequire(path.join(tools, 'node_modules', 'x.js'))('playwright-core') as Playwright;
  // Root needs --no-sandbox; it is a throwaway browser on a local page.
  browser = await playwright.chromium.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  return { page, ui: workbench(page) };
}

/** What the user does and sees in the workbench. */
function workbench(page: Page) {
  const quickInput = page.locator('.quick-input-box input');
  const visible = { state: 'visible' as const, timeout: UI_TIMEOUT_MS };
  let shots = 0;
  return {
    /** F1, until the workbench is ready to take it. */
    async openQuickInput(): Promise<void> {
      for (let attempt = 0; attempt < 60; attempt++) {
        await page.keyboard.press('F1');
        try {
          await quickInput.waitFor({ state: 'visible', timeout: 2_000 });
          return;
        } catch {
          // The workbench is still loading.
        }
      }
      throw new Error('the command palette never opened');
    },
    /** Types `text` into the quick input and takes the row that shows `row`. */
    async quickPick(text: string, row: string, { closes = true } = {}): Promise<void> {
      await this.openQuickInput();
      await quickInput.fill(text);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor(visible);
      await page.keyboard.press('Enter');
      if (closes) await quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
    },
    command(title: string, closes = true): Promise<void> {
      return this.quickPick(`>${title}`, title, { closes });
    },
    async goToLine(line: number): Promise<void> {
      await this.openQuickInput();
      await quickInput.fill(`:${line}`);
      await page.keyboard.press('Enter');
      await quickInput.waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
    },
    /** Opens `file` of the workspace, waits until its editor shows `shows`, and toggles a breakpoint on each of `lines`. */
    async openWithBreakpoints(file: string, shows: string, lines: readonly number[]): Promise<void> {
      await this.quickPick(file, file);
      await page.locator('.monaco-editor .view-lines', { hasText: shows }).first().waitFor();
      for (const line of lines) {
        await this.goToLine(line);
        await this.command('Debug: Toggle Breakpoint');
      }
    },
    /** Types `text` into the Debug Console's input and sends it (Enter). */
    async typeInConsole(text: string): Promise<void> {
      await page.locator('.repl-input-wrapper .monaco-editor').click();
      await page.keyboard.type(text);
      await page.keyboard.press('Enter');
    },
    /** "Debug: Select and Start Debugging", then `configuration` from .vscode/launch.json. */
    async startDebugging(configuration: string): Promise<void> {
      await this.command('Debug: Select and Start Debugging', false);
      // Its picker lists the configurations of .vscode/launch.json (the text field holds the
      // picker's own `debug ` prefix).
      await page.locator('.quick-input-list .monaco-list-row', { hasText: configuration }).first().click();
    },
    /** Stop in the debug toolbar, until the toolbar is gone. */
    async stop(): Promise<void> {
      await this.toolbar('Stop');
      await page.locator('.debug-toolbar').waitFor({ state: 'hidden', timeout: UI_TIMEOUT_MS });
    },
    /** The debug toolbar's button whose label starts with `label` ("Continue", "Step Over", "Stop"). */
    async toolbar(label: string): Promise<void> {
      await page.locator(`.debug-toolbar .action-label[aria-label^="${label}"]`).first().click();
    },
    /** Waits for a row of the Call Stack that shows `text`. */
    async callStackShows(text: string | RegExp): Promise<void> {
      await page.locator('.debug-call-stack .monaco-list-row', { hasText: text }).first().waitFor(visible);
    },
    /** Waits, for each of `texts` in turn, for a line of the Debug Console's output (not its input) that reads it. */
    async consoleShows(...texts: string[]): Promise<void> {
      for (const text of texts)
        await page.locator('.repl .monaco-list-row .output', { hasText: text }).first().waitFor(visible);
    },
    consoleText(): Promise<string[]> {
      return page.locator('.repl .monaco-list-rows .monaco-list-row').allInnerTexts();
    },
    async screenshot(name: string): Promise<void> {
      shots += 1;
      await page.screenshot({
        path: path.join(screenshots, `${String(shots).padStart(2, '0')}-${name}.png`),
      });
    },
  };
}

editorSuite(
  'VS Code (code-server + chromium) with the .vsix and launch-configs/vscode-launch.json',
  missing,
  () => {
    it('workflow job: breakpoint, !echo, Step Over, breakpoint, failed step, Stop, each step’s output live in the open console; then `run a command` paused on entry; nothing left', async () => {
      fs.mkdirSync(path.join(ws.dir, '.vscode'));
      fs.copyFileSync(
        path.join(launchConfigs, 'vscode-launch.json'),
        path.join(ws.dir, '.vscode', 'launch.json'),
      );
      fs.mkdirSync(path.join(ws.dir, '.github', 'workflows'), { recursive: true });
      fs.writeFileSync(path.join(ws.dir, '.github', 'workflows', 'ci.yml'), workflow(ws.jobMarker));
      const codeServerRun = await startCodeServer();
      const adapters = () => installedAdapters(codeServerRun.extensions);
      const { page, ui } = await openBrowser();
      await showingFailures(ui, codeServerRun.log, async () => {
        await page.goto(codeServerRun.url);
        await ui.openWithBreakpoints('ci.yml', 'Greet', [GREET_LINE, CHECK_LINE]);
        // The console is open from the start: what a user watches while the job runs.
        await ui.command('Debug: Focus on Debug Console View');
        await ui.screenshot('workflow-with-breakpoints');

        await ui.startDebugging(CONFIGURATION);
        // The shipped configuration does not stop on entry: the first pause is the breakpoint
        // on the first step, before it runs.
        await ui.callStackShows('next: Greet');
        await ui.screenshot('paused-before-greet');

        await ui.typeInConsole(CONSOLE_COMMAND);
        await ui.consoleShows('hello-from-console');
        await ui.screenshot('console-echo');

        await ui.toolbar('Step Over');
        await ui.callStackShows('next: Build');
        // Paused after Greet: its output and its result line are in the console now.
        await ui.consoleShows('greet-ran', '✓ Greet: exit 0');
        await ui.screenshot('next-paused-before-build');

        await ui.toolbar('Continue');
        await ui.callStackShows('next: Check');
        await ui.consoleShows('build-ran', '✓ Build: exit 0');
        await ui.screenshot('breakpoint-before-check');

        await ui.toolbar('Continue');
        await page
          .locator('.exception-widget', { hasText: 'exit 3' })
          .first()
          .waitFor({ timeout: UI_TIMEOUT_MS });
        await ui.callStackShows(/Check: failed, exit 3/);
        await ui.consoleShows('check-ran', '✗ Check: ');
        await ui.screenshot('failed-step-exception');
        const shown = (await ui.consoleText()).join('\n');
        expect(shown).not.toContain('never-ran');

        // What Stop must end: the adapter from the installed extension, its embedded relay.
        expect(adapters().length).toBeGreaterThan(0);
        expect(ws.relayDirs().length).toBeGreaterThan(0);
        await ui.stop();
        await nothingLeft(adapters);
        await ui.screenshot('stopped');

        // The first configuration a user meets (one command, stopOnEntry): paused on entry with
        // the command as the step about to run, then Stop before it runs.
        await ui.startDebugging(FIRST_CONFIGURATION);
        await ui.callStackShows('next: command');
        await ui.screenshot('run-a-command-paused-on-entry');
        await ui.stop();
        await nothingLeft(adapters);
      });
    }, 400_000);

    it.each([
      ['the extension’s adapter', false],
      ['relay-dap --server on a port (`debugServer`: the child is opened on the same server)', true],
    ])(
      '!debug python3 add.py in the Debug Console, through %s: VS Code opens the child session, stops at the breakpoint set in add.py with its locals; Continue to the end, and the job’s console answers exit 7; nothing left',
      async (_, viaServer) => {
        const port = await freePort();
        // Started by the user, as `npm start` does; the workspace's cleanup ends it if the test fails.
        const server = viaServer ? await listeningAdapter(ws, port) : undefined;
        const debugServer = viaServer ? port : undefined;
        fs.writeFileSync(path.join(ws.dir, 'add.py'), SCRIPT);
        fs.mkdirSync(path.join(ws.dir, '.vscode'));
        fs.writeFileSync(
          path.join(ws.dir, '.vscode', 'launch.json'),
          JSON.stringify({
            version: '0.2.0',
            configurations: [
              {
                type: 'relay',
                request: 'launch',
                name: DEBUG_CONFIGURATION,
                command: `echo ${ws.jobMarker}`,
                cwd: '${workspaceFolder}',
                env: { [ws.jobMarker]: '1' },
                stopOnEntry: true,
                ...(debugServer !== undefined && { debugServer }),
              },
            ],
          }),
        );
        const codeServerRun = await startCodeServer();
        const adapters = () => installedAdapters(codeServerRun.extensions);
        const { page, ui } = await openBrowser();
        await showingFailures(ui, codeServerRun.log, async () => {
          await page.goto(codeServerRun.url);
          await ui.openWithBreakpoints('add.py', 'def add', [LINE_TOTAL]);
          await ui.command('Debug: Focus on Debug Console View');
          await ui.startDebugging(DEBUG_CONFIGURATION);
          await ui.callStackShows('next: command');
          await ui.screenshot('debug-paused-on-entry');

          await ui.typeInConsole(`!debug ${pythonWithDebugpy()} add.py`);
          // The child session VS Code opened stops at the breakpoint; the job stays paused and in
          // focus, so the user opens the child in the Call Stack and picks its top frame: add(),
          // in add.py at the breakpoint's line, with its arguments in the Variables view.
          const visible = { state: 'visible' as const, timeout: UI_TIMEOUT_MS };
          const childRow = page
            .locator('.debug-call-stack .monaco-list-row', { hasText: '!debug add.py' })
            .first();
          await childRow.waitFor(visible);
          await page
            .locator('.debug-call-stack .monaco-list-row', { hasText: /paused on breakpoint/i })
            .first()
            .waitFor(visible);
          // On its name at the left: the row's middle holds its Continue button while hovered.
          await childRow.click({ position: { x: 30, y: 8 } });
          const topFrame = page
            .locator('.debug-call-stack .monaco-list-row', {
              hasText: new RegExp(`add\\s*add\\.py\\s*${LINE_TOTAL}:`),
            })
            .first();
          await topFrame.waitFor(visible);
          await topFrame.click({ position: { x: 30, y: 8 } });
          await page
            .locator('.debug-variables .monaco-list-row', { hasText: /^a\s*[=:]\s*2$/ })
            .first()
            .waitFor(visible);
          await page
            .locator('.debug-variables .monaco-list-row', { hasText: /^b\s*[=:]\s*40$/ })
            .first()
            .waitFor(visible);
          await ui.screenshot('debug-child-at-breakpoint');
          // Through the server, VS Code started no adapter of the extension's, for the job or the child.
          if (viaServer) expect(adapters()).toEqual([]);

          // To the program's end: VS Code (1.96) keeps the exception filters of the initialize
          // response, which the adapter answered before it knew the session was a child (relay-dap's
          // own, which debugpy does not know), so `raise SystemExit(7)` does not stop here as it
          // does in nvim-dap, which takes debugpy's from the `capabilities` event.
          await ui.toolbar('Continue');
          // The child is gone; the job's session, still paused on entry, answers `!debug`.
          await ui.callStackShows('next: command');
          // The answer to `!debug` (an evaluate result, not output).
          await page
            .locator('.repl .monaco-list-row', { hasText: /^exit 7$/ })
            .first()
            .waitFor(visible);
          await ui.screenshot('debug-console-exit-7');

          await ui.stop();
          await nothingLeft(adapters);
          // A server the user started goes on.
          if (server) expect(server.exitCode).toBe(null);
        });
        server?.kill('SIGTERM');
      },
      400_000,
    );
  },
);
