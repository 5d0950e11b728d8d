#!/usr/bin/env node
// `npm run build`, second half: what users run, with its dependencies bundled in (esbuild),
// so that it needs no node_modules beside it. `bin` (npm install -g, npx) and the VS Code
// extension (contributes.debuggers[].program) both point at dist/relay-dap.cjs:
//
//   dist/relay-dap.cjs       the launcher (src/cli/launcher.cjs): runs main.cjs through a
//                            per-user V8 code cache, because compiling the bundle was most of
//                            a short command's start-up
//   dist/main.cjs            src/cli/main.ts and everything it imports: the command line and
//                            the relay subcommands
//   dist/adapter.cjs         src/cli/adapterCommand.ts: the debug adapter, loaded by main.cjs
//                            only when it is one
//   dist/job.cjs             src/job/jobOpening.ts: building and opening a job (workflows,
//                            expressions, actions, the relay client), loaded at the first launch
//   dist/yaml.cjs, ajv.cjs   two packages that the adapter needs only from its first launch
//   dist/embeddedReaper.js   the embedded relay's watchdog, a process of its own
//   dist/channelReaper.js    a relay server's channel watchdog (Part D), a process of its own
//
// CommonJS, not ESM: desktop VS Code starts a `runtime: node` adapter by forking its own
// Electron with `-e "…;require(process.argv[1])"`, and its Node cannot require() an ES module.
// The reaper is an ES module (the package is "type": "module"): it awaits at top level.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/**
 * Node modules that cost start-up to load (child_process alone loads 34 internal modules)
 * and that a short command often does not use: each becomes an object whose properties load
 * the real module on first use, instead of a require() when the importing module starts.
 * Only modules whose exports are read, never assigned to.
 */
const LAZY_BUILTINS = [
  'child_process',
  'crypto',
  'net',
  'os',
  'readline',
  'fs/promises',
  'timers/promises',
  'string_decoder',
  'stream',
];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(build) {
    const names = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    build.onResolve({ filter: names }, (args) =>
      // The stand-in's own require() is of the real module.
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => {
      const exported = Object.keys(createRequire(import.meta.url)(`node:${args.path}`));
      const properties = exported.map(
        (key) => `${JSON.stringify(key)}: { enumerable: true, get: () => load()[${JSON.stringify(key)}] }`,
      );
      return {
        loader: 'js',
        contents: `let real;
const load = () => (real ??= require(${JSON.stringify(`node:${args.path}`)}));
module.exports = Object.defineProperties({}, {\n${properties.join(',\n')}\n});\n`,
      };
    });
  },
};

/**
 * The other Node modules that the sources import (`import fs from 'node:fs'`): each importing
 * module would otherwise get its own copy of the module's every export (esbuild's CommonJS
 * interop, __toESM: node:fs is imported by 22 modules). One small ES module per built-in
 * instead, which all of them share. Its data properties are its named exports; accessors
 * (fs.promises, which loads node:fs/promises) stay behind the default export, read on use.
 * require() calls (in bundled packages) keep the real module.
 */
const sharedBuiltins = {
  name: 'shared-builtins',
  setup(build) {
    const names = new RegExp(`^node:(fs|path|url|events)$`);
    build.onResolve({ filter: names }, (args) =>
      args.namespace === 'shared-builtin' || args.kind !== 'import-statement'
        ? undefined
        : { path: args.path, namespace: 'shared-builtin' },
    );
    build.onLoad({ filter: /.*/, namespace: 'shared-builtin' }, (args) => {
      const real = createRequire(import.meta.url)(args.path);
      const data = Object.entries(Object.getOwnPropertyDescriptors(real))
        .filter(
          ([key, descriptor]) => 'value' in descriptor && /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default',
        )
        .map(([key]) => key);
      return {
        loader: 'js',
        contents: `const real = require(${JSON.stringify(args.path)});
export default real;
export const { ${data.join(', ')} } = real;\n`,
      };
    });
  },
};

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  // The oldest Node that runs it: the package's engines.node, and the Electron of
  // engines.vscode (VS Code 1.90: Node 20.9).
  target: 'node20',
  // No source maps: the sources are not in the package, and a map pointing at them would
  // only mislead. Not minified: a stack trace in a bug report stays readable, and with the
  // code cache minifying gained under 2% of start-up (bench/startupScenarios.mjs).
  sourcemap: false,
  minify: false,
  legalComments: 'inline',
  logLevel: 'warning',
  metafile: true,
};

