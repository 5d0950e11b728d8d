#!/usr/bin/env node
// How many real workflow jobs relay-dap loads: every job of every workflow file under a corpus
// folder is loaded the way a launch loads it (loadProgramRun from dist/, with the `job` argument:
// the job and the jobs it needs, which run first),
// and the first error of each refused job is grouped. Needs `npm run build` first.
//
// A matrix job that only asks which combination to run is not a refusal: a user gives the
// `matrix` launch argument the error suggests, so it is loaded again with that argument (and
// counted on a line of its own). Each load runs in a worker thread with a time limit, so that a
// load that hangs is reported, not waited on; an exception that is not a load error (a
// TypeError, say) or a worker that dies counts as a crash.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const HELP = `usage: node scripts/corpus-load.mjs [--timeout MS] [--verbose] CORPUS_DIR

Loads every job of every .github/workflows/*.yml|yaml file under CORPUS_DIR (for example
/work/corpus/<owner>+<repo>/.github/workflows/ci.yml) as a launch with "program" and "job"
would (dist/job/jobFromProgram.js: run \`npm run build\` first), then prints one line per
group of first errors (share of all jobs, count, an example), and the totals: jobs loaded,
refused, hung (over --timeout, default 10000 ms per job) and crashed. A matrix job whose only
error is "choose a combination" is loaded again with the combination the error suggests.
--verbose prints every refused job with its error.`;

const loaderUrl = new URL('../dist/job/jobFromProgram.js', import.meta.url);

/** The worker: loads one job per message and answers with the outcome. */
const WORKER = `
import { parentPort } from 'node:worker_threads';
const { loadProgramRun } = await import(${JSON.stringify(loaderUrl.href)});
const JS_ERRORS = ['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'InternalError'];
parentPort.on('message', async ({ file, job, matrix }) => {
  try {
    await loadProgramRun(file, { ...(job !== undefined ? { job } : {}), ...(matrix ? { matrix } : {}) });
    parentPort.postMessage({ ok: true });
  } catch (error) {
    const crash = !(error instanceof Error) || JS_ERRORS.includes(error.constructor.name);
    parentPort.postMessage({ ok: false, crash, message: String(error?.message ?? error) });
  }
});
`;

class Loader {
  constructor(timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.worker = undefined;
  }

  /** { ok } | { ok: false, message, crash } | { hung: true } */
  load(task) {
    this.worker ??= new Worker(WORKER, { eval: true, type: 'module' });
    const worker = this.worker;
    return new Promise((resolve) => {
      const done = (outcome) => {
        clearTimeout(timer);
        worker.off('message', done);
        worker.off('error', died);
        resolve(outcome);
      };
      const died = (error) => {
        this.worker = undefined;
        done({ ok: false, crash: true, message: `worker died: ${error.message}` });
      };
      const timer = setTimeout(() => {
        this.worker = undefined;
        void worker.terminate();
        done({ hung: true });
      }, this.timeoutMs);
      worker.on('message', done);
      worker.on('error', died);
      worker.postMessage(task);
    });
  }

  close() {
    return this.worker?.terminate();
  }
}

function workflowFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.isSymbolicLink()) found.push(...workflowFiles(full));
    else if (entry.isFile() && /[/\\]\.github[/\\]workflows[/\\][^/\\]+\.ya?ml$/.test(full)) found.push(full);
  }
  return found.sort();
}

/** The job ids of a workflow file, or [undefined] (one load without `job`) when it cannot say. */
function jobIds(file) {
  try {
    const jobs = parse(fs.readFileSync(file, 'utf8'))?.jobs;
    if (jobs && typeof jobs === 'object' && !Array.isArray(jobs) && Object.keys(jobs).length > 0) {
      return Object.keys(jobs);
    }
  } catch {
    // The loader says why.
  }
  return [undefined];
}

