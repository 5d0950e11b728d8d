/**
 * Which jobs of a workflow a launch runs, and in which order: the launched job and, before it,
 * the jobs it `needs` (transitively), or every job when the launch names none. Jobs run one
 * after another in dependency order (file order among jobs whose needs are met), so the
 * `outputs` and `result` of each are known before a job that needs it starts.
 *
 * A job whose needs the launch supplies (the launch argument `needs`) does not run, nor do
 * the jobs only it needed. A needed job with a matrix runs every combination, as GitHub does
 * (each is its own job); the launched job runs the one combination the launch chooses, as before.
 */
import { isScalar, type ParsedNode } from 'yaml';
import { basename } from 'node:path';
import type { JobDefinition } from '../model/jobModel.js';
import { expandMatrix, MatrixError } from './matrix.js';
import { readCall, readCalledInterface, type WorkflowCall } from './workflowCall.js';
import { readWorkflowJob, type WorkflowJobDefinition } from './workflowFile.js';
import { JobSourceError, type MapEntry, YamlSource } from './yamlSource.js';

export interface WorkflowPlanOptions {
  /** The launched job (the launch argument `job`); absent: every job of the workflow. */
  job?: string;
  /** The launched job's matrix combination. */
  matrix?: Record<string, unknown>;
  /** Jobs whose `outputs` and `result` the launch gives: they do not run. */
  supplied?: readonly string[];
}

/** One job to run, in run order. A matrix job appears once per combination. */
export interface PlannedJob {
  /** Its key under `jobs:`. */
  jobId: string;
  job: WorkflowJobDefinition | CalledJobDefinition;
}

/**
 * A job of a reusable workflow that a job of the launched workflow calls: it runs with what the
 * call passes (`calledBy`), in the caller's place among the jobs.
 */
export interface CalledJobDefinition extends WorkflowJobDefinition {
  calledBy: WorkflowCall;
}

/** The call a job of the run belongs to, when it is a job of a called workflow. */
export function callOf(job: JobDefinition): WorkflowCall | undefined {
  return 'calledBy' in job ? (job as CalledJobDefinition).calledBy : undefined;
}

/** Reads a called workflow file (the caller reads it as it reads the launched one). */
export type ReadWorkflow = (file: string) => Promise<string>;

interface JobHeader {
  id: string;
  needs: string[];
  keyNode: ParsedNode;
  /** `strategy.matrix` as written, when there is one. */
  matrix?: unknown;
  /** The job calls a reusable workflow (`uses:`). */
  calls: boolean;
}

const KIND = 'workflow';

/**
 * The jobs a launch of `path` runs. A workflow with one job, or a launched job that needs
 * nothing (or whose needs are all supplied), is a plan of one job, as a launch always was.
 * Throws a JobSourceError naming the file, the line and what to do.
 */
export async function planWorkflowRun(
  path: string,
  text: string,
  options: WorkflowPlanOptions,
  read: ReadWorkflow,
): Promise<PlannedJob[]> {
  const source = YamlSource.load(path, KIND, text);
  const headers = readHeaders(source);
  if (options.job === undefined && headers.length === 1 && !headers[0]!.calls) {
    return [single(source, headers[0]!.id, options.matrix)];
  }
  for (const supplied of options.supplied ?? []) {
    if (!headers.some((header) => header.id === supplied)) {
      throw source.error(
        undefined,
        `the launch argument "needs" names job '${supplied}', which the workflow does not have; its jobs are ${headers.map((h) => h.id).join(', ')}`,
      );
    }
  }
  const order = runOrder(source, headers, options);
  const planned: PlannedJob[] = [];
  for (const header of order) {
    if (header.calls) planned.push(...(await calledJobs(source, header.id, read)));
    else if (header.id === options.job) planned.push(single(source, header.id, options.matrix));
    else
      planned.push(
        ...needed(header.id, options.job, () =>
          combinations(source, header, options.job).map((matrix) => single(source, header.id, matrix)),
        ),
      );
  }
  return planned;
}

