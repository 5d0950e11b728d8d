#!/usr/bin/env node
// Writes the VS Code debugger contribution of package.json from the one launch/attach schema
// (src/dap/launchSchema.ts, built to dist/), so the editor's configurationAttributes never
// drift from what the adapter validates. `--check` only compares (a test runs it that way).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { debuggerContribution } from './manifestContribution.mjs';

const packagePath = fileURLToPath(new URL('../package.json', import.meta.url));
const manifest = JSON.parse(fs.readFileSync(packagePath, 'utf8'));
// Breakpoints can only be set in languages a debugger declares: job files and workflows are YAML,
// and `!debug` debugs Python (without the Python extension, VS Code would refuse them in .py files).
const wanted = {
  ...manifest.contributes,
  breakpoints: [{ language: 'yaml' }, { language: 'github-actions-workflow' }, { language: 'python' }],
  debuggers: [await debuggerContribution()],
};
const same = JSON.stringify(manifest.contributes ?? null) === JSON.stringify(wanted);
if (process.argv.includes('--check')) {
  if (!same) {
    process.stderr.write(
      'package.json contributes is out of date with src/dap/launchSchema.ts: run `npm run sync-manifest`\n',
    );
    process.exit(1);
  }
} else if (!same) {
  manifest.contributes = wanted;
  fs.writeFileSync(packagePath, JSON.stringify(manifest, null, 2) + '\n');
  process.stderr.write('package.json: contributes.debuggers updated\n');
}
