/**
 * The shapes a workflow's steps are read into: a step with its parsed expressions, and the
 * action a `uses:` step names (its action.yml, read by actionFile.ts), in one file because
 * each holds the other (a composite action's steps are workflow steps).
 */
import type { JobStep } from '../model/jobModel.js';
import type { ControlStep } from './backgroundSteps.js';
import type { LocatedCondition, LocatedTemplate } from './locatedExpressions.js';
import type { JobSourceError } from './yamlSource.js';

/** A workflow step: the model's step (values as written) and its expressions, parsed. */
export interface WorkflowStep extends JobStep {
  expressions: StepExpressions;
  /** The action a `uses:` step names, when relay-dap found it (see src/job/actionLoading.ts). */
  action?: UsedAction;
}

export interface StepExpressions {
  /** `if:`, or the implicit `success()` of a step without one. */
  condition: LocatedCondition;
  run?: LocatedTemplate;
  /** The step's env, in the order written (later values see earlier ones). */
  env: Record<string, LocatedTemplate>;
  /** `working-directory:` of the step, else of `defaults.run`. */
  cwd?: LocatedTemplate;
  /** `continue-on-error:` when it is an expression. */
  continueOnError?: LocatedTemplate;
  /** `timeout-minutes:` when it is an expression: evaluated as the step starts, as GitHub does. */
  timeout?: LocatedTemplate;
  /** A `wait:`, `wait-all:` or `cancel:` step (backgroundSteps.ts): it runs nothing. */
  control?: ControlStep;
  /** `background: true` (or an expression): the step starts and the job goes on (src/job/backgroundSteps.ts). */
  background?: true;
  /** The last step of a `parallel:` group: the group's other (background) steps, waited for once it ended. */
  awaits?: number[];
  /**
   * A `uses:` step's `with:`, the action's inputs, in the order written. A value that does not
   * parse keeps its error: it counts only when relay-dap runs the action (actionLoading.ts).
   */
  with?: Record<string, LocatedTemplate | { error: JobSourceError }>;
}

export type ActionRuns =
  | { using: 'composite'; steps: WorkflowStep[] }
  | {
      using: 'node';
      /** As written: node20, node24, node16, … */
      runtime: string;
      main: string;
      pre?: string;
      post?: string;
      /** `pre-if:` / `post-if:` as written (GitHub's defaults: always()). */
      preIf?: string;
      postIf?: string;
    }
  | { using: 'docker'; image: string }
  | { using: 'other'; written: string };

export interface ActionDefinition {
  /** The action.yml, absolute (on the editor's side). */
  file: string;
  /** The action's `name:`. */
  name: string;
  /** Every input with its `default:` (an input without one defaults to ''), in the order written. */
  inputs: Record<string, { default?: LocatedTemplate }>;
  /** A composite's `outputs:` (each `value:`); a JavaScript action's outputs are what it writes. */
  outputs: Record<string, LocatedTemplate>;
  runs: ActionRuns;
}

/** An action a `uses:` step names, found and read on the editor's side. */
export interface UsedAction {
  definition: ActionDefinition;
  /** The directory holding its action.yml, on the editor's side. */
  directory: string;
  origin:
    | { kind: 'local'; /** `./path` as written, normalized: relative to the workspace. */ path: string }
    | {
        kind: 'remote';
        owner: string;
        repo: string;
        ref: string;
        path: string;
        /** The cached copy to bring to the far side (the whole repository, for `../` paths in it). */
        root: string;
        /** The action's directory inside `root` ('' for the top). */
        inside: string;
      };
}
