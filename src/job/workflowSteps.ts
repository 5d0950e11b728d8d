/**
 * Runs a GitHub Actions workflow job's steps as the hosted runner does, through the relay:
 * `if:` decides each step (after a failure too: `failure()`/`always()` steps still run),
 * `${{ }}` is substituted in run, env and working-directory, the step runs through its
 * shell, and the file commands it wrote (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH,
 * GITHUB_STEP_SUMMARY) are read back — they live where the step ran, on the far side of
 * the relay — and carried into the steps that follow. Before the first step, the far side is
 * asked once for what the `github` and `runner` contexts need from there (the workspace, the
 * machine's arch); the event payload is written into the job folder for GITHUB_EVENT_PATH.
 */
import { parseEnvFile, parsePathFile } from '../workflow/envFiles.js';
import { ExpressionError, isTruthy } from '../workflow/expressions.js';
import {
  evaluateLocatedCondition,
  evaluateTemplate,
  evaluateTemplateValue,
  type LocatedCondition,
  type LocatedTemplate,
} from '../workflow/locatedExpressions.js';
import {
  expressionContext,
  stepContext,
  type ExpressionContext,
  type RunContexts,
  type StepContext,
} from '../model/expressionContext.js';
import { controlSkipReason, type ControlStep } from '../workflow/backgroundSteps.js';
import { describeSkippedSetupAction } from '../workflow/setupActions.js';
import { buildStepScript } from '../workflow/shells.js';
import {
  asWorkflowJob,
  evaluateJobEnv,
  type WorkflowJobDefinition,
  type WorkflowStep,
} from '../workflow/workflowFile.js';
import {
  buildJobContexts,
  stepActionNames,
  withAction,
  type JobContexts,
} from '../workflow/githubContext.js';
import { ActionSteps } from './actionSteps.js';
import { githubToken, type GithubFacts } from './githubFacts.js';
import { NO_LAUNCH_CONTEXTS } from './launchContexts.js';
import { makeJobFolder } from './jobFolder.js';
import { expressionsOf, FileHashes } from './fileHashes.js';
import { checkShells } from './shellCheck.js';
import { HashFilesError } from '../workflow/hashFiles.js';
import { evaluateTimeoutSeconds } from '../workflow/timeoutMinutes.js';
import type { JobDefinition, JobStep } from '../model/jobModel.js';
import type { StepResult } from '../model/stepResult.js';
import type { JobRunner, StepPreparer } from './jobRunner.js';
import { BackgroundSteps } from './backgroundSteps.js';
import { withContext } from './stepCommand.js';
import { shellQuote } from '../workflow/shellQuote.js';

/** Why a step could not be prepared: an expression, with its file and line. */
export class WorkflowStepError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WorkflowStepError';
  }
}

interface StepFiles {
  env: string;
  output: string;
  path: string;
  stepSummary: string;
}

export class WorkflowSteps implements StepPreparer {
  readonly runsAfterFailure = true;
  /** `steps.<id>` of the steps finished so far, by step index. */
  private readonly contexts = new Map<number, StepContext>();
  private tempDirectory: string | undefined;
  private readonly summaries: string[] = [];
  private readonly job: WorkflowJobDefinition;
  /** The `github` and `runner` contexts and default variables, once `start` asked the far side. */
  private run: JobContexts | undefined;
  /** GITHUB_ACTION of each step. */
  private readonly actionNames: string[];
  private readonly fileHashes = new FileHashes();
  /** The actions `uses:` steps run (composite, JavaScript, Docker). */
  private readonly actions: ActionSteps;
  /** The steps started with `background: true`, beside the queue. */
  private readonly background: BackgroundSteps;