/** `import.meta.url` has no CommonJS equivalent: the file's own URL stands in (bundleUrl.mjs). */
const commonJs = {
  ...common,
  format: 'cjs',
  define: { 'import.meta.url': 'bundleUrl', RELAY_DAP_VERSION: JSON.stringify(version) },
  inject: ['scripts/bundleUrl.mjs'],
  // An import() left in a bundle (main.cjs's of adapter.cjs) becomes a require(): the
  // launcher runs bundles as scripts, which have no dynamic import, and serves require().
  supported: { 'dynamic-import': false },
};

/** An esbuild plugin: `import(specifier)` stays a require() of `file`, a bundle of its own. */
function bundledApart(specifier, file) {
  const filter = new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
  return {
    name: `apart:${file}`,
    setup(build) {
      build.onResolve({ filter }, (args) =>
        args.kind === 'dynamic-import' ? { path: file, external: true } : undefined,
      );
    },
  };
}

/**
 * main.ts's `import('./adapterCommand.js')` stays a require() of the adapter's own bundle, so
 * that a relay subcommand, --help or --version neither reads nor compiles the DAP stack (with
 * ajv, yaml and @vscode/debugadapter, most of the code). The launcher loads that bundle through
 * the same code cache.
 */
const adapterApart = bundledApart('./adapterCommand.js', './adapter.cjs');

const main = await esbuild.build({
  ...commonJs,
  entryPoints: ['src/cli/main.ts'],
  outfile: path.join(dist, 'main.cjs'),
  plugins: [lazyBuiltins, sharedBuiltins, adapterApart],
});

/**
 * yaml and ajv are needed only from the first launch (job files, workflows, the launch
 * arguments' schema): each is a bundle of its own, which the adapter (ajv) and the job layer
 * (yaml) require when a module that imports it is first used, so that the editor's
 * `initialize` is answered without reading them. One copy of each, shared by all its users.
 */
const VENDORED_APART = ['yaml', 'ajv'];
const vendorApart = {
  name: 'vendor-apart',
  setup(build) {
    build.onResolve({ filter: new RegExp(`^(${VENDORED_APART.join('|')})$`) }, (args) => ({
      path: `./${args.path}.cjs`,
      external: true,
    }));
  },
};

/**
 * jobSession.ts's `import('./jobOpening.js')` stays a require() of the job layer's own bundle:
 * everything from a launch on (jobs, workflows, expressions, actions, the relay client and the
 * embedded relay), two thirds of the adapter's code, which its `initialize` and a `--server`
 * that is only listening would otherwise read and compile (1.28–1.30× `node -e 0` instead of
 * 1.2×, npm run bench). The modules that both bundles import are in each (esbuild links a
 * bundle alone): those are small and stateless, and the two error classes that cross from one
 * to the other, JobError and RelayError, recognise each other's copies (Symbol.hasInstance).
 */
const jobApart = bundledApart('./jobOpening.js', './job.cjs');

const adapter = await esbuild.build({
  ...commonJs,
  entryPoints: ['src/cli/adapterCommand.ts'],
  outfile: path.join(dist, 'adapter.cjs'),
  plugins: [lazyBuiltins, sharedBuiltins, vendorApart, jobApart],
});

const job = await esbuild.build({
  ...commonJs,
  entryPoints: ['src/job/jobOpening.ts'],
  outfile: path.join(dist, 'job.cjs'),
  plugins: [lazyBuiltins, sharedBuiltins, vendorApart],
});

const vendored = await Promise.all(
  VENDORED_APART.map((name) =>
    esbuild.build({
      ...commonJs,
      entryPoints: [createRequire(import.meta.url).resolve(name)],
      outfile: path.join(dist, `${name}.cjs`),
    }),
  ),
);

// Copied as it is: plain CommonJS, with nothing to bundle.
fs.copyFileSync(path.join(root, 'src', 'cli', 'launcher.cjs'), path.join(dist, 'relay-dap.cjs'));

const reapers = await Promise.all(
  ['embeddedReaper', 'channelReaper'].map((name) =>
    esbuild.build({
      ...common,
      entryPoints: [`src/relay/${name}.ts`],
      outfile: path.join(dist, `${name}.js`),
      format: 'esm',
      // tree-kill, a CommonJS module inside this ES module, requires node:child_process: give it
      // a require (only Node's own modules are left to it; everything else is bundled).
      banner: {
        js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
      },
    }),
  ),
);

// The bundle carries other people's code: their licences go with it.
const packages = new Set();
for (const { metafile } of [main, adapter, job, ...vendored, ...reapers])
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
  `The bundles in dist/ include these packages.\n\n${notices.join('\n' + '-'.repeat(72) + '\n\n')}`,
);

// A symlink to it on PATH (npm link, ~/bin/relay-dap) must be executable.
fs.chmodSync(path.join(dist, 'relay-dap.cjs'), 0o755);
