#!/usr/bin/env node
/* global process, __dirname -- CommonJS, run by Node as it is (see below). */
/**
 * What `relay-dap` runs first (copied to dist/relay-dap.cjs: `bin`, `npx`, the VS Code
 * extension's program). It runs the bundle, dist/main.cjs, through a compile cache, and the
 * bundles it requires on demand (dist/adapter.cjs, then job.cjs, yaml.cjs and ajv.cjs) the same way:
 * most of a short command's start-up was V8 compiling that code (issue 12, item 9: `relay-dap
 * run` is called in loops). Node 22's module.enableCompileCache() does the same; Node 20 has
 * none, so this keeps V8's code cache itself. Plain CommonJS with no imports of its own to
 * convert: as a bundled ES module it cost as much start-up as the cache saved.
 *
 * The cache is the user's own: $XDG_CACHE_HOME/relay-dap (else ~/.cache/relay-dap), a 0700
 * directory owned by this uid, read only if it still is — code read from a directory someone
 * else can write to would run as us. One file per bundle, build, Node version and subcommand
 * (each compiles different functions), written once, atomically. Anything wrong with it (no
 * home, a read-only disk, a rejected cache) only means compiling as usual.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's own.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

const MAIN = path.join(__dirname, 'main.cjs');
/** Subcommands whose runs compile different parts of the bundle; the rest is help or the adapter. */
const SUBCOMMANDS = new Set(['serve', 'run', 'cancel', 'status', 'flush', 'handshake']);

function cacheDir() {
  if (process.env.NODE_DISABLE_COMPILE_CACHE || typeof process.getuid !== 'function') return undefined;
  const dir = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'relay-dap');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = fs.lstatSync(dir);
    // Ours alone: a directory, owned by us, that no one else may write to.
    if (!stat.isDirectory() || stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

/** Names this build of a bundle: size, mtime and inode change with every build. */
function buildKey(bundle) {
  const stat = fs.statSync(bundle);
  return `${path.basename(bundle, '.cjs')}-${stat.size}-${Math.round(stat.mtimeMs)}-${stat.ino}`;
}

/** What this run is: a subcommand, help, or the adapter. */
function cacheMode() {
  const args = process.argv.slice(2);
  return (
    args.find((arg) => SUBCOMMANDS.has(arg)) ??
    (args.some((arg) => arg === '--help' || arg === '-h' || arg === '--version') ? 'help' : 'adapter')
  );
}

function cacheFile(dir, build) {
  const mode = cacheMode();
  // A rebuilt bundle gets a new file: V8 checks only the source's length, so a stale cache
  // must never be offered to a new build.
  return path.join(dir, `${build}-${process.version}-${process.arch}-${mode}.v8cache`);
}

function readOwnFile(file) {
  try {
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.fstatSync(fd).uid === process.getuid() ? fs.readFileSync(fd) : undefined;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * Caches of the bundle's other builds, unused for a week (an upgrade, a rebuilt checkout), are
 * deleted; those of the other bundle are its own business.
 */
function pruneOtherBuilds(dir, bundle, keep) {
  const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
  const own = `${path.basename(bundle, '.cjs')}-`;
  for (const name of fs.readdirSync(dir)) {
    const other = path.join(dir, name);
    if (!name.endsWith('.v8cache') || !name.startsWith(own) || name.startsWith(keep)) continue;
    if (fs.lstatSync(other).mtimeMs < weekAgo) fs.rmSync(other, { force: true });
  }
}

function writeAtomically(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, data, { mode: 0o600, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

const dir = cacheDir();

/** Runs a bundle as a CommonJS module, compiled through the cache, and returns its exports. */
function runBundle(bundle) {
  // The bundle's own `#!` line is legal only at the very start of a file: a comment here.
  const source = fs.readFileSync(bundle, 'utf8').replace(/^#!/, '//');
  const build = dir === undefined ? undefined : buildKey(bundle);
  const file = dir === undefined ? undefined : cacheFile(dir, build);
  const cachedData = file === undefined ? undefined : readOwnFile(file);
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const loaded = new Module(bundle, module);
  loaded.filename = bundle;
  loaded.paths = [];
  script
    .runInThisContext()
    .call(loaded.exports, loaded.exports, requireFor(bundle), loaded, bundle, path.dirname(bundle));
  loaded.loaded = true;
  if (file !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    const write = () => {
      try {
        writeAtomically(file, script.createCachedData());
        pruneOtherBuilds(dir, bundle, `${build}-`);
      } catch {
        // No cache this time.
      }
    };
    // V8 loads a cache whole at start-up. A subcommand does the same work every run, so its
    // cache is written at exit and holds every function the run compiled. The adapter's first
    // run is a whole debug session of unknown length: a cache written at its end made the next
    // adapter's first answer slower (1.32× node -e 0 against 1.19×, measured in npm run bench)
    // than compiling those functions lazily, so the adapter's holds only its top level.
    if (cacheMode() === 'adapter') write();
    else process.once('exit', write);
  }
  return loaded.exports;
}

/** The exports of each bundle run so far, by path: each runs once, as a module would. */
const bundles = new Map();

/**
 * A bundle's require(): its sibling bundles (main.cjs requires ./adapter.cjs, which requires
 * ./job.cjs and ./ajv.cjs; job.cjs requires ./yaml.cjs) go through the cache; anything else to Node.
 */
function requireFor(bundle) {
  const plain = Module.createRequire(bundle);
  return Object.assign((id) => {
    if (!/^\.\/[\w-]+\.cjs$/.test(id)) return plain(id);
    const sibling = path.join(path.dirname(bundle), id);
    if (!bundles.has(sibling)) bundles.set(sibling, runBundle(sibling));
    return bundles.get(sibling);
  }, plain);
}

runBundle(MAIN);