  constructor(
    job: JobDefinition,
    /** Where step summaries and notes go (the debug console). */
    private readonly say: (text: string) => void,
    /** What the editor's side knows (git checkout, event); without it, act's defaults. */
    private readonly facts: GithubFacts = {
      git: undefined,
      workflowPath: job.sourcePath?.split(/[/\\]/).pop() ?? '',
      eventName: 'push',
      event: {},
      overrides: {},
      values: NO_LAUNCH_CONTEXTS,
    },
    /**
     * What the run gives the job: `needs.<job>` of the jobs it needs, as they ended (or as the
     * launch gave them); for a job of a called workflow, the `inputs` and `secrets` of the call.
     */
    private readonly given: Pick<RunContexts, 'needs' | 'inputs' | 'secrets'> = {},
  ) {
    const workflow = asWorkflowJob(job);
    if (workflow === undefined) throw new Error(`internal: ${job.name} was not loaded from a workflow file`);
    this.job = workflow;
    this.actionNames = stepActionNames(workflow.steps);
    this.actions = new ActionSteps(workflow, say);
    this.background = new BackgroundSteps(say, (result, runner) => this.backgroundEnded(result, runner));
  }

  /** A background step ended: continue-on-error, its outputs and env files, then its result line. */
  private async backgroundEnded(result: StepResult, runner: JobRunner): Promise<void> {
    const jobStep = runner.job.steps[result.index]!;
    const ended =
      result.outcome === 'failure' && this.tolerates(jobStep, runner)
        ? { ...result, tolerated: true }
        : result;
    await this.finish(jobStep, ended, runner).catch((error: unknown) =>
      this.say(`step ${result.index + 1} (${jobStep.name}): ${(error as Error).message}`),
    );
    runner.backgroundEnded(ended);
  }

  /** What a `wait:`, `wait-all:` or `cancel:` step does with the steps started in the background. */
  private async control(control: ControlStep): Promise<{ done: string } | undefined> {
    const indexes =
      control.key === 'wait-all'
        ? this.job.steps.map((step) => step.index).filter((index) => this.background.has(index))
        : this.job.steps
            .filter(
              (step) =>
                step.id !== undefined && control.ids.includes(step.id) && this.background.has(step.index),
            )
            .map((step) => step.index);
    if (indexes.length === 0) return undefined;
    if (control.key === 'cancel') {
      await Promise.all(indexes.map((index) => this.background.cancel(index)));
      return { done: `stopped ${control.ids.join(', ')}` };
    }
    await this.background.wait(indexes);
    return {
      done: control.key === 'wait-all' ? 'all background steps ended' : `${control.ids.join(', ')} ended`,
    };
  }

  /**
   * The contexts of breakpoint conditions and log points: where the step `stepIndex` is written
   * (inside an action, its inputs and its own steps), else the job's own.
   */
  expressionContext(runner: JobRunner, stepIndex?: number): ExpressionContext {
    return this.contextIn(
      stepIndex === undefined ? undefined : this.actions.scopeOf(stepIndex),
      runner,
      this.run,
    );
  }

  /**
   * The contexts where a step is written: the job's, or inside the action `scope` (a `uses:`
   * step's index) — its inputs, and `steps` of that action's own steps only.
   */
  private contextIn(
    scope: number | undefined,
    runner: JobRunner,
    run: JobContexts | undefined,
  ): ExpressionContext {
    const steps = new Map([...this.contexts].filter(([index]) => this.actions.scopeOf(index) === scope));
    const base = expressionContext(this.job, runner.env, runner.status, steps, {
      ...this.facts.values,
      ...(run === undefined ? {} : { github: run.github, runner: run.runner }),
      ...this.given,
    });
    return this.actions.inside(scope, base);
  }

  /**
   * What the far side is asked before the first stop: what the `github` and `runner` contexts
   * need (a failure ends the job: no step could run as written), then whether the steps' shells
   * are there (pwsh, powershell, cmd).
   */
  async begin(runner: JobRunner): Promise<void> {
    await this.learnContexts(runner);
    await this.actions.begin(runner).catch((error: unknown) => {
      this.say(`before the first step: ${(error as Error).message}`);
    });
    await checkShells(this.job.steps, this.job.workflow.defaultShell, runner, this.say).catch(
      (error: unknown) => {
        this.say(`before the first step: ${(error as Error).message}`);
      },
    );
  }

