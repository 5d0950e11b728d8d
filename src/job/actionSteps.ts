/**
 * Running the actions a workflow job's `uses:` steps name (found at load, actionLoading.ts), as
 * GitHub's runner runs them:
 * - a composite action is entered: its `inputs` (the step's `with:` over the action.yml's
 *   defaults) and the step's `env` hold for its own steps, which run next as steps of the job
 *   (each a frame above the `uses:` step), with `INPUT_*`, `github.action_path` and
 *   `GITHUB_ACTION_PATH`; when they are done, its `outputs:` are evaluated over their `steps`
 *   and become the `uses:` step's outputs;
 * - a JavaScript action runs `node <main>` where the steps run (its `pre` and `post` at the
 *   job's start and end), with `INPUT_*`, GITHUB_OUTPUT and GITHUB_STATE (what `pre`/`main`
 *   save is `STATE_*` for those after them) — when node is there; otherwise one line says so;
 * - a Docker action is not run, and one line says so.
 * A remote action from the actions cache is first copied to the job folder on the far side.
 */
import { parseEnvFile } from '../workflow/envFiles.js';
import type { ExpressionContext } from '../model/expressionContext.js';
import { evaluateTemplate } from '../workflow/locatedExpressions.js';
import type { UsedAction } from '../workflow/actionFile.js';
import type { WorkflowJobDefinition, WorkflowStep } from '../workflow/workflowFile.js';
import { shellQuote } from '../workflow/shellQuote.js';
import { copyToFarSide } from './actionTransfer.js';
import type { JobRunner } from './jobRunner.js';
import { withContext } from './stepCommand.js';

/** What a `uses:` step hands the steps of its action. */
interface Invocation {
  inputs: Record<string, string>;
  /** The `uses:` step's own env, evaluated. */
  env: Record<string, string>;
  /** Where the action's files are, on the far side. */
  actionPath: string;
}

/** Where a job's files are on the far side, once the job began. */
export interface FarPlaces {
  workspace: string;
  temp: string;
}

/** What a `uses:` step (or a JavaScript action's pre/post) does. */
export type ActionPlan =
  | { skip: string }
  | { enter: true }
  | { body: string; env: Record<string, string>; defaults: Record<string, string> };

/** `INPUT_<NAME>`, as the runner names an input's variable (spaces become `_`, upper case). */
function inputVariables(inputs: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]),
  );
}

export class ActionSteps {
  private readonly invocations = new Map<number, Invocation>();
  /** GITHUB_STATE saved by a JavaScript action's pre and main, by its `uses:` step. */
  private readonly states = new Map<number, Record<string, string>>();
  /** Remote actions copied to the far side: their cache directory → where they are there. */
  private readonly copied = new Map<string, Promise<string>>();
  private nodeMissing = false;

  constructor(
    private readonly job: WorkflowJobDefinition,
    private readonly say: (text: string) => void,
  ) {}

  /** The `uses:` step of the composite action a step runs in; undefined at the job's own level. */
  scopeOf(index: number): number | undefined {
    const step = this.job.steps[index];
    if (step?.hook !== undefined) return this.scopeOf(step.hook.of);
    return step?.parent;
  }

  /**
   * A JavaScript action needs node where the steps run: asked once before the first stop; when
   * it is missing, one line says so and those steps are skipped.
   */
  async begin(runner: JobRunner): Promise<void> {
    const javascript = this.job.steps.filter(
      (step) => step.hook === undefined && step.action?.definition.runs.using === 'node',
    );
    if (javascript.length === 0) return;
    const asked = await runner.captureCommand(
      withContext('command -v node >/dev/null 2>&1', runner.contextFor({ env: {} })),
    );
    if (asked.exitCode === 0) return;
    this.nodeMissing = true;
    for (const step of javascript) {
      this.say(
        `relay-dap: ${step.uses ?? ''} (${where(step)}) is a JavaScript action, but node is not installed where the steps run ` +
          "(the relay server's side), so it is skipped; install Node.js there to run it",
      );
    }
  }

