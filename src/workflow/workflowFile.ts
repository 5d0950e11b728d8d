/**
 * Loads one job of a GitHub Actions workflow file into the job model: its steps with their
 * lines, env merged from workflow and job level, `defaults.run`, `timeout-minutes` and the one
 * matrix combination the run uses. Values stay as written in the job model (`${{ }}` is evaluated
 * when a step runs), and every expression is parsed here, once: an unsupported context or a
 * syntax error is reported at load time with its line rather than halfway through a debugging
 * session, and the parsed expressions travel with the steps, each with its line.
 */
import { basename } from 'node:path';
import { isScalar, type ParsedNode } from 'yaml';
import { expressionContext, type RunContexts } from '../model/expressionContext.js';
import type { JobDefinition, WorkflowJob } from '../model/jobModel.js';
import {
  ExpressionError,
  hasExpressions,
  parseCondition,
  parseTemplate,
  referencedContexts,
  type TemplatePart,
  toDisplayString,
  usesStatusFunction,
} from './expressions.js';
import { evaluateTemplate, type LocatedCondition, type LocatedTemplate } from './locatedExpressions.js';
import type { StepExpressions, WorkflowStep } from './workflowStep.js';
import { MatrixError, selectMatrixCombination, type MatrixCombination } from './matrix.js';
import { decideJobCondition } from './jobCondition.js';
import { BACKGROUND_KEYS, controlName, isBackground, readControl } from './backgroundSteps.js';
import { parallelGroups } from './parallelSteps.js';
import { runnerDifferences } from './runnerDifferences.js';
import { decideJobTimeout } from './jobTimeout.js';
import { timeoutProblem } from './timeoutMinutes.js';
import { resolveShell, ShellError } from './shells.js';
import { firstLineOf, JobSourceError, type MapEntry, YamlSource } from './yamlSource.js';

export type { StepExpressions, WorkflowStep } from './workflowStep.js';

/** A workflow job: the model's job and its steps with their expressions. */
export interface WorkflowJobDefinition extends JobDefinition {
  workflow: WorkflowJob;
  steps: WorkflowStep[];
  /** The job's env (workflow and job level merged), parsed. */
  envExpressions: Record<string, LocatedTemplate>;
  /**
   * A job-level `if:` that cannot be decided here: one reading `github`, `vars` or `inputs` is
   * decided at launch, once the git checkout, the event and the launch's values are read
   * (decideGithubCondition in src/job/githubFacts.ts); that of a job with `needs:` (or reading
   * `needs`) when the jobs it needs have ended (src/job/workflowRun.ts), as GitHub decides it.
   */
  githubCondition?: { located: LocatedCondition; line: number; condition: string };
  /** The workflow's `on:` as plain data: the inputs it declares give `inputs` their defaults. */
  on?: unknown;
  /** A job-level `timeout-minutes:` reading `github`, `vars` or `inputs`: evaluated at launch (settleGithubTimeout). */
  githubTimeout?: LocatedTemplate;
  /** The job-level `outputs:`, parsed (when it has some): `needs.<job>.outputs` of the jobs that need it. */
  outputExpressions?: Record<string, LocatedTemplate>;
  /**
   * The job-level `continue-on-error:` (true, or an expression such as
   * `${{ matrix.rust != 'stable' }}`): a failure of this job (combination) does not fail the run,
   * and `needs.<job>.result` says success (src/job/workflowRun.ts decides it when the job failed).
   */
  continueOnError?: boolean | LocatedTemplate;
}

/** The workflow job of a job definition, when it was loaded from a workflow file. */
export function asWorkflowJob(job: JobDefinition): WorkflowJobDefinition | undefined {
  return job.origin === 'workflow' && 'envExpressions' in job ? (job as WorkflowJobDefinition) : undefined;
}

/**
 * The job's env with its `${{ }}` evaluated: before any step ran, so only the matrix, the
 * variables above each one, the launch's `secrets`, `vars` and `inputs`, and (once the far side
 * was asked) `github` and `runner` are there to read. Throws an ExpressionError naming file and line.
 */
export function evaluateJobEnv(job: WorkflowJobDefinition, run?: RunContexts): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(job.envExpressions)) {
    env[name] = evaluateTemplate(value, expressionContext(job, env, 'success', new Map(), run));
  }
  return env;
}