  /**
   * Asks the far side once for the workspace (the job's directory, where steps run), the
   * machine's arch and the tool cache, writes the event payload into the job folder, and from
   * then on every step and console command has the default variables; the job env is evaluated
   * again with `github` and `runner` there.
   */
  private async learnContexts(runner: JobRunner): Promise<void> {
    const temp = await this.ensureTempDirectory(runner);
    const eventPath = `${temp}/event.json`;
    const directory = runner.contextFor().cwd;
    const { workflow } = this.job;
    const contextsWith = (workspace: string, machine: string, toolCache: string): JobContexts =>
      buildJobContexts({
        git: this.facts.git,
        job: workflow.jobId,
        workflow: workflow.workflowName ?? this.facts.workflowPath,
        workflowPath: this.facts.workflowPath,
        workspace,
        eventPath,
        eventName: this.facts.eventName,
        event: this.facts.event,
        token: githubToken(this.facts),
        runner: { arch: runnerArch(machine), temp, toolCache },
        overrides: this.facts.overrides,
      });
    // The file holds `github.event` as the expressions see it (act's filled-in default_branch too).
    const payload = contextsWith('', '', '').github.event;
    const probe = [
      `printf '%s' ${shellQuote(JSON.stringify(payload))} > ${shellQuote(eventPath)} || exit 1`,
      directory === undefined
        ? 'pwd'
        : `(cd -- ${shellQuote(directory)} 2>/dev/null && pwd) || printf '%s\\n' ${shellQuote(directory)}`,
      'uname -m',
      `printf '%s\\n' "\${RUNNER_TOOL_CACHE:-\${HOME:-/tmp}/.cache/act/tool_cache}"`,
    ].join('\n');
    const answer = await runner.captureCommand(probe);
    const [workspace = '', machine = '', toolCache = ''] = answer.output.toString('utf8').split('\n');
    if (answer.exitCode !== 0 || workspace === '') {
      throw new WorkflowStepError(
        `could not prepare the job on the relay server's side (the event payload, the workspace): ${answer.output.toString('utf8').trim() || `exit code ${answer.exitCode}`}`,
      );
    }
    const run = contextsWith(workspace, machine, toolCache);
    this.run = run;
    const contexts = { ...this.facts.values, github: run.github, runner: run.runner, ...this.given };
    for (const [name, value] of Object.entries(located(() => evaluateJobEnv(this.job, contexts))))
      runner.setEnv(name, value);
    runner.setDefaultVariables(this.run.env);
  }

