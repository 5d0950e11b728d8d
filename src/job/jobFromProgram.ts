/**
 * A job from the launch argument `program`: a GitHub Actions workflow (under
 * .github/workflows/, or any YAML with `on:` and `jobs:`) or a plain job file. Frames point
 * into the file itself, at the steps' real lines.
 */
import path from 'node:path';
import { JOB_FILE_LIMIT, readUserText } from '../io/userFile.js';
import { loadJobFile } from '../workflow/jobFile.js';
import { evaluateJobEnv, loadWorkflowJob } from '../workflow/workflowFile.js';
import type { JobDefinition } from '../model/jobModel.js';

export interface ProgramOptions {
  job?: string;
  matrix?: Record<string, unknown>;
}

export function isWorkflowFile(file: string, text: string): boolean {
  return (
    /[/\\]\.github[/\\]workflows[/\\][^/\\]+\.ya?ml$/.test(file) ||
    (/^on:/m.test(text) && /^jobs:/m.test(text))
  );
}

export async function loadProgram(program: string, options: ProgramOptions = {}): Promise<JobDefinition> {
  const file = path.resolve(program);
  // Never a blocking read: `program` may name a FIFO or /dev/zero (refused, as is a huge file).
  const text = await readUserText(
    file,
    'job file',
    JOB_FILE_LIMIT,
    'give `program` as an absolute path (for example "${workspaceFolder}/.github/workflows/ci.yml")',
  );
  if (!isWorkflowFile(file, text)) return loadJobFile(file, text);
  const job = loadWorkflowJob(file, options, text);
  // Job-level env may use the matrix; it is the same for every step, so evaluate it once.
  return { ...job, env: evaluateJobEnv(job) };
}