export interface WorkflowJobOptions {
  /** The key under `jobs:`; optional when the workflow has one job. */
  job?: string;
  /** The matrix combination to run (the launch argument `matrix`). */
  matrix?: Record<string, unknown>;
  /**
   * The job is one of a workflow another job calls (`uses:`): its `inputs` and `secrets` are
   * what the caller passes, its `if:` is decided when the call starts, and its name starts with
   * the caller's.
   */
  called?: { caller: string; callerName: string };
}

const STEP_KEYS = [
  'id',
  'name',
  'if',
  'uses',
  'run',
  'shell',
  'with',
  'env',
  'working-directory',
  'continue-on-error',
  'timeout-minutes',
  ...BACKGROUND_KEYS,
] as const;

/** A key GitHub's workflow schema does not have: GitHub refuses the workflow too. */
const GITHUB_REFUSES_TOO = (key: string): string => ` (GitHub refuses it too: "Unexpected value '${key}'")`;

const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const KIND = 'workflow';

/** `text`: the file's content (read once, by the caller). */
export function loadWorkflowJob(
  path: string,
  options: WorkflowJobOptions,
  text: string,
): WorkflowJobDefinition {
  return readWorkflowJob(YamlSource.load(path, KIND, text), options);
}

/** One job of a workflow already parsed (the run's plan parses the file once for all its jobs). */
export function readWorkflowJob(source: YamlSource, options: WorkflowJobOptions): WorkflowJobDefinition {
  return new WorkflowReader(source).read(options);
}

/**
 * The `steps:` of a composite action (its action.yml): read as a workflow's steps are, with
 * their lines and parsed expressions, where `inputs` is a context too.
 */
export function readActionSteps(
  source: YamlSource,
  stepsNode: ParsedNode | null,
  what: string,
): WorkflowStep[] {
  const reader = new WorkflowReader(source, ['inputs']);
  const seenIds = new Map<string, number>();
  return source
    .seq(stepsNode, what)
    .items.map((node, index) => reader.step(node, index, {}, seenIds, undefined));
}

/** Find a key's entry in a mapping. */
function entry(entries: MapEntry[], key: string): MapEntry | undefined {
  return entries.find((candidate) => candidate.key === key);
}

class WorkflowReader {
  constructor(
    private readonly source: YamlSource,
    /** Contexts expressions may read beyond the workflow's own (`inputs` in an action.yml). */
    private readonly alsoContexts: readonly string[] = [],
  ) {}