/**
 * The jobs of the workflow a job calls, in their own order, each knowing the call. A called
 * workflow that calls another is refused (one level of calls is what relay-dap runs).
 */
async function calledJobs(source: YamlSource, caller: string, read: ReadWorkflow): Promise<PlannedJob[]> {
  const workflowName = workflowNameOf(source);
  const call = readCall(source, caller, `${workflowName} / ${caller}`)!;
  let text: string;
  try {
    text = await read(call.file);
  } catch (error) {
    throw source.error(
      undefined,
      `job '${caller}' calls ${call.uses}, which cannot be read: ${(error as Error).message}`,
    );
  }
  const called = YamlSource.load(call.file, KIND, text);
  const full: WorkflowCall = { ...call, ...readCalledInterface(called, call) };
  const headers = readHeaders(called);
  const nested = headers.find((header) => header.calls);
  if (nested !== undefined) {
    throw called.error(
      nested.keyNode,
      `job '${nested.id}' of ${call.uses} (called by '${caller}') calls another workflow: relay-dap runs one level of reusable workflows; launch ${call.uses} itself`,
    );
  }
  return runOrder(called, headers, {}).flatMap((header) =>
    combinations(called, header, undefined).map((matrix) => {
      const job = readWorkflowJob(called, {
        job: header.id,
        ...(matrix ? { matrix } : {}),
        called: { caller, callerName: full.callerName },
      });
      return { jobId: header.id, job: { ...job, calledBy: full } };
    }),
  );
}

function workflowNameOf(source: YamlSource): string {
  const name = source.entries(source.root(KIND), 'the workflow').find((entry) => entry.key === 'name');
  return name?.value && isScalar(name.value) && typeof name.value.value === 'string'
    ? name.value.value
    : basename(source.path);
}

/**
 * Loads a job the launched one needs: what stops it from loading stops the launch, and the
 * message says which job is needed, and that the launch can give its result instead.
 */
function needed(jobId: string, launched: string | undefined, load: () => PlannedJob[]): PlannedJob[] {
  try {
    return load();
  } catch (error) {
    if (!(error instanceof JobSourceError) || launched === undefined || error.reason.includes('needed by'))
      throw error;
    throw new JobSourceError(
      error.file,
      error.line,
      `job '${jobId}' (needed by '${launched}'): ${error.reason}; or give its result with the launch argument "needs", e.g. "needs": {"${jobId}": {"result": "success", "outputs": {}}}`,
      error.expressionError,
    );
  }
}

function single(source: YamlSource, jobId: string, matrix: Record<string, unknown> | undefined): PlannedJob {
  return { jobId, job: readWorkflowJob(source, { job: jobId, ...(matrix ? { matrix } : {}) }) };
}

/** Every combination of a needed job's matrix; one without a matrix runs once. */
function combinations(
  source: YamlSource,
  header: JobHeader,
  launched: string | undefined,
): (Record<string, unknown> | undefined)[] {
  const matrix = header.matrix;
  if (matrix === undefined) return [undefined];
  const neededBy = launched === undefined ? '' : ` (needed by '${launched}')`;
  const giveIt =
    launched === undefined
      ? 'launch one job with the launch argument "job"'
      : `give its result with the launch argument "needs", e.g. "needs": {"${header.id}": {"result": "success", "outputs": {}}}`;
  if (typeof matrix !== 'object' || matrix === null || Array.isArray(matrix)) {
    throw source.error(
      header.keyNode,
      `job '${header.id}'${neededBy} has a matrix computed when the run starts, so relay-dap cannot know its combinations: ${giveIt}`,
    );
  }
  try {
    return expandMatrix(matrix as Record<string, unknown>);
  } catch (error) {
    if (!(error instanceof MatrixError)) throw error;
    throw source.error(header.keyNode, `job '${header.id}'${neededBy}: ${error.message}; ${giveIt}`);
  }
}

