/**
 * A job that calls a reusable workflow (`jobs.<id>.uses: ./.github/workflows/x.yml`): what the
 * caller passes (`with:` as the called workflow's `inputs`, `secrets:` or `secrets: inherit`),
 * its own `needs:` and `if:`, and what the called workflow declares under `on.workflow_call`
 * (its inputs with their defaults and types, and its `outputs`, which read `jobs.<id>`). The
 * run evaluates these when it gets to the call (src/job/workflowRun.ts); the called workflow's
 * jobs are loaded as jobs of the run (workflowPlan.ts).
 *
 * Only a workflow of the same checkout can be called: one in another repository
 * (`owner/repo/.github/workflows/x.yml@ref`) is refused, naming it.
 */
import path from 'node:path';
import { isScalar } from 'yaml';
import type { LocatedCondition, LocatedTemplate } from './locatedExpressions.js';
import { locateCondition, locatedTemplate } from './workflowFile.js';
import type { YamlSource } from './yamlSource.js';
import { type MapEntry } from './yamlSource.js';

export interface WorkflowCall {
  /** The calling job's key under `jobs:`, and its name as a thread shows it. */
  caller: string;
  callerName: string;
  /** The called workflow file, absolute. */
  file: string;
  /** As written after `uses:`. */
  uses: string;
  /** The caller's `needs:`. */
  needs: string[];
  /** The caller's `if:`, when it has one. */
  condition?: { located: LocatedCondition; line: number; text: string };
  /** `with:`, evaluated when the call starts (it may read `needs`, `github`). */
  with: Record<string, LocatedTemplate>;
  /** `secrets: inherit`, or the secrets passed by name. */
  secrets: 'inherit' | Record<string, LocatedTemplate>;
  /** `on.workflow_call.inputs` of the called workflow: default and type of each. */
  inputs: Record<string, { default?: unknown; type?: string }>;
  /** `on.workflow_call.outputs.<name>.value` of the called workflow (reads `jobs.<id>`). */
  outputs: Record<string, LocatedTemplate>;
}

function entryOf(entries: MapEntry[], key: string): MapEntry | undefined {
  return entries.find((entry) => entry.key === key);
}

/** The entries of a mapping written under `item`; none for a key with no value (`workflow_call:`). */
function entriesUnder(source: YamlSource, item: MapEntry | undefined, what: string): MapEntry[] {
  const value = item?.value;
  if (value === undefined || value === null || (isScalar(value) && value.value === null)) return [];
  return source.entries(source.map(value, what), what);
}

/** The directory holding `.github/workflows/`, where `./.github/workflows/x.yml` is found. */
function repositoryOf(file: string): string {
  const repository = /^(.*)[/\\]\.github[/\\]workflows[/\\][^/\\]+$/.exec(file);
  return repository ? repository[1]! : path.dirname(file);
}

/**
 * The call a job makes, from the caller's file; `called` is undefined when the job calls
 * nothing. Throws a JobSourceError for a remote workflow, naming it.
 */