  read(options: WorkflowJobOptions): WorkflowJobDefinition {
    const { source } = this;
    const root = source.root(KIND);
    const rootEntries = source.entries(root, 'the workflow');
    const jobsEntry = entry(rootEntries, 'jobs');
    if (jobsEntry === undefined) {
      throw source.error(1, "the workflow has no 'jobs:'; a workflow file lists its jobs under 'jobs:'");
    }
    const jobs = source.entries(source.map(jobsEntry.value, "'jobs'"), "'jobs'");
    const jobId = this.selectJob(jobs, options.job, jobsEntry);
    const jobEntry = entry(jobs, jobId) as MapEntry;
    const jobEntries = source.entries(source.map(jobEntry.value, `job '${jobId}'`), `job '${jobId}'`);

    const reusable = entry(jobEntries, 'uses');
    if (reusable !== undefined) {
      throw source.error(
        reusable.keyNode,
        `job '${jobId}' calls a reusable workflow (uses: ${this.optionalString(reusable, 'uses') ?? ''}); ` +
          'relay-dap steps through jobs with steps: open the called workflow file and debug its job instead',
      );
    }

    const matrix = this.matrix(jobEntries, jobEntry.value, jobId, options.matrix);
    const writtenWorkflowName = this.optionalString(entry(rootEntries, 'name'), 'the workflow name');
    const workflowName = writtenWorkflowName ?? basename(source.path);
    const writtenJobName = this.optionalString(entry(jobEntries, 'name'), `the name of job '${jobId}'`);
    // Like GitHub: a matrix job's name gets its values appended unless the name uses the matrix itself.
    const baseJobName = writtenJobName ?? jobId;
    const matrixSuffix =
      Object.keys(matrix).length > 0 ? ` (${Object.values(matrix).map(toDisplayString).join(', ')})` : '';
    const jobName = hasExpressions(baseJobName)
      ? this.staticText(baseJobName, matrix)
      : `${baseJobName}${matrixSuffix}`;

    const workflowEnv = this.env(entry(rootEntries, 'env'), 'workflow env');
    const jobEnv = this.env(entry(jobEntries, 'env'), `env of job '${jobId}'`);
    const envExpressions = { ...workflowEnv, ...jobEnv };
    const workflowDefaults = this.runDefaults(entry(rootEntries, 'defaults'), 'workflow defaults');
    const jobDefaults = this.runDefaults(entry(jobEntries, 'defaults'), `defaults of job '${jobId}'`);

    const workflow: WorkflowJob = { jobId, matrix };
    if (writtenWorkflowName !== undefined) workflow.workflowName = writtenWorkflowName;
    const defaultShell = jobDefaults.shell ?? workflowDefaults.shell;
    const defaultWorkingDirectory = jobDefaults.workingDirectory ?? workflowDefaults.workingDirectory;
    if (defaultShell !== undefined) workflow.defaultShell = defaultShell;
    if (defaultWorkingDirectory !== undefined)
      workflow.defaultWorkingDirectory = defaultWorkingDirectory.text;
    const timeout = entry(jobEntries, 'timeout-minutes');
    const launchNotes = runnerDifferences(source, rootEntries, jobEntries, (text) =>
      this.staticText(text, matrix),
    );
    let githubTimeout: LocatedTemplate | undefined;
    if (timeout !== undefined) {
      const written = this.timeoutMinutes(timeout, `job '${jobId}'`);
      const decided = typeof written === 'number' ? { seconds: written } : decideJobTimeout(written, matrix);
      if ('seconds' in decided) workflow.timeoutSeconds = decided.seconds;
      else if ('note' in decided) launchNotes.push(decided.note);
      else githubTimeout = decided.pending;
    }
    const needs = this.needs(entry(jobEntries, 'needs'), jobId);
    if (needs.length > 0) workflow.needs = needs;
    const jobCondition = entry(jobEntries, 'if');
    const decided =
      jobCondition === undefined
        ? true
        : decideJobCondition(
            this.source,
            this.condition(jobCondition, `job '${jobId}'`),
            jobId,
            needs.length > 0 || options.called !== undefined,
          );
    launchNotes.sort((a, b) => a.line - b.line);
    if (launchNotes.length > 0) workflow.launchNotes = launchNotes;
    const conditionAt =
      jobCondition === undefined
        ? undefined
        : {
            line: this.source.contentLine(jobCondition.value ?? jobCondition.keyNode),
            condition: this.string(jobCondition, `the if of job '${jobId}'`),
          };
    if (decided === false) workflow.skipped = conditionAt;

    const stepsEntry = entry(jobEntries, 'steps');
    if (stepsEntry === undefined) {
      throw source.error(
        jobEntry.keyNode,
        `job '${jobId}' has no 'steps:'; add the steps to run (each with 'run:' or 'uses:')`,
      );
    }
    const stepNodes = source.seq(stepsEntry.value, `the steps of job '${jobId}'`).items;
    if (stepNodes.length === 0) {
      throw source.error(
        stepsEntry.keyNode,
        `job '${jobId}' has an empty 'steps:' list; add at least one step`,
      );
    }
    const seenIds = new Map<string, number>();
    const groups = parallelGroups(source, stepNodes);
    const steps = groups.steps.map((node, index) =>
      this.step(node, index, matrix, seenIds, defaultWorkingDirectory),
    );
    for (const group of groups.groups) {
      // GitHub's parallel group: background steps, then a wait for them all (after the last).
      const last = group[group.length - 1]!;
      for (const index of group) if (index !== last) steps[index]!.expressions.background = true;
      steps[last]!.expressions.awaits = group.filter((index) => index !== last);
    }

    const on = entry(rootEntries, 'on')?.value;
    const continueOnError = entry(jobEntries, 'continue-on-error');
    if (options.called !== undefined) workflow.call = { caller: options.called.caller };
    return {
      name: `${options.called?.callerName ?? this.staticText(workflowName, matrix)} / ${jobName}`,
      origin: 'workflow',
      sourcePath: source.path,
      sourceText: source.text,
      env: writtenValues(envExpressions),
      steps,
      workflow,
      envExpressions,
      ...(on !== undefined && on !== null ? { on: source.plainValue(on) } : {}),
      ...(githubTimeout !== undefined ? { githubTimeout } : {}),
      ...(continueOnError !== undefined
        ? { continueOnError: this.continueOnError(continueOnError, `job '${jobId}'`) }
        : {}),
      ...outputsEntry(this.outputs(entry(jobEntries, 'outputs'), jobId)),
      ...(typeof decided === 'object' && 'located' in decided && conditionAt !== undefined
        ? { githubCondition: { located: decided.located, ...conditionAt } }
        : {}),
    };
  }