  /**
   * The contexts inside the action the step `scope` uses: its inputs, its env, `github.action_path`.
   * `base` is the job's context with `steps` already those of that action's own steps.
   */
  inside(scope: number | undefined, base: ExpressionContext): ExpressionContext {
    if (scope === undefined) return base;
    const invocation = this.invocationOf(scope);
    return {
      ...base,
      env: { ...base.env, ...invocation.env },
      inputs: invocation.inputs,
      github: { ...base.github, ...this.actionFields(scope, invocation) },
    };
  }

  /** The variables a step inside the action `scope` gets beyond its own env: INPUT_*, GITHUB_ACTION_PATH. */
  variablesInside(scope: number | undefined): {
    env: Record<string, string>;
    defaults: Record<string, string>;
  } {
    if (scope === undefined) return { env: {}, defaults: {} };
    const invocation = this.invocationOf(scope);
    return {
      env: { ...invocation.env, ...inputVariables(invocation.inputs) },
      defaults: { GITHUB_ACTION_PATH: invocation.actionPath },
    };
  }

  /**
   * What a `uses:` step (or a pre/post) does, its `if:` already true. `context`: the contexts where
   * the step is written (the caller's), for its `with:` and `env`.
   */
  async plan(
    step: WorkflowStep,
    context: ExpressionContext,
    runner: JobRunner,
    places: FarPlaces,
  ): Promise<ActionPlan | undefined> {
    const action = step.action;
    const uses = step.uses ?? '';
    if (action === undefined && !uses.startsWith('docker://')) return undefined;
    const runs = action?.definition.runs;
    if (action === undefined || runs === undefined || runs.using === 'docker' || runs.using === 'other') {
      if (step.hook !== undefined) return { skip: 'its action is not run' };
      const what =
        runs?.using === 'docker'
          ? `a Docker action (image ${runs.image})`
          : runs?.using === 'other'
            ? `an action that runs with '${runs.written}'`
            : 'a Docker container action';
      const why =
        runs?.using === 'other' ? 'relay-dap does not run it' : 'relay-dap does not run Docker actions';
      this.say(`relay-dap: ${uses} (${where(step)}) is ${what}: ${why}, so the step is skipped`);
      return { skip: `${uses} is not run: ${what}` };
    }
    const owner = step.hook?.of ?? step.index;
    if (step.hook?.phase === 'post') {
      if (!this.invocations.has(owner)) return { skip: 'the step it follows did not run' };
    } else {
      this.invocations.set(owner, await this.invoke(this.job.steps[owner]!, action, context, runner, places));
    }
    const invocation = this.invocationOf(owner);
    if (runs.using === 'composite') return { enter: true };
    if (this.nodeMissing) return { skip: 'node is not installed where the steps run' };
    const script = step.hook === undefined ? runs.main : step.hook.phase === 'pre' ? runs.pre! : runs.post!;
    const stateFile = this.stateFile(step, places.temp);
    const state = Object.fromEntries(
      Object.entries(this.states.get(owner) ?? {}).map(([name, value]) => [`STATE_${name}`, value]),
    );
    return {
      body: `: > ${shellQuote(stateFile)} || exit 1\nnode ${shellQuote(`${invocation.actionPath}/${script}`)}\n`,
      env: { ...invocation.env, ...inputVariables(invocation.inputs), ...state, GITHUB_STATE: stateFile },
      defaults: { GITHUB_ACTION_PATH: invocation.actionPath },
    };
  }

  /** After a JavaScript action's pre or main: what it saved in GITHUB_STATE, for those after it. */
  async finish(step: WorkflowStep, runner: JobRunner, temp: string | undefined): Promise<void> {
    if (step.action?.definition.runs.using !== 'node' || step.hook?.phase === 'post' || temp === undefined)
      return;
    const read = await runner.captureCommand(
      `cat -- ${shellQuote(this.stateFile(step, temp))} 2>/dev/null; exit 0`,
    );
    const owner = step.hook?.of ?? step.index;
    const saved = parseEnvFile(read.output.toString('utf8'), 'GITHUB_STATE');
    this.states.set(owner, { ...this.states.get(owner), ...saved });
  }

