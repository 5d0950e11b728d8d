#!/usr/bin/env node
// `npm run build`, second half: the one file that users run. esbuild bundles src/cli/main.ts
// with its dependencies into dist/relay-dap.cjs, which `bin` (npm install -g, npx) and the
// VS Code extension (contributes.debuggers[].program) both point at, so it needs no
// node_modules beside it.
//
// CommonJS, not ESM: desktop VS Code starts a `runtime: node` adapter by forking its own
// Electron with `-e "…;require(process.argv[1])"`, and its Node cannot require() an ES module.
// The embedded relay's watchdog runs dist/embeddedReaper.js as a process of its own: that one
// is an ES module (the package is "type": "module"), because it awaits at top level.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  // The oldest Node that runs it: the package's engines.node, and the Electron of
  // engines.vscode (VS Code 1.90: Node 20.9).
  target: 'node20',
  // No source maps: the sources are not in the package, and a map pointing at them would
  // only mislead. Not minified: a stack trace in a bug report stays readable (start-up
  // measured both ways, in bench/startupScenarios.mjs's notes).
  sourcemap: false,
  minify: false,
  legalComments: 'inline',
  logLevel: 'warning',
  metafile: true,
};

const main = await esbuild.build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: path.join(dist, 'relay-dap.cjs'),
  format: 'cjs',
  // `import.meta.url` has no CommonJS equivalent: the bundle's own file URL stands in, so
  // that `new URL('./embeddedReaper.js', import.meta.url)` finds the reaper beside it.
  define: { 'import.meta.url': 'bundleUrl', RELAY_DAP_VERSION: JSON.stringify(version) },
  inject: ['scripts/bundleUrl.mjs'],
});

const reaper = await esbuild.build({
  ...common,
  entryPoints: ['src/relay/embeddedReaper.ts'],
  outfile: path.join(dist, 'embeddedReaper.js'),
  format: 'esm',
  // tree-kill, a CommonJS module inside this ES module, requires node:child_process: give it
  // a require (only Node's own modules are left to it; everything else is bundled).
  banner: {
    js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  },
});

// The bundle carries other people's code: their licences go with it.
const packages = new Set();
for (const { metafile } of [main, reaper])
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
const notices = [...packages].sort().map((dir) => {
  const {
    name,
    version: packageVersion,
    license,
  } = JSON.parse(fs.readFileSync(path.join(root, dir, 'package.json'), 'utf8'));
  const licenseFile = fs.readdirSync(path.join(root, dir)).find((file) => /^licen[sc]e/i.test(file));
  if (!licenseFile) throw new Error(`${name}: no licence file to ship with the bundle`);
  const text = fs.readFileSync(path.join(root, dir, licenseFile), 'utf8').trim();
  return `${name} ${packageVersion} (${license})\n\n${text}\n`;
});
fs.writeFileSync(
  path.join(dist, 'THIRD-PARTY-NOTICES.txt'),
  `dist/relay-dap.cjs and dist/embeddedReaper.js include these packages.\n\n${notices.join('\n' + '-'.repeat(72) + '\n\n')}`,
);

// A symlink to it on PATH (npm link, ~/bin/relay-dap) must be executable.
fs.chmodSync(path.join(dist, 'relay-dap.cjs'), 0o755);