  private selectJob(jobs: MapEntry[], requested: string | undefined, jobsEntry: MapEntry): string {
    const ids = jobs.map((job) => job.key);
    if (requested !== undefined) {
      if (ids.includes(requested)) return requested;
      throw this.source.error(
        jobsEntry.keyNode,
        `the workflow has no job '${requested}'; its jobs are ${ids.join(', ')}`,
      );
    }
    const [only] = ids;
    if (ids.length === 1 && only !== undefined) return only;
    if (only === undefined) throw this.source.error(jobsEntry.keyNode, "'jobs:' is empty; add a job");
    throw this.source.error(
      jobsEntry.keyNode,
      `the workflow has ${ids.length} jobs (${ids.join(', ')}); choose one with the launch argument "job", e.g. "job": "${only}"`,
    );
  }

  /** `needs:` as one job or a list of jobs. */
  private needs(item: MapEntry | undefined, jobId: string): string[] {
    if (item === undefined || item.value === null) return [];
    const what = `the needs of job '${jobId}'`;
    const { source } = this;
    if (isScalar(item.value)) return [this.string(item, what)];
    return source.seq(item.value, what).items.map((node) => source.string(node, what, item.keyNode));
  }

  /** The job-level `outputs:` (name: value with `${{ }}`), parsed with their lines. */
  private outputs(item: MapEntry | undefined, jobId: string): Record<string, LocatedTemplate> {
    if (item === undefined || item.value === null) return {};
    const what = `the outputs of job '${jobId}'`;
    const outputs: Record<string, LocatedTemplate> = {};
    for (const output of this.source.entries(this.source.map(item.value, what), what))
      outputs[output.key] = this.template(output, `${what}: ${output.key}`);
    return outputs;
  }

  /** The `matrix.<key>` names the job's text reads, in order of first use. */
  private matrixKeysRead(jobNode: ParsedNode | null): string[] {
    const range = jobNode?.range;
    const text = range === undefined ? '' : this.source.text.slice(range[0], range[2]);
    return Array.from(
      new Set(Array.from(text.matchAll(/\bmatrix\.([A-Za-z_][A-Za-z0-9_-]*)/g), (m) => m[1] ?? '')),
    );
  }

  private matrix(
    jobEntries: MapEntry[],
    jobNode: ParsedNode | null,
    jobId: string,
    requested: Record<string, unknown> | undefined,
  ): MatrixCombination {
    const strategy = entry(jobEntries, 'strategy');
    let matrixNode: ParsedNode | undefined;
    let matrixKey: ParsedNode | undefined;
    if (strategy !== undefined) {
      const strategyEntries = this.source.entries(
        this.source.map(strategy.value, `the strategy of job '${jobId}'`),
        `the strategy of job '${jobId}'`,
      );
      const matrixEntry = entry(strategyEntries, 'matrix');
      matrixNode = matrixEntry?.value ?? undefined;
      matrixKey = matrixEntry?.keyNode;
    }
    let written: Record<string, unknown> | string | undefined;
    if (matrixNode !== undefined) {
      const value = this.source.plainValue(matrixNode);
      const computed = typeof value === 'string' && hasExpressions(value);
      if (!computed && (value === null || typeof value !== 'object' || Array.isArray(value))) {
        throw this.source.error(
          matrixKey,
          `the matrix of job '${jobId}' must be a mapping of lists, e.g. "os: [ubuntu-latest, ubuntu-22.04]"`,
        );
      }
      written = value as Record<string, unknown> | string;
    }
    try {
      return selectMatrixCombination(written, requested, jobId, this.matrixKeysRead(jobNode));
    } catch (error) {
      if (error instanceof MatrixError) throw this.source.error(matrixKey, error.message);
      throw error;
    }
  }

