/**
 * The reliability report: every test in test/reliability/ records one row (what was tried,
 * the figure measured, whether it held), and this collects them into docs/reliability.md
 * when the run ends. `npm run test:reliability` runs it; the document is not typed by hand.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { it, onTestFinished } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const resultsDir = path.join(root, 'test', 'reliability', '.results');
const reportPath = path.join(root, 'docs', 'reliability.md');

export type Area = 'fault' | 'load' | 'hostile input';

export interface Row {
  area: Area;
  scenario: string;
  /** What was measured (a time, a count, memory), filled in by the test. */
  figure: string;
  result?: 'held' | 'FAILED';
}

/** A row for the current test; its result is set from the test's outcome when it finishes. */
export function reliabilityRow(area: Area, scenario: string): Row {
  const row: Row = { area, scenario, figure: '—' };
  onTestFinished(({ task }) => {
    row.result = task.result?.state === 'pass' ? 'held' : 'FAILED';
    fs.mkdirSync(resultsDir, { recursive: true });
    fs.appendFileSync(path.join(resultsDir, `${process.pid}.jsonl`), JSON.stringify(row) + '\n');
  });
  return row;
}

/**
 * A row's test that needs something of the machine (another user, root without
 * CAP_DAC_OVERRIDE…): where `probe` found it missing, the test is skipped with the probe's
 * reason, so the report says why instead of passing silently; otherwise `body` runs with the
 * test's row and what the probe found.
 */
export function itNeeds<P extends { ok: true } | { ok: false; reason: string }>(
  probe: P,
  name: string,
  area: Area,
  scenario: string,
  body: (row: Row, found: Extract<P, { ok: true }>) => Promise<void>,
  timeout?: number,
): void {
  it(
    name,
    async ({ skip }) => {
      if (!probe.ok) return skip((probe as { reason: string }).reason);
      await body(reliabilityRow(area, scenario), probe as Extract<P, { ok: true }>);
    },
    timeout,
  );
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

// globalSetup: start with no rows; at the end, write the table.
export function setup(): void {
  fs.rmSync(resultsDir, { recursive: true, force: true });
}

export function teardown(): void {
  const rows: Row[] = [];
  for (const file of fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir) : []) {
    for (const line of fs.readFileSync(path.join(resultsDir, file), 'utf8').split('\n')) {
      if (line.trim() !== '') rows.push(JSON.parse(line) as Row);
    }
  }
  const order: Area[] = ['fault', 'load', 'hostile input'];
  rows.sort((a, b) => order.indexOf(a.area) - order.indexOf(b.area) || a.scenario.localeCompare(b.scenario));
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const failed = rows.filter((row) => row.result !== 'held').length;
  const text = [
    '# Reliability',
    '',
    'Faults, load and hostile input tried against relay-dap, each by an automated test with real',
    'processes (`test/reliability/`). This file is written by `npm run test:reliability`; do not',
    'edit it by hand. CI runs the same suite.',
    '',
    `Last run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}: ` +
      `${rows.length - failed} of ${rows.length} held.`,
    '',
    '| area | what was tried | figure measured | result |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) => `| ${row.area} | ${cell(row.scenario)} | ${cell(row.figure)} | ${row.result ?? 'FAILED'} |`,
    ),
    '',
  ].join('\n');
  fs.mkdirSync(path.dirname(reportPath), { recursive: true });
  fs.writeFileSync(reportPath, text);
  fs.rmSync(resultsDir, { recursive: true, force: true });
}
