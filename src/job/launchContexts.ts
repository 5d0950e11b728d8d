/**
 * A workflow launch's `secrets`, `vars` and `inputs`, read where the workflow file is (the
 * files `.secrets`, `.vars`, `.input` at the repository root and the launch arguments, see
 * launchValues.ts), and what the user hears of them before anything runs: a secrets file others
 * can read or write, and each secret the job reads that was not given (it is then empty, as on
 * GitHub; the line names it, never a value).
 */
import path from 'node:path';
import type { RunContexts } from '../model/expressionContext.js';
import type { GitCheckout } from '../workflow/gitCheckout.js';
import { missingSecretLines, readLaunchValues, type LaunchValueArguments } from '../workflow/launchValues.js';
import { secretNamesRead } from '../workflow/secretReferences.js';
import type { WorkflowJobDefinition } from '../workflow/workflowFile.js';

export type LaunchContexts = Required<Pick<RunContexts, 'secrets' | 'vars' | 'inputs'>>;

export const NO_LAUNCH_CONTEXTS: LaunchContexts = { secrets: {}, vars: {}, inputs: {} };

/**
 * Where the default files are looked for: the checkout's top directory, else the directory
 * holding `.github/workflows/`, else the workflow file's own directory.
 */
export function repositoryRoot(workflowFile: string, git: GitCheckout | undefined): string {
  if (git?.root !== undefined) return git.root;
  const repository = /^(.*)[/\\]\.github[/\\]workflows[/\\][^/\\]+$/.exec(workflowFile);
  return repository ? repository[1]! : path.dirname(workflowFile);
}

/** The values, and the console lines to say at launch. Throws a LaunchValuesError naming a bad file. */
export async function readLaunchContexts(
  job: WorkflowJobDefinition,
  root: string,
  args: LaunchValueArguments,
): Promise<{ contexts: LaunchContexts; lines: string[] }> {
  const { secrets, vars, inputs, warnings } = await readLaunchValues(args, root, job.on);
  return {
    contexts: { secrets, vars, inputs },
    lines: [...warnings, ...missingSecretLines(secretNamesRead(job), secrets)],
  };
}

/**
 * The event payload of a `workflow_dispatch` run: GitHub's holds the run's inputs under `inputs`
 * (`github.event.inputs`, every value a string), so one without them gets the launch's. A payload
 * that has its own `inputs` (launch argument `eventPath`) is left as given.
 */
export function withDispatchInputs(
  eventName: string,
  event: Record<string, unknown>,
  inputs: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  if (eventName !== 'workflow_dispatch' || event.inputs !== undefined) return event;
  const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
  return {
    ...event,
    inputs: Object.fromEntries(Object.entries(inputs).map(([name, value]) => [name, asText(value)])),
  };
}

/** A secret by name, as GitHub looks names up (case does not matter); undefined when not given. */
export function secretNamed(secrets: Readonly<Record<string, string>>, name: string): string | undefined {
  const key = Object.keys(secrets).find((candidate) => candidate.toUpperCase() === name.toUpperCase());
  return key === undefined ? undefined : secrets[key];
}