/** The `"matrix": {...}` a "choose a combination" error suggests, if that is the error. */
function suggestedMatrix(message) {
  if (!/a step-by-step run uses one|is computed at run time on GitHub/.test(message)) return undefined;
  const match = /e\.g\. "matrix": (\{.*\})$/.exec(message);
  try {
    return match ? JSON.parse(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Known first errors, named as the issue names them; anything else is grouped by its text. */
const GROUPS = [
  [/the '(\w+)' context is not available/, (m) => `\`${m[1]}.*\``],
  [/calls a reusable workflow/, () => 'a job-level `uses:` (reusable workflow)'],
  [/calls the reusable workflow .* not in this checkout/, () => 'a job-level `uses:` of another repository'],
  [/timeout-minutes .* is an expression/, () => '`timeout-minutes: ${{ }}`'],
  [/shell '([^']*)' is not supported/, (m) => `\`shell: ${m[1]}\``],
  [/unknown key '([^']*)'/, (m) => `unknown key \`${m[1]}\``],
  [
    /computed by an expression|computed at run time|not a mapping of lists/,
    () => 'a matrix computed by `${{ }}`',
  ],
  [/matches \d+ combinations/, () => 'a matrix choice matching several combinations'],
];

/** The group of a first error: a known one, or the text without `file:line: ` and numbers. */
function groupOf(message) {
  for (const [pattern, name] of GROUPS) {
    const match = pattern.exec(message);
    if (match) return name(match);
  }
  return message
    .replace(/^\S+?:\d+: /, '')
    .replace(/\d+/g, 'N')
    .slice(0, 120);
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) return void console.log(HELP);
  const verbose = args.includes('--verbose');
  const timeoutAt = args.indexOf('--timeout');
  const timeoutMs = timeoutAt >= 0 ? Number(args[timeoutAt + 1]) : 10_000;
  const corpus = args.filter((arg, i) => !arg.startsWith('--') && (timeoutAt < 0 || i !== timeoutAt + 1))[0];
  if (!corpus || !fs.existsSync(corpus) || !(timeoutMs > 0)) {
    console.error(HELP);
    process.exit(2);
  }
  if (!fs.existsSync(fileURLToPath(loaderUrl))) {
    console.error(`corpus-load: ${fileURLToPath(loaderUrl)} is missing: run \`npm run build\` first`);
    process.exit(2);
  }

  const files = workflowFiles(path.resolve(corpus));
  const repos = new Set(files.map((file) => path.relative(corpus, file).split(path.sep)[0]));
  const loader = new Loader(timeoutMs);
  const groups = new Map();
  const totals = { jobs: 0, loaded: 0, refused: 0, hung: 0, crashed: 0, matrixGiven: 0, computed: 0 };
  for (const file of files) {
    for (const job of jobIds(file)) {
      totals.jobs++;
      let outcome = await loader.load({ file, job });
      const matrix = outcome.ok === false && !outcome.crash ? suggestedMatrix(outcome.message) : undefined;
      if (matrix) {
        totals.matrixGiven++;
        if (/computed at run time/.test(outcome.message)) totals.computed++;
        outcome = await loader.load({ file, job, matrix });
      }
      if (outcome.ok) {
        totals.loaded++;
        continue;
      }
      const kind = outcome.hung ? 'hung' : outcome.crash ? 'crashed' : 'refused';
      totals[kind]++;
      // The loader's messages start with the file's path: shown relative to the corpus.
      const said = outcome.hung ? `${file}: over ${timeoutMs} ms` : outcome.message;
      const line = `${said.split(`${path.resolve(corpus)}${path.sep}`).join('')}${job ? ` [job ${job}]` : ''}`;
      const group = kind === 'refused' ? groupOf(outcome.message) : kind.toUpperCase();
      const entry = groups.get(group) ?? { count: 0, example: line };
      entry.count++;
      groups.set(group, entry);
      if (verbose || kind !== 'refused') console.log(`${kind}: ${line}`);
    }
  }
  await loader.close();

  const share = (n) => `${((100 * n) / Math.max(totals.jobs, 1)).toFixed(1)}%`;
  for (const [group, { count, example }] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
    console.log(
      `${share(count).padStart(6)} ${String(count).padStart(5)}  ${group}   e.g. ${example.slice(0, 160)}`,
    );
  }
  console.log(
    `\n${repos.size} repositories, ${files.length} workflow files, ${totals.jobs} jobs: ` +
      `${totals.loaded} loaded (${share(totals.loaded)}), ${totals.refused} refused, ` +
      `${totals.hung} hung, ${totals.crashed} crashed; ` +
      `${totals.matrixGiven} matrix jobs were loaded again with the "matrix" their error suggested ` +
      `(${totals.computed} of them computed at run time)`,
  );
}

await main();