  step(
    node: ParsedNode,
    index: number,
    matrix: MatrixCombination,
    seenIds: Map<string, number>,
    defaultWorkingDirectory: LocatedTemplate | undefined,
  ): WorkflowStep {
    const { source } = this;
    const what = `step ${index + 1}`;
    const entries = source.entries(source.map(node, what), what);
    source.checkKeys(entries, STEP_KEYS, what, GITHUB_REFUSES_TOO);

    const run = entry(entries, 'run');
    const uses = entry(entries, 'uses');
    if (run !== undefined && uses !== undefined) {
      throw source.error(
        node,
        `${what} has both 'run:' and 'uses:'; a step does one or the other, split it in two`,
      );
    }
    const control = readControl(source, entries, what);
    const background = isBackground(entries);
    if (run === undefined && uses === undefined && control === undefined) {
      throw source.error(node, `${what} has neither 'run:' nor 'uses:'; add the command to run with 'run:'`);
    }

    const env = this.env(entry(entries, 'env'), `env of ${what}`);
    const location = { line: source.itemLine(node), endLine: source.endLine(node) };
    const step: WorkflowStep = {
      index,
      name: '',
      env: writtenValues(env),
      continueOnError: false,
      location,
      expressions: {
        condition: this.locatedCondition('success()', location.line, undefined),
        env,
      },
    };

    const id = entry(entries, 'id');
    if (id !== undefined) {
      const value = this.string(id, `the id of ${what}`);
      if (!STEP_ID_PATTERN.test(value)) {
        throw source.error(
          id.value ?? id.keyNode,
          `step id '${value}' is not valid: it must start with a letter or '_' and hold only letters, digits, '-' and '_'`,
        );
      }
      const previous = seenIds.get(value);
      if (previous !== undefined) {
        throw source.error(
          id.value ?? id.keyNode,
          `step id '${value}' is already used by the step at line ${previous}`,
        );
      }
      seenIds.set(value, step.location.line);
      step.id = value;
    }

    if (run !== undefined) {
      step.expressions.run = this.template(run, `the run script of ${what}`);
      step.run = step.expressions.run.text;
    }
    if (uses !== undefined) step.uses = this.string(uses, `the action of ${what}`);
    const withEntry = entry(entries, 'with');
    if (withEntry !== undefined) step.expressions.with = this.actionInputs(withEntry, `the with of ${what}`);

    const name = entry(entries, 'name');
    const writtenName = name !== undefined ? this.string(name, `the name of ${what}`) : undefined;
    if (control !== undefined) step.expressions.control = control;
    if (background) step.expressions.background = true;
    const defaultName =
      control !== undefined
        ? controlName(control)
        : step.run !== undefined
          ? `Run ${firstLineOf(step.run)}`
          : `Run ${step.uses ?? ''}`;
    step.name = this.staticText(writtenName ?? defaultName, matrix);

    const shell = entry(entries, 'shell');
    if (shell !== undefined) step.shell = this.shell(shell, `the shell of ${what}`);

    const workingDirectory = entry(entries, 'working-directory');
    if (workingDirectory !== undefined) {
      step.expressions.cwd = this.template(workingDirectory, `the working-directory of ${what}`);
      step.cwd = step.expressions.cwd.text;
    } else if (defaultWorkingDirectory !== undefined) {
      step.expressions.cwd = defaultWorkingDirectory;
    }

    const continueOnError = entry(entries, 'continue-on-error');
    if (continueOnError !== undefined) {
      const value = this.continueOnError(continueOnError, what);
      if (typeof value === 'boolean') step.continueOnError = value;
      else {
        step.continueOnError = value.text;
        step.expressions.continueOnError = value;
      }
    }

    const timeout = entry(entries, 'timeout-minutes');
    if (timeout !== undefined) {
      const written = this.timeoutMinutes(timeout, what);
      if (typeof written === 'number') step.timeoutSeconds = written;
      else step.expressions.timeout = written;
    }

    const condition = entry(entries, 'if');
    if (condition !== undefined) {
      step.expressions.condition = this.condition(condition, what);
      step.condition = step.expressions.condition.condition.text;
    }
    return step;
  }

