/**
 * The actions a workflow job's `uses:` steps name, found and read on the editor's side when the
 * job is loaded (so that breakpoints in an action.yml are verified before anything runs), and
 * the job's steps laid out as the runner steps through them: a composite action's steps right
 * after the `uses:` step that runs them (each `parent` naming it, in its action.yml's lines),
 * a JavaScript action's `pre` at the job's start and `post` at its end (in reverse order), as
 * GitHub's runner orders them.
 *
 * Where an action is found: `./path` in the repository holding the workflow (GitHub resolves it
 * in the workspace, which is that checkout); `owner/repo[/path]@ref` in an actions cache laid
 * out as act's (`<cache>/<owner>-<repo>@<ref>`, act's default `~/.cache/act`). An action found
 * nowhere stays a skipped step, as before.
 */
import os from 'node:os';
import path from 'node:path';
import { JOB_FILE_LIMIT, readUserFile, UserFileError } from '../io/userFile.js';
import { ACTION_FILE_NAMES, loadActionFile, type UsedAction } from '../workflow/actionFile.js';
import { parseCondition } from '../workflow/expressions.js';
import type { WorkflowJobDefinition, WorkflowStep } from '../workflow/workflowFile.js';

/** GitHub refuses composite actions nested deeper than this; it also ends a loop of actions. */
const MAX_ACTION_DEPTH = 10;

export interface ActionLookup {
  /** The repository root on the editor's side (where `./path` is looked up). */
  root: string;
  /** The actions cache (launch argument `actionsCache`); default act's `~/.cache/act`. */
  actionsCache?: string;
}

