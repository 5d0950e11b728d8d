/**
 * A job from the launch argument `program`: a GitHub Actions workflow (under
 * .github/workflows/, or any YAML with `on:` and `jobs:`) or a plain job file. Frames point
 * into the file itself, at the steps' real lines.
 */
import { readUserText } from '../io/userFile.js';
import { loadJobFile } from '../workflow/jobFile.js';
import { evaluateJobEnv, loadWorkflowJob } from '../workflow/workflowFile.js';
import { planWorkflowRun } from '../workflow/workflowPlan.js';
import type { JobDefinition } from '../model/jobModel.js';

export interface ProgramOptions {
  job?: string;
  matrix?: Record<string, unknown>;
}

export interface ProgramRunOptions extends ProgramOptions {
  /** Jobs whose `needs` values the launch gives: they do not run. */
  supplied?: readonly string[];
}

export function isWorkflowFile(file: string, text: string): boolean {
  return (
    /[/\\]\.github[/\\]workflows[/\\][^/\\]+\.ya?ml$/.test(file) ||
    (/^on:/m.test(text) && /^jobs:/m.test(text))
  );
}

/** The file `program` names, and its text. */
async function readProgram(program: string): Promise<{ file: string; text: string }> {
  // Never a blocking read: `program` may name a FIFO or /dev/zero (refused, as is a huge file).
  return readUserText(
    program,
    'job file',
    'give `program` as an absolute path (for example "${workspaceFolder}/.github/workflows/ci.yml")',
  );
}

export async function loadProgram(program: string, options: ProgramOptions = {}): Promise<JobDefinition> {
  const { file, text } = await readProgram(program);
  if (!isWorkflowFile(file, text)) return loadJobFile(file, text);
  const job = loadWorkflowJob(file, options, text);
  // Job-level env may use the matrix; it is the same for every step, so evaluate it once.
  return { ...job, env: evaluateJobEnv(job) };
}

/**
 * The jobs a launch of `program` runs, in run order: a job file's one job, or a workflow's
 * launched job after the jobs it needs (every job, without `job`; see workflowPlan.ts).
 */
export async function loadProgramRun(
  program: string,
  options: ProgramRunOptions = {},
): Promise<JobDefinition[]> {
  const { file, text } = await readProgram(program);
  if (!isWorkflowFile(file, text)) return [loadJobFile(file, text)];
  const planned = await planWorkflowRun(
    file,
    text,
    options,
    async (called) => (await readProgram(called)).text,
  );
  return planned.map(({ job }) => ({ ...job, env: evaluateJobEnv(job) }));
}