  private string(item: MapEntry, what: string): string {
    return this.source.string(item.value, what, item.keyNode);
  }

  private optionalString(item: MapEntry | undefined, what: string): string | undefined {
    return item === undefined ? undefined : this.string(item, what);
  }

  /** Text that may hold `${{ }}`: kept as written, every expression parsed with its line. */
  private template(item: MapEntry, what: string): LocatedTemplate {
    return this.locate(item.value ?? item.keyNode, this.string(item, what));
  }

  private locate(node: ParsedNode, text: string, alsoContexts: readonly string[] = []): LocatedTemplate {
    return locatedTemplate(this.source, node, text, [...alsoContexts, ...this.alsoContexts]);
  }

  /**
   * A name (workflow, job, step) shown before any step ran: its `${{ }}` are evaluated when they
   * only read the matrix (`Test on ${{ matrix.os }}`), otherwise the name stays as written. A name
   * is only a label, so one using a context relay-dap lacks (`Deploy ${{ inputs.env }}`) is shown
   * as written rather than refusing the whole workflow.
   */
  private staticText(text: string, matrix: MatrixCombination): string {
    if (!hasExpressions(text)) return text;
    let parts: TemplatePart[];
    try {
      parts = parseTemplate(text);
    } catch (error) {
      if (error instanceof ExpressionError) return text;
      throw error;
    }
    const matrixOnly = parts.every(
      (part) =>
        part.kind === 'text' ||
        (!usesStatusFunction(part.expr) &&
          [...referencedContexts(part.expr)].every((context) => context === 'matrix')),
    );
    if (!matrixOnly) return text;
    const context = expressionContext(
      { origin: 'workflow', steps: [], workflow: { jobId: '', matrix } },
      {},
      'success',
    );
    try {
      return evaluateTemplate(
        { text, parts, file: this.source.path, line: 1, expressionLines: new Map() },
        context,
      );
    } catch {
      // A runtime error (say fromJSON of a bad value) surfaces when the step runs; the name stays.
      return text;
    }
  }

  private env(item: MapEntry | undefined, what: string): Record<string, LocatedTemplate> {
    if (item === undefined || item.value === null) return {};
    const { source } = this;
    const env: Record<string, LocatedTemplate> = {};
    for (const variable of source.entries(source.map(item.value, what), what)) {
      const value = source.textAsWritten(variable.value, `${what}: ${variable.key}`);
      env[variable.key] = this.locate(variable.value ?? variable.keyNode, value);
    }
    return env;
  }

  /** A `with:`: like env, but a value that does not parse is kept with its error (see StepExpressions). */
  private actionInputs(item: MapEntry, what: string): NonNullable<StepExpressions['with']> {
    if (item.value === null) return {};
    const { source } = this;
    const inputs: NonNullable<StepExpressions['with']> = {};
    for (const input of source.entries(source.map(item.value, what), what)) {
      try {
        const value = source.textAsWritten(input.value, `${what}: ${input.key}`);
        inputs[input.key] = this.locate(input.value ?? input.keyNode, value);
      } catch (error) {
        if (!(error instanceof JobSourceError)) throw error;
        inputs[input.key] = { error };
      }
    }
    return inputs;
  }

  private runDefaults(
    item: MapEntry | undefined,
    what: string,
  ): { shell?: string; workingDirectory?: LocatedTemplate } {
    if (item === undefined) return {};
    const { source } = this;
    const defaults = source.entries(source.map(item.value, what), what);
    source.checkKeys(defaults, ['run'], what, GITHUB_REFUSES_TOO);
    const run = entry(defaults, 'run');
    if (run === undefined) return {};
    const runEntries = source.entries(source.map(run.value, `${what}.run`), `${what}.run`);
    source.checkKeys(runEntries, ['shell', 'working-directory'], `${what}.run`, GITHUB_REFUSES_TOO);
    const result: { shell?: string; workingDirectory?: LocatedTemplate } = {};
    const shell = entry(runEntries, 'shell');
    if (shell !== undefined) result.shell = this.shell(shell, `${what}.run.shell`);
    const workingDirectory = entry(runEntries, 'working-directory');
    if (workingDirectory !== undefined) {
      result.workingDirectory = this.template(workingDirectory, `${what}.run.working-directory`);
    }
    return result;
  }