  async prepare(
    jobStep: JobStep,
    runner: JobRunner,
  ): Promise<
    { skip: string } | { text: string; timeoutSeconds?: number } | { enter: true } | { done: string }
  > {
    const step = this.stepOf(jobStep);
    const { expressions } = step;
    const action = this.actionNames[step.index] ?? '';
    // A post step whose step never ran has nothing to clean up (and no inputs to see).
    if (step.hook?.phase === 'post' && !ranMain(runner, step.hook.of))
      return { skip: 'the step it follows did not run' };
    const scope = this.actions.scopeOf(step.index);
    // hashFiles() of the if: first: a skipped step's other values are never evaluated, as on GitHub.
    const decides = await this.withFileHashes(
      [expressions.condition],
      located(() =>
        this.contextIn(scope, runner, this.run === undefined ? undefined : withAction(this.run, action)),
      ),
      runner,
    );
    if (!located(() => evaluateLocatedCondition(expressions.condition, decides))) {
      return {
        skip: `if: ${step.hook !== undefined ? 'always()' : (step.condition ?? 'success()')} is false`,
      };
    }
    if (expressions.control !== undefined)
      return (await this.control(expressions.control)) ?? { skip: controlSkipReason(expressions.control) };
    const inside = this.actions.variablesInside(scope);
    const run = expressions.run;
    if (run === undefined) {
      const temp = await this.ensureTempDirectory(runner);
      const workspace = this.run?.github.workspace;
      const places = { workspace: typeof workspace === 'string' ? workspace : '', temp };
      const inputs = Object.values(expressions.with ?? {}).filter((value) => !('error' in value));
      const values = [...Object.values(expressions.env), ...(inputs as LocatedTemplate[])];
      const context = await this.withFileHashes(values, decides, runner);
      const plan = await this.actions.plan(step, context, runner, places);
      if (plan === undefined) {
        const setup = describeSkippedSetupAction(step.uses ?? '');
        if (setup !== undefined) this.say(setup);
        return { skip: `\`uses: ${step.uses ?? '?'}\` runs an action, which relay-dap does not run` };
      }
      if ('skip' in plan || 'enter' in plan) return plan;
      return {
        text: this.stepScript(step, plan.body, 'bash', runner, temp, {
          env: { ...inside.env, ...plan.env },
          defaults: { ...inside.defaults, ...plan.defaults, GITHUB_ACTION: action },
        }),
      };
    }
    const { env, cwd, timeout } = expressions;
    const context = await this.withFileHashes([...Object.values(env), run, cwd, timeout], decides, runner);
    const stepEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(expressions.env)) {
      stepEnv[name] = located(() =>
        evaluateTemplate(value, { ...context, env: { ...context.env, ...stepEnv } }),
      );
    }
    const scoped = { ...context, env: { ...context.env, ...stepEnv } };
    const body = located(() => evaluateTemplate(run, scoped));
    const directory = expressions.cwd;
    const substituted =
      directory === undefined ? undefined : located(() => evaluateTemplate(directory, scoped));
    const temp = await this.ensureTempDirectory(runner);
    const timeoutSeconds =
      expressions.timeout === undefined
        ? undefined
        : located(() => evaluateTimeoutSeconds(expressions.timeout!, scoped));
    const text = this.stepScript(step, body, step.shell ?? this.job.workflow.defaultShell, runner, temp, {
      ...(substituted !== undefined ? { cwd: substituted } : {}),
      env: { ...inside.env, ...stepEnv },
      defaults: { ...inside.defaults, GITHUB_ACTION: action },
    });
    if (expressions.background === true && (await this.background.start(step.index, step.name, text, runner)))
      return { done: 'started in the background' };
    return { text, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) };
  }

  /** The relayed text of a step: its script run through its shell, with its file commands' files. */
  private stepScript(
    step: WorkflowStep,
    body: string,
    shell: string | undefined,
    runner: JobRunner,
    temp: string,
    where: { cwd?: string; env: Record<string, string>; defaults: Record<string, string> },
  ): string {
    const script = buildStepScript({
      body,
      ...(shell !== undefined ? { shell } : {}),
      tempDirectory: temp,
      scriptName: `step-${step.index + 1}`,
      files: this.filesOf(step, temp),
    });
    return withContext(script, runner.contextFor(where));
  }

  /** The context with the `hashFiles(…)` of `values` computed on the far side (fileHashes.ts). */
  private async withFileHashes(
    values: readonly (LocatedTemplate | LocatedCondition | undefined)[],
    context: ExpressionContext,
    runner: JobRunner,
  ): Promise<ExpressionContext> {
    const written = context.github?.workspace;
    const workspace =
      typeof written === 'string' && written !== '' ? written : (runner.contextFor().cwd ?? '.');
    try {
      const computed = await this.fileHashes.compute(expressionsOf(values), context, runner, workspace);
      if (computed.size === 0) return context;
      return { ...context, fileHashes: new Map([...(context.fileHashes ?? []), ...computed]) };
    } catch (error) {
      if (error instanceof HashFilesError || error instanceof ExpressionError)
        throw new WorkflowStepError(error.message, { cause: error });
      throw error;
    }
  }

  tolerates(jobStep: JobStep, runner: JobRunner): boolean {
    const step = this.stepOf(jobStep);
    const expression = step.expressions.continueOnError;
    if (expression === undefined) return step.continueOnError === true;
    const context = this.expressionContext(runner, step.index);
    return located(() => isTruthy(evaluateTemplateValue(expression, context)));
  }

  async finish(jobStep: JobStep, result: StepResult, runner: JobRunner): Promise<void> {
    const step = this.stepOf(jobStep);
    // The last step of a parallel group: the job goes on once the whole group has ended.
    if (step.expressions.awaits !== undefined) await this.background.wait(step.expressions.awaits);
    const outputs: Record<string, string> = {};
    if (step.lastNested !== undefined && step.action !== undefined) {
      // A composite action ended: its outputs, from its own steps' (none if it never started).
      if (this.actions.started(step.index)) {
        const inside = this.contextIn(step.index, runner, this.run);
        Object.assign(
          outputs,
          located(() => this.actions.outputsOf(step, inside)),
        );
      }
    } else if (result.outcome !== 'skipped' && this.tempDirectory !== undefined) {
      const read = await this.readFiles(this.filesOf(step, this.tempDirectory), runner);
      // GITHUB_ENV: later steps see these, as if the job had set them.
      for (const [name, value] of Object.entries(read.env)) runner.setEnv(name, value);
      Object.assign(outputs, read.output);
      // GITHUB_PATH: in front of PATH for later steps and console commands alike.
      runner.addPath(read.path);
      if (read.summary.trim() !== '') {
        this.summaries.push(read.summary);
        this.say(`step summary of ${step.name}:\n${read.summary.replace(/\n?$/, '\n')}`);
      }
      await this.actions.finish(step, runner, this.tempDirectory);
    }
    this.contexts.set(step.index, stepContext(result, outputs));
  }

  rewind(index: number): void {
    for (const step of this.contexts.keys()) if (step >= index) this.contexts.delete(step);
    this.actions.rewind(index);
  }

  async cleanup(runner: JobRunner): Promise<void> {
    // Nothing started in the background outlives the job.
    await this.background.stopAll();
    if (this.tempDirectory === undefined) return;
    await runner.captureCommand(`rm -rf -- ${shellQuote(this.tempDirectory)}`);
    this.tempDirectory = undefined;
  }

  /** The steps' own directory for this job, on the far side (RUNNER_TEMP). Made once per job. */
  private async ensureTempDirectory(runner: JobRunner): Promise<string> {
    if (this.tempDirectory !== undefined) return this.tempDirectory;
    const made = await makeJobFolder(runner);
    if ('error' in made) {
      throw new WorkflowStepError(
        `could not make a temporary directory for the job on the relay server's side: ${made.error}`,
      );
    }
    this.tempDirectory = made.folder;
    return made.folder;
  }

  private filesOf(step: JobStep, temp: string): StepFiles {
    const n = step.index + 1;
    return {
      env: `${temp}/env-${n}`,
      output: `${temp}/output-${n}`,
      path: `${temp}/path-${n}`,
      stepSummary: `${temp}/summary-${n}`,
    };
  }

  private async readFiles(
    files: StepFiles,
    runner: JobRunner,
  ): Promise<{
    env: Record<string, string>;
    output: Record<string, string>;
    path: string[];
    summary: string;
  }> {
    // NUL between the four: none of these files can hold one.
    const text = [files.env, files.output, files.path, files.stepSummary]
      .map((file) => `cat -- ${shellQuote(file)} 2>/dev/null; printf '\\0'`)
      .join('; ');
    const read = await runner.captureCommand(text);
    const [env = '', output = '', path = '', summary = ''] = read.output.toString('utf8').split('\0');
    return {
      env: parseEnvFile(env, 'GITHUB_ENV'),
      output: parseEnvFile(output, 'GITHUB_OUTPUT'),
      path: parsePathFile(path),
      summary,
    };
  }

  /** The workflow step (with its parsed expressions) the runner means. */
  private stepOf(step: JobStep): WorkflowStep {
    return this.job.steps[step.index]!;
  }
}

function ranMain(runner: JobRunner, index: number): boolean {
  const result = runner.results[index];
  return result !== undefined && result.outcome !== 'skipped';
}

/** RUNNER_ARCH from `uname -m`: X86, X64, ARM or ARM64, as GitHub names them. */
function runnerArch(machine: string): string {
  if (/^(x86_64|amd64)$/i.test(machine)) return 'X64';
  if (/^(aarch64|arm64|armv8)/i.test(machine)) return 'ARM64';
  if (/^(i[3-6]86|x86)$/i.test(machine)) return 'X86';
  if (/^arm/i.test(machine)) return 'ARM';
  return machine.toUpperCase();
}

/** Runs an evaluation, turning an expression error (it names the file and line) into a step error. */
function located<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ExpressionError) throw new WorkflowStepError(error.message, { cause: error });
    throw error;
  }
}
