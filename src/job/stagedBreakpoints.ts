/**
 * Breakpoints of a session, from before its job exists to its end. An editor sends its
 * breakpoints between `initialize` and `configurationDone`, often before the job is read:
 * those are answered at once, unverified, under ids of their own, kept per source, and armed
 * when the job is loaded — the caller then tells the client what became of each, under the id
 * it already knows. After that, everything goes straight to the job's Breakpoints.
 */
import path from 'node:path';
// Types only: Breakpoints (and the expression engine under it) loads with the job, not before.
import type { Breakpoints, BreakpointSpec, BreakpointState, FunctionBreakpointSpec } from './breakpoints.js';
import type { JobDefinition, JobStep } from '../model/jobModel.js';

/** Where a client set line breakpoints: a file by path, or a listing by reference. */
export interface SourceRef {
  path?: string;
  sourceReference?: number;
  name?: string;
}

/** A breakpoint set before the job was loaded, as it stands now that it is. */
export interface ChangedBreakpoint<S extends SourceRef> {
  state: BreakpointState;
  /** The source it was set in (line breakpoints). */
  source?: S;
}

const UNLOADED = 'verified once the job is loaded';

export class StagedBreakpoints<S extends SourceRef> {
  private armed: Breakpoints | undefined;
  private job: JobDefinition | undefined;
  /** Ids of breakpoints not (yet) known to Breakpoints: far above its own, so they never meet. */
  private nextId = 100_000;
  private lines = new Map<string, { source: S; specs: BreakpointSpec[]; ids: number[] }>();
  private functions: { specs: FunctionBreakpointSpec[]; ids: number[] } | undefined;
  private filters: readonly string[] | undefined;

  constructor(
    /** Whether breakpoints in `source` are breakpoints in `job`. */
    private readonly inJob: (source: S, job: JobDefinition) => boolean,
  ) {}

  /** The job's Breakpoints, once it is loaded: its pause policy. */
  get policy(): Breakpoints | undefined {
    return this.armed;
  }

  setLineBreakpoints(source: S, specs: BreakpointSpec[]): BreakpointState[] {
    const { armed, job } = this;
    if (!armed || !job) {
      const ids = specs.map(() => this.nextId++);
      const key = source.path ?? `reference:${source.sourceReference ?? source.name ?? ''}`;
      this.lines.set(key, { source, specs, ids });
      return specs.map((spec, i) => ({ id: ids[i]!, verified: false, line: spec.line, message: UNLOADED }));
    }
    if (!this.inJob(source, job)) {
      return specs.map((spec) => ({
        id: this.nextId++,
        verified: false,
        line: spec.line,
        message: notInJob(job),
      }));
    }
    return armed.setLineBreakpoints(specs, fileOf(source));
  }

  setFunctionBreakpoints(specs: FunctionBreakpointSpec[]): BreakpointState[] {
    if (this.armed) return this.armed.setFunctionBreakpoints(specs);
    const ids = specs.map(() => this.nextId++);
    this.functions = { specs, ids };
    return ids.map((id) => ({ id, verified: false, message: UNLOADED }));
  }

  setExceptionFilters(filters: readonly string[]): void {
    if (this.armed) this.armed.setExceptionFilters(filters);
    else this.filters = filters;
  }

  /** The step whose lines hold `line`, once the job is loaded. */
  stepAtLine(line: number): JobStep | undefined {
    return this.armed?.stepAtLine(line);
  }

  /**
   * The job is loaded: arm what was staged on `armed` (the Breakpoints of `job` and of the
   * other jobs of its run), and return each staged breakpoint as it stands now, under the id
   * the client was given.
   */
  load(armed: Breakpoints, job: JobDefinition): ChangedBreakpoint<S>[] {
    this.armed = armed;
    this.job = job;
    if (this.filters) armed.setExceptionFilters(this.filters);
    const changed: ChangedBreakpoint<S>[] = [];
    for (const { source, specs, ids } of this.lines.values()) {
      const states: BreakpointState[] = this.inJob(source, job)
        ? armed.setLineBreakpoints(specs, fileOf(source))
        : specs.map((spec, i) => ({ id: ids[i]!, verified: false, line: spec.line, message: notInJob(job) }));
      states.forEach((state, i) => changed.push({ state: this.renumber(state, ids[i]!), source }));
    }
    const functions = this.functions;
    if (functions) {
      armed
        .setFunctionBreakpoints(functions.specs)
        .forEach((state, i) => changed.push({ state: this.renumber(state, functions.ids[i]!) }));
    }
    this.lines.clear();
    this.functions = undefined;
    this.filters = undefined;
    return changed;
  }

  private renumber(state: BreakpointState, id: number): BreakpointState {
    this.armed!.renumber(state.id, id);
    return { ...state, id };
  }
}

/** The file a source names, absolute (a listing has none). */
function fileOf(source: SourceRef): string | undefined {
  return source.path === undefined ? undefined : path.resolve(source.path);
}

function notInJob(job: JobDefinition): string {
  return `not in the job's source (${job.sourcePath ?? 'its listing'})`;
}