  /** A shell is checked now (pwsh, a template without {0}) unless it is computed by an expression. */
  private shell(item: MapEntry, what: string): string {
    const shell = this.template(item, what).text;
    if (!hasExpressions(shell)) {
      try {
        resolveShell(shell);
      } catch (error) {
        if (error instanceof ShellError) throw this.source.error(item.value ?? item.keyNode, error.message);
        throw error;
      }
    }
    return shell;
  }

  private continueOnError(item: MapEntry, what: string): boolean | LocatedTemplate {
    const node = item.value;
    if (node !== null && isScalar(node) && typeof node.value === 'boolean') return node.value;
    const text = node !== null && isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
    if (text !== undefined && hasExpressions(text)) return this.locate(node ?? item.keyNode, text);
    throw this.source.error(
      node ?? item.keyNode,
      `continue-on-error of ${what} must be true, false or a \${{ }} expression`,
    );
  }

  /**
   * Seconds of a `timeout-minutes:` written as a number, or the expression that computes it
   * (evaluated where GitHub evaluates it). `alsoContexts`: accepted beyond those relay-dap evaluates.
   */
  private timeoutMinutes(
    item: MapEntry,
    what: string,
    alsoContexts: readonly string[] = [],
  ): number | LocatedTemplate {
    const node = item.value;
    const value = node !== null && isScalar(node) ? node.value : undefined;
    if (typeof value === 'string' && hasExpressions(value))
      return this.locate(node ?? item.keyNode, value, alsoContexts);
    const problem = timeoutProblem(value);
    if (problem === undefined) return (value as number) * 60;
    throw this.source.error(node ?? item.keyNode, `timeout-minutes of ${what} ${problem}`);
  }

  /**
   * `if:` as written (booleans and numbers keep their spelling), parsed with GitHub's if-rules.
   * `alsoContexts`: accepted beyond those relay-dap evaluates (see parseExpression).
   */
  private condition(item: MapEntry, what: string, alsoContexts: readonly string[] = []): LocatedCondition {
    const node = item.value ?? item.keyNode;
    const text = this.string(item, `the if of ${what}`);
    try {
      return this.locatedCondition(text, this.source.contentLine(node), node, [
        ...alsoContexts,
        ...this.alsoContexts,
      ]);
    } catch (error) {
      if (error instanceof ExpressionError) throw this.source.expressionError(node, text, error);
      throw error;
    }
  }

  private locatedCondition(
    text: string,
    line: number,
    node: ParsedNode | undefined,
    alsoContexts: readonly string[] = [],
  ): LocatedCondition {
    return locateCondition(this.source, text, line, node, alsoContexts);
  }
}

/** A value that may hold `${{ }}`, parsed with its lines; a syntax error names the file and line. */
export function locatedTemplate(
  source: YamlSource,
  node: ParsedNode,
  text: string,
  alsoContexts: readonly string[] = [],
): LocatedTemplate {
  try {
    const parts = parseTemplate(text, alsoContexts);
    return {
      text,
      parts,
      file: source.path,
      line: source.startLine(node),
      expressionLines: source.expressionLines(node, text, parts),
    };
  } catch (error) {
    if (error instanceof ExpressionError) throw source.expressionError(node, text, error);
    throw error;
  }
}

/** An `if:` parsed with GitHub's if-rules and its lines (throws an ExpressionError). */
export function locateCondition(
  source: YamlSource,
  text: string,
  line: number,
  node: ParsedNode | undefined,
  alsoContexts: readonly string[] = [],
): LocatedCondition {
  const condition = parseCondition(text, alsoContexts);
  const parts = condition.body.kind === 'template' ? condition.body.parts : [];
  return {
    condition,
    file: source.path,
    line,
    expressionLines: node === undefined ? new Map() : source.expressionLines(node, text.trim(), parts),
  };
}

function outputsEntry(outputs: Record<string, LocatedTemplate>): {
  outputExpressions?: Record<string, LocatedTemplate>;
} {
  return Object.keys(outputs).length > 0 ? { outputExpressions: outputs } : {};
}

/** The values as written, for the job model. */
function writtenValues(located: Record<string, LocatedTemplate>): Record<string, string> {
  return Object.fromEntries(Object.entries(located).map(([name, value]) => [name, value.text]));
}
