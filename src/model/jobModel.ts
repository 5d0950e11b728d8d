/**
 * A job, whatever it came from (one command, a list of steps in launch.json, a job file, a
 * GitHub Actions workflow job): the shape the job runner steps through.
 */

/** Where a step stands in its source, 1-based lines, so an editor can highlight it. */
export interface StepLocation {
  /** First line of the step (its `- name:` or `- run:` line). */
  line: number;
  /** Last line of the step. */
  endLine: number;
}

export interface JobStep {
  /** Position in the job, from 0. */
  index: number;
  name: string;
  /** Workflow `id:`; referenced as `steps.<id>` in expressions. */
  id?: string;
  /** Shell text to run. Absent for a workflow `uses:` step, which is skipped. */
  run?: string;
  uses?: string;
  /** Working directory, relative to the job's (may hold `${{ }}` in a workflow). */
  cwd?: string;
  /** The step's own env (may hold `${{ }}` in a workflow). */
  env: Record<string, string>;
  timeoutSeconds?: number;
  /** A boolean, or (workflow) an expression evaluated when the step ends. */
  continueOnError: boolean | string;
  /** Workflow `if:`, as written (with or without `${{ }}`). */
  condition?: string;
  /** Workflow `shell:` (bash, sh, python, or a template holding `{0}`). */
  shell?: string;
  location: StepLocation;
  /** A step of an action (a composite's own steps): the index of the `uses:` step it runs inside. */
  parent?: number;
  /** A `uses:` step whose action's steps follow it in the job (a composite): the index of the last. */
  lastNested?: number;
  /** The file the step is written in, when it is not the job's (an action's action.yml). */
  sourcePath?: string;
  /** A JavaScript action's `pre` or `post`, run at the job's start or end for the step `of`. */
  hook?: { of: number; phase: 'pre' | 'post' };
  /** Every Python process the step starts runs under debugpy, each a child session (`debug: python`, `debugSteps`). */
  debug?: 'python';
}

export type JobOrigin = 'command' | 'steps' | 'job-file' | 'workflow' | 'attach';

export interface JobDefinition {
  name: string;
  origin: JobOrigin;
  /** The file the steps come from (job file, workflow); absent for launch.json steps. */
  sourcePath?: string;
  /** The file's text, or a read-only listing synthesized for launch.json steps. */
  sourceText: string;
  env: Record<string, string>;
  cwd?: string;
  steps: JobStep[];
  /** Present for a GitHub Actions workflow job. */
  workflow?: WorkflowJob;
}

export interface WorkflowJob {
  /** The job's key under `jobs:`. */
  jobId: string;
  /** The workflow's `name:`, when it has one (`github.workflow`). */
  workflowName?: string;
  /** `defaults.run` merged from workflow and job level (job wins). */
  defaultShell?: string;
  defaultWorkingDirectory?: string;
  /** The matrix combination this run uses (from the launch argument `matrix`). */
  matrix: Record<string, unknown>;
  /** Job-level `timeout-minutes`, in seconds. */
  timeoutSeconds?: number;
  /**
   * What runs differently here than on GitHub (a `container:`, a Windows runner, …), one note
   * per difference, in the order written (absent when none): the session prints each before the
   * first step.
   */
  launchNotes?: LaunchNote[];
  /** Set for a job of a reusable workflow that a job of the launched workflow calls (`uses:`). */
  call?: { caller: string };
  /** The jobs this one `needs:` (their keys under `jobs:`), in the order written. */
  needs?: string[];
  /** Set when the job-level `if:` is false: GitHub skips the job, so nothing runs. */
  skipped?: { line: number; condition: string };
}

/** One difference from GitHub's runner, said once at launch. */
export interface LaunchNote {
  /** The line of the key in the workflow file. */
  line: number;
  /** One line, naming the key. */
  text: string;
}