/** act's default cache directory: `$XDG_CACHE_HOME/act`, else `~/.cache/act`. */
export function defaultActionsCache(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return path.join(xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache'), 'act');
}

/** `owner/repo[/path]@ref`, split; undefined for a local (`./`) or Docker (`docker://`) action. */
export function parseRemoteUses(
  uses: string,
): { owner: string; repo: string; path: string; ref: string } | undefined {
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)((?:\/[^@]+)?)@([^@\s]+)$/.exec(uses);
  if (match === null || uses.startsWith('./') || uses.startsWith('docker://')) return undefined;
  return { owner: match[1]!, repo: match[2]!, path: match[3]!.replace(/^\//, ''), ref: match[4]! };
}

/** Where an action's files are on the editor's side, or undefined when it is not there. */
async function locate(
  uses: string,
  lookup: ActionLookup,
): Promise<Omit<UsedAction, 'definition'> | undefined> {
  if (uses.startsWith('./')) {
    const relative = path.posix.normalize(uses.replace(/\/+$/, ''));
    if (relative.startsWith('..')) return undefined;
    return { directory: path.join(lookup.root, relative), origin: { kind: 'local', path: relative } };
  }
  const remote = parseRemoteUses(uses);
  if (remote === undefined) return undefined;
  const cache = lookup.actionsCache ?? defaultActionsCache();
  // act names its clone after the whole `uses` (path included); its older layout, the repository.
  const whole = path.join(cache, uses.replace(/[^A-Za-z0-9_.@-]/g, '-'));
  const repository = path.join(cache, `${remote.owner}-${remote.repo}@${remote.ref}`);
  for (const [root, inside] of [
    [whole, ''],
    [repository, remote.path],
  ] as const) {
    if (await hasActionFile(path.join(root, inside))) {
      return {
        directory: path.join(root, inside),
        origin: { kind: 'remote', ...remote, root, inside },
      };
    }
  }
  return undefined;
}

async function hasActionFile(directory: string): Promise<boolean> {
  for (const name of ACTION_FILE_NAMES)
    if ((await actionFileText(path.join(directory, name))) !== undefined) return true;
  return false;
}

/** An action.yml's text; undefined when there is none (any other problem is an error naming it). */
async function actionFileText(file: string): Promise<string | undefined> {
  try {
    return (await readUserFile(file, 'action metadata file', JOB_FILE_LIMIT)).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (error instanceof UserFileError) throw error;
    throw new Error(`cannot read the action metadata file ${file} (${code ?? (error as Error).message})`, {
      cause: error,
    });
  }
}

/** The action a `uses:` names, read; undefined when relay-dap cannot find it (the step is skipped). */
async function readAction(uses: string, lookup: ActionLookup): Promise<UsedAction | undefined> {
  const found = await locate(uses, lookup);
  if (found === undefined) return undefined;
  for (const name of ACTION_FILE_NAMES) {
    const file = path.join(found.directory, name);
    const text = await actionFileText(file);
    if (text !== undefined) return { ...found, definition: loadActionFile(file, text) };
  }
  return undefined;
}

/**
 * The job with its actions found and laid out (see the top of this file). Throws a JobSourceError
 * (an action.yml that does not parse) or an Error naming a loop of composite actions.
 */
export async function withActions(
  job: WorkflowJobDefinition,
  lookup: ActionLookup,
): Promise<WorkflowJobDefinition> {
  if (!job.steps.some((step) => step.uses !== undefined)) return job;
  const main: WorkflowStep[] = [];
  const hooks: { pre: WorkflowStep[]; post: WorkflowStep[] } = { pre: [], post: [] };
  await layOut(job.steps, undefined, 0, main, hooks, lookup);
  // Pre steps go first: every index of the main steps moves up by their number.
  const shift = hooks.pre.length;
  const moved = (index: number | undefined): number | undefined =>
    index === undefined ? undefined : index + shift;
  const steps = [...hooks.pre, ...main, ...hooks.post.reverse()].map((step, index) => {
    const laid: WorkflowStep = { ...step, index };
    if (step.hook === undefined) {
      const parent = moved(step.parent);
      const lastNested = moved(step.lastNested);
      if (parent !== undefined) laid.parent = parent;
      if (lastNested !== undefined) laid.lastNested = lastNested;
    } else {
      laid.hook = { ...step.hook, of: step.hook.of + shift };
    }
    return laid;
  });
  return { ...job, steps };
}

async function layOut(
  steps: readonly WorkflowStep[],
  parent: number | undefined,
  depth: number,
  out: WorkflowStep[],
  hooks: { pre: WorkflowStep[]; post: WorkflowStep[] },
  lookup: ActionLookup,
): Promise<void> {
  for (const written of steps) {
    const index = out.length;
    const step: WorkflowStep = { ...written, index, ...(parent !== undefined ? { parent } : {}) };
    out.push(step);
    if (step.uses === undefined) continue;
    const action = await readAction(step.uses, lookup);
    if (action === undefined) continue;
    // A `with:` value that does not parse matters now that the action runs.
    for (const value of Object.values(step.expressions.with ?? {})) if ('error' in value) throw value.error;
    step.action = action;
    const { runs, file } = action.definition;
    if (runs.using === 'composite') {
      if (depth + 1 >= MAX_ACTION_DEPTH) {
        throw new Error(
          `${file}: composite actions are nested more than ${MAX_ACTION_DEPTH} deep (does an action use itself?); GitHub refuses this too`,
        );
      }
      const nested = runs.steps.map((inner) => ({ ...inner, sourcePath: file }));
      await layOut(nested, index, depth + 1, out, hooks, lookup);
      step.lastNested = out.length - 1;
    } else if (runs.using === 'node') {
      // GitHub runs no `pre` of an action used inside a composite one (it would run before its inputs exist).
      if (runs.pre !== undefined && parent === undefined)
        hooks.pre.push(hookStep(step, 'pre', runs.preIf, file));
      if (runs.post !== undefined) hooks.post.push(hookStep(step, 'post', runs.postIf, file));
    }
  }
}

/** A JavaScript action's pre or post step: at the `uses:` step's lines, `pre-if`/`post-if` its condition. */
function hookStep(
  step: WorkflowStep,
  phase: 'pre' | 'post',
  written: string | undefined,
  file: string,
): WorkflowStep {
  const hook: WorkflowStep = {
    index: -1,
    name: `${phase === 'pre' ? 'Pre' : 'Post'} ${step.name}`,
    env: step.env,
    continueOnError: step.continueOnError,
    location: step.location,
    hook: { of: step.index, phase },
    expressions: {
      ...step.expressions,
      // GitHub's default for both is always(); the step's own `if:` decides the main step only.
      condition: {
        condition: parseCondition(written ?? 'always()'),
        file,
        line: 1,
        expressionLines: new Map(),
      },
    },
  };
  if (step.uses !== undefined) hook.uses = step.uses;
  if (step.sourcePath !== undefined) hook.sourcePath = step.sourcePath;
  if (step.action !== undefined) hook.action = step.action;
  return hook;
}
