/**
 * A command run in a real pseudo-terminal (test/support/ptyDriver.py), as a terminal emulator
 * runs it: keys typed as bytes, the terminal's output read back, a resize made as an emulator
 * makes it (TIOCSWINSZ on the terminal, SIGWINCH to the command), and the exit code.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DapClient } from './dapClient.js';
import { repoRoot, waitUntil, type Spawned } from './relayHarness.js';

const driver = path.join(repoRoot, 'test', 'support', 'ptyDriver.py');

export interface Terminal extends Spawned {
  type(keys: string): void;
  /** The terminal's output so far, carriage returns and control sequences removed. */
  screen(): string;
  /** The terminal's output as it came. */
  raw(): string;
  waitFor(pattern: RegExp | string, what: string): Promise<void>;
  resize(rows: number, cols: number): void;
}

/** `argv` in a terminal of rows×cols, with `env`; `scratchDir` holds the resize file. */
export function openPtyTerminal(
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; scratchDir: string; rows?: number; cols?: number },
): Terminal {
  const sizeFile = path.join(
    options.scratchDir,
    `size-${process.pid}-${Math.random().toString(16).slice(2)}`,
  );
  const child = spawn('python3', [driver, String(options.rows ?? 30), String(options.cols ?? 100), ...argv], {
    env: { ...options.env, PTY_SIZE_FILE: sizeFile },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (data: Buffer) => out.push(data));
  child.stderr.on('data', (data: Buffer) => (err += data.toString()));
  const begin = performance.now();
  const finished = new Promise<Spawned['finished'] extends Promise<infer F> ? F : never>((resolve) =>
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - begin }),
    ),
  );
  const raw = (): string => Buffer.concat(out).toString();
  // eslint-disable-next-line no-control-regex
  const screen = (): string => raw().replace(/\r|\x1b\[[0-9;?]*[A-Za-z]/g, '');
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => err,
    finished,
    screen,
    raw,
    type: (keys) => child.stdin.write(keys),
    waitFor: (pattern, what) =>
      waitUntil(
        () => (typeof pattern === 'string' ? screen().includes(pattern) : pattern.test(screen())),
        what,
        30_000,
        () => `screen: ${JSON.stringify(screen())}\nstderr: ${err}`,
      ),
    resize: (newRows, newCols) => {
      fs.writeFileSync(sizeFile, `${newRows} ${newCols}`);
      child.kill('SIGUSR1');
    },
  };
}

/**
 * Answers the adapter's `runInTerminal` as an editor does: runs its command line, with its env
 * over `baseEnv`, in a terminal, and answers with that process's id.
 */
export async function answerRunInTerminal(
  client: DapClient,
  baseEnv: NodeJS.ProcessEnv,
  scratchDir: string,
): Promise<{ request: DebugProtocol.RunInTerminalRequest; terminal: Terminal }> {
  const request = await client.waitForReverseRequest('runInTerminal', undefined, 30_000);
  const { args, env } = request.arguments;
  const terminal = openPtyTerminal(args, {
    env: { ...baseEnv, ...(env as Record<string, string>), SHELL: '/bin/bash', TERM: 'xterm' },
    scratchDir,
  });
  client.respond(request, { shellProcessId: terminal.child.pid });
  return { request, terminal };
}

/** The far shell's pid and its parent's (the pty helper), once it answers at its prompt. */
export async function farShellPids(terminal: Terminal): Promise<[number, number]> {
  await terminal.waitFor(/[#$] $/m, 'the far shell’s prompt');
  terminal.type('echo "PIDS $$ $PPID"\r');
  await terminal.waitFor(/PIDS \d+ \d+\n/, 'the far shell’s pids');
  return /PIDS (\d+) (\d+)\n/.exec(terminal.screen())!.slice(1).map(Number) as [number, number];
}
