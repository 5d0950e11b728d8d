#!/usr/bin/env node
// `npm run bench`: the speed and memory figures of relay-dap, each measured against a
// baseline in the same run on the same machine, printed as a table and written to
// bench/results/latest.json. `npm run bench -- --write-readme` also replaces the table in
// README.md between the bench markers. Scenarios live in bench/*.mjs, one file per layer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { relayScenarios } from './relayScenarios.mjs';
import { adapterScenarios } from './adapterScenarios.mjs';
import { startupScenarios } from './startupScenarios.mjs';
import { workflowScenarios } from './workflowScenarios.mjs';
import { pythonChildScenarios } from './pythonChildScenarios.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

function table(rows) {
  const header = ['measurement', 'relay-dap', 'baseline', 'ratio', 'target', 'met'];
  const lines = rows.map((r) => [
    r.name,
    r.value,
    r.baseline ?? '—',
    r.ratio ?? '—',
    r.target,
    r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const fmt = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [fmt(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...lines.map(fmt)].join('\n');
}

const scenarios = [
  ...relayScenarios,
  ...adapterScenarios,
  ...pythonChildScenarios,
  ...workflowScenarios,
  ...startupScenarios,
].filter((s) => !only || s.id.includes(only));
const results = [];
for (const scenario of scenarios) {
  process.stderr.write(`bench: ${scenario.id} …\n`);
  const rows = await scenario.run();
  for (const row of rows) results.push({ scenario: scenario.id, ...row });
}

const report = { date: new Date().toISOString(), machine: machine(), results };
fs.mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
fs.writeFileSync(path.join(root, 'bench', 'results', 'latest.json'), JSON.stringify(report, null, 2) + '\n');
const markdown = `Measured ${report.date.slice(0, 10)} on ${report.machine}.\n\n${table(results)}\n`;
process.stdout.write(`\n${markdown}\n`);

if (process.argv.includes('--write-readme')) {
  const readme = path.join(root, 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (!text.includes(start) || !text.includes(end))
    throw new Error(`README.md has no ${start} … ${end} section`);
  const updated = text.replace(new RegExp(`${start}[\\s\\S]*${end}`), `${start}\n${markdown}${end}`);
  fs.writeFileSync(readme, updated);
  process.stderr.write('bench: README.md updated\n');
}
if (results.some((r) => !r.met)) process.stderr.write('bench: some targets were not met (see "met")\n');