export function readCall(
  source: YamlSource,
  jobId: string,
  callerName: string,
): Omit<WorkflowCall, 'inputs' | 'outputs'> | undefined {
  const jobs = source.entries(
    source.map(entryOf(source.entries(source.root('workflow'), 'the workflow'), 'jobs')!.value, "'jobs'"),
    "'jobs'",
  );
  const job = entryOf(jobs, jobId)!;
  const entries = source.entries(source.map(job.value, `job '${jobId}'`), `job '${jobId}'`);
  const usesEntry = entryOf(entries, 'uses');
  if (usesEntry === undefined) return undefined;
  const uses = source.string(usesEntry.value, `the uses of job '${jobId}'`, usesEntry.keyNode);
  if (!uses.startsWith('./')) {
    throw source.error(
      usesEntry.keyNode,
      `job '${jobId}' calls the reusable workflow ${uses}, which is not in this checkout: relay-dap runs ` +
        `workflows of the checkout (uses: ./.github/workflows/…); open ${uses.split('@')[0]} in a checkout of its repository and launch its jobs there, ` +
        `or give this job's result with the launch argument "needs"`,
    );
  }
  const call: Omit<WorkflowCall, 'inputs' | 'outputs'> = {
    caller: jobId,
    callerName,
    file: path.resolve(repositoryOf(source.path), uses.replace(/@.*$/, '')),
    uses,
    needs: [],
    with: {},
    secrets: {},
  };
  const needs = entryOf(entries, 'needs');
  if (needs?.value) {
    const what = `the needs of job '${jobId}'`;
    call.needs = isScalar(needs.value)
      ? [source.string(needs.value, what, needs.keyNode)]
      : source.seq(needs.value, what).items.map((node) => source.string(node, what, needs.keyNode));
  }
  const condition = entryOf(entries, 'if');
  if (condition !== undefined) {
    const node = condition.value ?? condition.keyNode;
    const text = source.string(condition.value, `the if of job '${jobId}'`, condition.keyNode);
    const line = source.contentLine(node);
    call.condition = { located: locateCondition(source, text, line, node), line, text };
  }
  const withEntry = entryOf(entries, 'with');
  if (withEntry?.value) {
    const what = `the with of job '${jobId}'`;
    for (const input of source.entries(source.map(withEntry.value, what), what)) {
      const text = source.textAsWritten(input.value, `${what}: ${input.key}`);
      call.with[input.key] = locatedTemplate(source, input.value ?? input.keyNode, text);
    }
  }
  const secrets = entryOf(entries, 'secrets');
  if (secrets?.value) {
    const what = `the secrets of job '${jobId}'`;
    if (isScalar(secrets.value) && secrets.value.value === 'inherit') call.secrets = 'inherit';
    else {
      const passed: Record<string, LocatedTemplate> = {};
      for (const secret of source.entries(source.map(secrets.value, what), what)) {
        const text = source.textAsWritten(secret.value, `${what}: ${secret.key}`);
        passed[secret.key] = locatedTemplate(source, secret.value ?? secret.keyNode, text);
      }
      call.secrets = passed;
    }
  }
  return call;
}

/**
 * What the called workflow declares under `on.workflow_call`. Throws a JobSourceError when it
 * does not declare `workflow_call` (GitHub refuses to call it).
 */
export function readCalledInterface(
  called: YamlSource,
  call: Pick<WorkflowCall, 'caller' | 'uses'>,
): Pick<WorkflowCall, 'inputs' | 'outputs'> {
  const root = called.entries(called.root('workflow'), 'the workflow');
  const on = entryOf(root, 'on') ?? entryOf(root, 'true');
  const onValue = on?.value === null || on === undefined ? undefined : called.plainValue(on.value);
  const triggers = typeof onValue === 'string' ? [onValue] : Array.isArray(onValue) ? onValue : undefined;
  const declared = triggers?.includes('workflow_call') ?? false;
  const onEntries =
    on?.value && !isScalar(on.value) && triggers === undefined
      ? called.entries(called.map(on.value, "'on'"), "'on'")
      : [];
  const workflowCall = entryOf(onEntries, 'workflow_call');
  if (workflowCall === undefined && !declared) {
    throw called.error(
      on?.keyNode ?? 1,
      `job '${call.caller}' calls ${call.uses}, which does not declare 'on: workflow_call', so GitHub would refuse to call it: add workflow_call to its 'on:'`,
    );
  }
  const callEntries = entriesUnder(called, workflowCall, "'workflow_call'");
  const inputs: WorkflowCall['inputs'] = {};
  const inputsEntry = entryOf(callEntries, 'inputs');
  if (inputsEntry?.value && !(isScalar(inputsEntry.value) && inputsEntry.value.value === null)) {
    const spec = called.plainValue(inputsEntry.value) as Record<string, Record<string, unknown> | null>;
    for (const [name, value] of Object.entries(spec ?? {})) {
      inputs[name] = {
        ...(value?.default !== undefined ? { default: value.default } : {}),
        ...(typeof value?.type === 'string' ? { type: value.type } : {}),
      };
    }
  }
  const outputs: Record<string, LocatedTemplate> = {};
  const what = "the outputs of 'workflow_call'";
  for (const output of entriesUnder(called, entryOf(callEntries, 'outputs'), what)) {
    const value = entryOf(entriesUnder(called, output, `${what}: ${output.key}`), 'value');
    if (value === undefined) continue;
    const text = called.textAsWritten(value.value, `${what}: ${output.key}.value`);
    outputs[output.key] = locatedTemplate(called, value.value ?? value.keyNode, text, ['jobs']);
  }
  return { inputs, outputs };
}