  /** Whether the action of the `uses:` step `owner` started (its inputs were evaluated). */
  started(owner: number): boolean {
    return this.invocations.has(owner);
  }

  /** A composite's `outputs:`, evaluated inside it (`context`) once its steps have run. */
  outputsOf(step: WorkflowStep, context: ExpressionContext): Record<string, string> {
    const outputs = step.action?.definition.outputs ?? {};
    return Object.fromEntries(
      Object.entries(outputs).map(([name, value]) => [name, evaluateTemplate(value, context)]),
    );
  }

  /** The job went back to step `index`: what the actions from there on saved no longer counts. */
  rewind(index: number): void {
    for (const owner of [...this.invocations.keys()]) if (owner >= index) this.invocations.delete(owner);
    for (const owner of [...this.states.keys()]) if (owner >= index) this.states.delete(owner);
  }

  private invocationOf(owner: number): Invocation {
    const invocation = this.invocations.get(owner);
    if (invocation !== undefined) return invocation;
    const step = this.job.steps[owner];
    throw new Error(
      `the action of step ${owner + 1} (${step?.name ?? '?'}) has not started: run its \`uses:\` step (line ${step?.location.line ?? '?'}) first`,
    );
  }

  private async invoke(
    step: WorkflowStep,
    action: UsedAction,
    context: ExpressionContext,
    runner: JobRunner,
    places: FarPlaces,
  ): Promise<Invocation> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(step.expressions.env))
      env[name] = evaluateTemplate(value, { ...context, env: { ...context.env, ...env } });
    const scoped = { ...context, env: { ...context.env, ...env } };
    const inputs: Record<string, string> = {};
    for (const [name, value] of Object.entries(step.expressions.with ?? {})) {
      if ('error' in value) throw value.error;
      inputs[name.toLowerCase()] = evaluateTemplate(value, scoped);
    }
    for (const [name, input] of Object.entries(action.definition.inputs)) {
      if (inputs[name.toLowerCase()] !== undefined) continue;
      inputs[name.toLowerCase()] =
        input.default === undefined ? '' : evaluateTemplate(input.default, { ...scoped, inputs: {} });
    }
    return { inputs, env, actionPath: await this.placeOf(action, runner, places) };
  }

  /** Where the action's files are on the far side: in the workspace (local), or copied there (cached). */
  private async placeOf(action: UsedAction, runner: JobRunner, places: FarPlaces): Promise<string> {
    const { origin } = action;
    if (origin.kind === 'local') return `${places.workspace}/${origin.path.replace(/^\.\//, '')}`;
    let copied = this.copied.get(origin.root);
    if (copied === undefined) {
      const to = `${places.temp}/_actions/${origin.owner}/${origin.repo}/${origin.ref}`;
      copied = copyToFarSide(origin.root, to, runner).then(() => to);
      this.copied.set(origin.root, copied);
      copied.catch(() => this.copied.delete(origin.root));
    }
    const root = await copied;
    return origin.inside === '' ? root : `${root}/${origin.inside}`;
  }

  private actionFields(scope: number, invocation: Invocation): Record<string, string> {
    const origin = this.job.steps[scope]?.action?.origin;
    return {
      action_path: invocation.actionPath,
      ...(origin?.kind === 'remote'
        ? { action_repository: `${origin.owner}/${origin.repo}`, action_ref: origin.ref }
        : {}),
    };
  }

  private stateFile(step: WorkflowStep, temp: string): string {
    return `${temp}/state-${step.index + 1}`;
  }
}

/** "line 12" of the workflow, or "action.yml line 7" for a step inside an action. */
function where(step: WorkflowStep): string {
  const file = step.sourcePath === undefined ? '' : `${step.sourcePath.split('/').slice(-2).join('/')} `;
  return `${file}line ${step.location.line}`;
}