/** Each job's id, `needs:` and matrix, checked only as far as ordering them needs. */
function readHeaders(source: YamlSource): JobHeader[] {
  const rootEntries = source.entries(source.root(KIND), 'the workflow');
  const jobsEntry = rootEntries.find((entry) => entry.key === 'jobs');
  if (jobsEntry === undefined) {
    throw source.error(1, "the workflow has no 'jobs:'; a workflow file lists its jobs under 'jobs:'");
  }
  const jobs = source.entries(source.map(jobsEntry.value, "'jobs'"), "'jobs'");
  if (jobs.length === 0) throw source.error(jobsEntry.keyNode, "'jobs:' is empty; add a job");
  return jobs.map((job) => {
    const entries = source.entries(source.map(job.value, `job '${job.key}'`), `job '${job.key}'`);
    const header: JobHeader = {
      id: job.key,
      needs: needsOf(source, entries, job.key),
      keyNode: job.keyNode,
      calls: entries.some((entry) => entry.key === 'uses'),
    };
    const strategy = entries.find((entry) => entry.key === 'strategy')?.value;
    if (strategy !== undefined && strategy !== null && !isScalar(strategy)) {
      const matrix = source
        .entries(source.map(strategy, `the strategy of job '${job.key}'`), `the strategy of job '${job.key}'`)
        .find((entry) => entry.key === 'matrix')?.value;
      if (matrix !== undefined && matrix !== null) header.matrix = source.plainValue(matrix);
    }
    return header;
  });
}

function needsOf(source: YamlSource, entries: MapEntry[], jobId: string): string[] {
  const item = entries.find((entry) => entry.key === 'needs');
  if (item === undefined || item.value === null) return [];
  const what = `the needs of job '${jobId}'`;
  if (isScalar(item.value)) return [source.string(item.value, what, item.keyNode)];
  return source.seq(item.value, what).items.map((node) => source.string(node, what, item.keyNode));
}

/**
 * The jobs to run, each after the jobs it needs: the launched job's needs (transitively, less
 * those supplied) and the job itself, or every job. A need naming no job, or needs that form
 * a cycle, are refused as GitHub refuses the workflow.
 */
function runOrder(source: YamlSource, headers: JobHeader[], options: WorkflowPlanOptions): JobHeader[] {
  const byId = new Map(headers.map((header) => [header.id, header]));
  for (const header of headers) {
    for (const need of header.needs) {
      if (!byId.has(need)) {
        throw source.error(
          header.keyNode,
          `job '${header.id}' needs '${need}', which is not a job of this workflow (its jobs are ${headers.map((h) => h.id).join(', ')})`,
        );
      }
    }
  }
  const supplied = new Set(options.supplied ?? []);
  const wanted = new Set<string>();
  const want = (id: string): void => {
    if (wanted.has(id)) return;
    wanted.add(id);
    for (const need of byId.get(id)!.needs) if (!supplied.has(need)) want(need);
  };
  if (options.job === undefined) headers.forEach((header) => want(header.id));
  else if (byId.has(options.job)) want(options.job);
  else {
    throw source.error(
      undefined,
      `the workflow has no job '${options.job}'; its jobs are ${headers.map((h) => h.id).join(', ')}`,
    );
  }
  const order: JobHeader[] = [];
  const placed = new Set<string>();
  while (order.length < wanted.size) {
    const ready = headers.find(
      (header) =>
        wanted.has(header.id) &&
        !placed.has(header.id) &&
        header.needs.every((need) => placed.has(need) || !wanted.has(need)),
    );
    if (ready === undefined) {
      const stuck = headers.filter((header) => wanted.has(header.id) && !placed.has(header.id));
      throw source.error(
        stuck[0]!.keyNode,
        `the needs of jobs ${stuck.map((h) => `'${h.id}'`).join(', ')} form a cycle, so none of them can start: remove one of those needs`,
      );
    }
    order.push(ready);
    placed.add(ready.id);
  }
  return order;
}
