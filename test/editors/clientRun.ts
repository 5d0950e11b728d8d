/**
 * Runs one editor through the scenario and hands back what its driver saw, after checking —
 * while the editor still runs, as a user's would — that Stop left no adapter or job process.
 * The driver writes its result to `resultFile`, then waits for `resultFile.ack` before exiting.
 * Every driver gets the scenario in its environment: RELAY_TEST_JOB, RELAY_TEST_LINE (the
 * breakpoint) and RELAY_TEST_CONSOLE (the console command's text).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { waitUntil } from '../support/relayHarness.js';
import { BREAKPOINT_LINE, CONSOLE_TEXT, type EditorWorkspace } from './editorHarness.js';

export interface DriverResult {
  events: [string, string | number | null][];
  problems: string[];
  output: string;
  [key: string]: unknown;
}

const EDITOR_TIMEOUT_MS = 120_000;

export async function runEditor(
  ws: EditorWorkspace,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  /** An adapter this test started itself, which may outlive the editor. */
  keepAdapter?: number,
): Promise<DriverResult> {
  const resultFile = path.join(ws.dir, '..', 'result.json');
  const editor = spawn(command, args, {
    cwd: ws.dir,
    env: {
      ...ws.env,
      RELAY_TEST_JOB: ws.jobFile,
      RELAY_TEST_LINE: String(BREAKPOINT_LINE),
      RELAY_TEST_CONSOLE: CONSOLE_TEXT,
      ...env,
      RELAY_TEST_RESULT: resultFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  editor.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  editor.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => editor.once('exit', (code) => resolve(code)));
  try {
    await waitUntil(
      () => {
        if (editor.exitCode !== null) throw new Error(`${command} exited early:\n${log.slice(-3000)}`);
        return fs.existsSync(resultFile);
      },
      `${command} to finish the scenario`,
      EDITOR_TIMEOUT_MS,
    );
    await waitUntil(() => {
      try {
        JSON.parse(fs.readFileSync(resultFile, 'utf8'));
        return true;
      } catch {
        return false;
      }
    }, 'the driver’s result');
    const result = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as DriverResult;
    expect(result.problems, `${command}'s log:\n${log.slice(-3000)}`).toEqual([]);
    // After Stop, with the editor still open: no adapter (but a fixed-port one the test runs),
    // no step, no embedded relay directory.
    await waitUntil(
      () => ws.adapters().filter((pid) => pid !== keepAdapter).length === 0,
      'the adapter to exit after Stop',
      30_000,
    );
    await waitUntil(() => ws.jobProcesses().length === 0, 'the job’s processes to end', 30_000);
    expect(ws.relayDirs()).toEqual([]);
    fs.writeFileSync(`${resultFile}.ack`, '');
    const timeout = new Promise<string>((resolve) =>
      setTimeout(() => resolve(`${command} did not exit after the scenario`), 30_000).unref(),
    );
    expect(await Promise.race([exited, timeout])).toBe(0);
    return result;
  } finally {
    if (editor.exitCode === null) editor.kill('SIGKILL');
  }
}

/** The scenario, as the client saw it: the pauses in order, then the end. */
export function expectScenario(result: DriverResult): void {
  const stops = result.events.filter(([event]) => event === 'stopped').map(([, reason]) => reason);
  expect(stops).toEqual(['entry', 'step', 'breakpoint', 'exception']);
  expect(result.output).toContain('console-says-hi\n');
  expect(result.output).toContain('greet-ran\n');
  expect(result.output).toContain('check-ran\n');
  expect(result.output).not.toContain('never-ran');
}
