/**
 * Real editors as DAP clients (`npm run test:editors`): each test starts a real Neovim, Emacs or
 * Vim with its real debugger plugin and the shipped file from launch-configs/, debugs a job file
 * through `relay-dap` found on PATH (as a user has it after `npm install -g`), and checks what a
 * user sees: the pause on entry, `!echo` in the console with its output, Next, a breakpoint, the
 * failed-step pause, Stop, and that no adapter or job process is left.
 *
 * The scenario is the same for every client; `EDITOR_JOB` is the job, `BREAKPOINT_LINE` the line
 * of its third step, where each client sets a breakpoint before it starts.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe } from 'vitest';
import {
  processesWithMarker,
  relayDapBin,
  repoRoot,
  tempDir,
  uniqueMarker,
  waitUntil,
} from '../support/relayHarness.js';

export const launchConfigs = path.join(repoRoot, 'launch-configs');

/** The text echoed from the debug console, found again in the client's output buffer. */
export const CONSOLE_TEXT = 'console-says-hi';

export function editorJob(jobMarker: string): string {
  return [
    'name: editor check',
    'env:',
    `  ${jobMarker}: "1"`,
    'steps:',
    '  - name: Greet',
    '    run: echo greet-ran',
    '  - name: Build',
    '    run: echo build-ran',
    '  - name: Check',
    '    run: echo check-ran; exit 3',
    '  - name: Never',
    '    run: echo never-ran; sleep 300',
    '',
  ].join('\n');
}

/** 1-based: the `run` line of the step "Check". */
export const BREAKPOINT_LINE = 10;

export interface EditorWorkspace {
  /** The project directory: the job file is `job.yml` in it. */
  dir: string;
  jobFile: string;
  /** In the environment of the editor (and so of every adapter it starts). */
  editorMarker: string;
  /** In the environment of every step of the job. */
  jobMarker: string;
  /** PATH with `relay-dap` first, and HOME, TMPDIR and the marker set. */
  env: NodeJS.ProcessEnv;
  /** Adapter processes this editor started that still run. */
  adapters(): number[];
  /** Processes of the job (its steps, `!` commands) that still run. */
  jobProcesses(): number[];
  /** Embedded relay directories still present. */
  relayDirs(): string[];
  cleanup(): void;
}

export function editorWorkspace(): EditorWorkspace {
  const root = tempDir('relay-dap-editor-');
  const dir = path.join(root, 'project');
  const bin = path.join(root, 'bin');
  const home = path.join(root, 'home');
  const tmp = path.join(root, 'tmp');
  for (const d of [dir, bin, home, tmp]) fs.mkdirSync(d, { recursive: true });
  const editorMarker = uniqueMarker();
  const jobMarker = uniqueMarker();
  const jobFile = path.join(dir, 'job.yml');
  fs.writeFileSync(jobFile, editorJob(jobMarker));
  // `relay-dap` on PATH, as `npm install -g` puts it; exec, so the adapter is this very process.
  fs.writeFileSync(
    path.join(bin, 'relay-dap'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(relayDapBin)} "$@"\n`,
    { mode: 0o755 },
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: home,
    TMPDIR: tmp,
    [editorMarker]: '1',
  };
  delete env.RELAY_DIR;
  const withCmdline = (pid: number, needle: string): boolean => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle);
    } catch {
      return false;
    }
  };
  return {
    dir,
    jobFile,
    editorMarker,
    jobMarker,
    env,
    adapters: () => processesWithMarker(editorMarker).filter((pid) => withCmdline(pid, relayDapBin)),
    jobProcesses: () => processesWithMarker(jobMarker),
    relayDirs: () => fs.readdirSync(tmp).filter((name) => name.startsWith('relay-dap-')),
    cleanup() {
      for (const pid of [...processesWithMarker(editorMarker), ...processesWithMarker(jobMarker)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Call at the top of an editor test file: a fresh workspace before each test, removed after
 * it. Returns a view that always reads the current test's workspace.
 */
export function useEditorWorkspace(): EditorWorkspace {
  let current: EditorWorkspace | undefined;
  beforeEach(() => {
    current = editorWorkspace();
  });
  afterEach(() => current?.cleanup());
  return new Proxy({} as EditorWorkspace, {
    get(_target, key) {
      if (!current) throw new Error('the editor workspace exists only while a test runs');
      const value: unknown = Reflect.get(current, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(current) : value;
    },
  });
}

/** Why a client cannot run here (the missing program or plugin, and how to provide it), or undefined. */
export function missingProgram(program: string, debianPackage: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' });
  return found.status === 0
    ? undefined
    : `${program} is not installed (Debian: apt-get install ${debianPackage})`;
}

/**
 * A Vim/Neovim plugin checkout: `$variable`, else the first `<root>/<pack>/start/<name>` under
 * `packRoots` that holds `probe`. Undefined when none does.
 */
export function findPackPlugin(
  variable: string,
  packRoots: string[],
  name: string,
  probe: string,
): string | undefined {
  const given = process.env[variable];
  const candidates = given
    ? [given]
    : packRoots.flatMap((root) =>
        fs.existsSync(root) ? fs.readdirSync(root).map((pack) => path.join(root, pack, 'start', name)) : [],
      );
  return candidates.find((dir) => fs.existsSync(path.join(dir, probe)));
}

/**
 * Why a plugin `findPackPlugin` did not find is missing and how to provide it (a checkout named
 * by `$variable`, or a package under `packDir`), or undefined when `found`.
 */
export function missingPlugin(
  found: string | undefined,
  name: string,
  variable: string,
  checkout: string,
  packDir: string,
): string | undefined {
  return found
    ? undefined
    : `${name} not found: set ${variable}=/path/to/${name} (a checkout of ${checkout}) or install it under ${packDir}/*/start/${name}`;
}

/**
 * An editor's suite, `title`, skipped when `missing` names what this machine lacks (and then its
 * name says so: see skipNote).
 */
export function editorSuite(title: string, missing: string | undefined, body: () => void): void {
  describe.skipIf(missing !== undefined)(`${title}${skipNote(missing)}`, body);
}

/** What a suite's name says when it cannot run here: ` (skipped: <why>)`, or nothing. */
export function skipNote(missing: string | undefined): string {
  return missing ? ` (skipped: ${missing})` : '';
}

/** `relay-dap --server=PORT` as a user starts it by hand for a fixed-port configuration, once it listens. */
export async function listeningAdapter(
  ws: EditorWorkspace,
  port: number,
): Promise<ChildProcessByStdio<null, Readable, Readable>> {
  const adapter = spawn(process.execPath, [relayDapBin, `--server=${port}`], {
    cwd: ws.dir,
    env: ws.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  adapter.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await waitUntil(() => out.includes(`:${port}`), 'the adapter to listen', 30_000);
  return adapter;
}
