/**
 * Loads a plain YAML job file: a name, env, a working directory and a list of shell steps, with
 * no expression language (`${{ }}` in it is just text). The format:
 *
 *   name: Build            # optional, defaults to the file name
 *   cwd: build             # optional, relative to the launch's working directory
 *   env: { KEY: value }    # optional
 *   steps:
 *     - name: Configure    # optional, defaults to "Run <first line of run>"
 *       run: ./configure
 *       cwd: src           # optional, relative to the job's
 *       env: { KEY: value }
 *       timeout: 300       # seconds, optional
 *       continue-on-error: true
 *       debug: python      # optional: its Python processes run under debugpy, each a child session
 */
import { basename, extname } from 'node:path';
import { isScalar } from 'yaml';
import type { JobDefinition, JobStep } from '../model/jobModel.js';
import { MAX_TIMEOUT_SECONDS, MAX_TIMEOUT_TEXT } from '../time/longTimeout.js';
import { firstLineOf, type MapEntry, YamlSource } from './yamlSource.js';

const KIND = 'job file';
const JOB_KEYS = ['name', 'env', 'cwd', 'steps'] as const;
const STEP_KEYS = ['name', 'run', 'cwd', 'env', 'timeout', 'continue-on-error', 'debug'] as const;

function entry(entries: MapEntry[], key: string): MapEntry | undefined {
  return entries.find((candidate) => candidate.key === key);
}

/** `text`: the file's content (read once, by the caller). */
export function loadJobFile(path: string, text: string): JobDefinition {
  const source = YamlSource.load(path, KIND, text);
  const entries = source.entries(source.root(KIND), 'the job file');
  source.checkKeys(entries, JOB_KEYS, 'the job file');

  const name = entry(entries, 'name');
  const cwd = entry(entries, 'cwd');
  const stepsEntry = entry(entries, 'steps');
  if (stepsEntry === undefined) {
    throw source.error(
      1,
      "the job file has no 'steps:'; list the commands to run under 'steps:', each with 'run:'",
    );
  }
  const stepNodes = source.seq(stepsEntry.value, "'steps'").items;
  if (stepNodes.length === 0) {
    throw source.error(stepsEntry.keyNode, "'steps:' is empty; add at least one step with 'run:'");
  }

  const job: JobDefinition = {
    name:
      name !== undefined
        ? source.string(name.value, 'the job name', name.keyNode)
        : jobNameFromPath(source.path),
    origin: 'job-file',
    sourcePath: source.path,
    sourceText: source.text,
    env: readEnv(source, entry(entries, 'env'), 'the job env'),
    steps: stepNodes.map((node, index) => {
      const what = `step ${index + 1}`;
      const stepEntries = source.entries(source.map(node, what), what);
      source.checkKeys(stepEntries, STEP_KEYS, what);
      const run = entry(stepEntries, 'run');
      if (run === undefined) {
        throw source.error(node, `${what} has no 'run:'; add the command to run`);
      }
      const script = source.string(run.value, `the run of ${what}`, run.keyNode);
      const stepName = entry(stepEntries, 'name');
      const step: JobStep = {
        index,
        name:
          stepName !== undefined
            ? source.string(stepName.value, `the name of ${what}`, stepName.keyNode)
            : `Run ${firstLineOf(script)}`,
        run: script,
        env: readEnv(source, entry(stepEntries, 'env'), `the env of ${what}`),
        continueOnError: false,
        location: { line: source.itemLine(node), endLine: source.endLine(node) },
      };
      const stepCwd = entry(stepEntries, 'cwd');
      if (stepCwd !== undefined)
        step.cwd = source.string(stepCwd.value, `the cwd of ${what}`, stepCwd.keyNode);
      const timeout = entry(stepEntries, 'timeout');
      if (timeout !== undefined) step.timeoutSeconds = readTimeout(source, timeout, what);
      const continueOnError = entry(stepEntries, 'continue-on-error');
      if (continueOnError !== undefined) {
        const value = continueOnError.value;
        if (value === null || !isScalar(value) || typeof value.value !== 'boolean') {
          throw source.error(
            value ?? continueOnError.keyNode,
            `continue-on-error of ${what} must be true or false`,
          );
        }
        step.continueOnError = value.value;
      }
      const debug = entry(stepEntries, 'debug');
      if (debug !== undefined) {
        const value = debug.value;
        if (value === null || !isScalar(value) || value.value !== 'python') {
          throw source.error(
            value ?? debug.keyNode,
            `debug of ${what} must be python (the only debugger a step runs under)`,
          );
        }
        step.debug = 'python';
      }
      return step;
    }),
  };
  if (cwd !== undefined) job.cwd = source.string(cwd.value, 'the job cwd', cwd.keyNode);
  return job;
}

function jobNameFromPath(path: string): string {
  const file = basename(path);
  return file.slice(0, file.length - extname(file).length);
}

function readEnv(source: YamlSource, item: MapEntry | undefined, what: string): Record<string, string> {
  if (item === undefined || item.value === null) return {};
  const env: Record<string, string> = {};
  for (const variable of source.entries(source.map(item.value, what), what)) {
    env[variable.key] = source.textAsWritten(variable.value, `${what}: ${variable.key}`);
  }
  return env;
}

function readTimeout(source: YamlSource, item: MapEntry, what: string): number {
  const node = item.value;
  const value = node !== null && isScalar(node) ? node.value : undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_TIMEOUT_SECONDS) {
    return value;
  }
  throw source.error(
    node ?? item.keyNode,
    `timeout of ${what} must be a positive number of seconds, at most ${MAX_TIMEOUT_TEXT}`,
  );
}
