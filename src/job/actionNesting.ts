/**
 * The actions a job is inside while it runs: a composite action's `uses:` step is entered
 * (its own steps follow it in the job, see actionLoading.ts) and ends only once the last of
 * them has run, with their outcome. The runner asks this which actions end before a position,
 * how deep a step sits (Step Over, Into and Out pause by depth), and the debug view which
 * actions are open (each a frame under the step running inside it).
 */
import type { JobStep } from '../model/jobModel.js';
import { blocks, type StepResult } from '../model/stepResult.js';

export class ActionNesting {
  /** Entered actions, outermost first, with when each began. */
  private open: { index: number; began: number }[] = [];

  constructor(private readonly steps: readonly JobStep[]) {}

  /** The `uses:` steps the job is inside, innermost first. */
  get openSteps(): number[] {
    return this.open.map((entry) => entry.index).reverse();
  }

  /** 0 for a step of the job itself, 1 for a step of an action it uses, … */
  depthOf(index: number): number {
    let depth = 0;
    for (let parent = this.steps[index]?.parent; parent !== undefined; parent = this.steps[parent]?.parent)
      depth++;
    return depth;
  }

  enter(index: number): void {
    this.open.push({ index, began: performance.now() });
  }

  /** Where the job goes after step `index` when its action's steps do not run (skipped, failed to start). */
  after(index: number): number {
    return (this.steps[index]?.lastNested ?? index) + 1;
  }

  /**
   * The actions that end before `position` (innermost first), each with its result: the first
   * of its steps that fails the job decides it (failure or cancelled, with that exit code);
   * steps that never ran in a cancelled job make it cancelled; else a success.
   */
  closeBefore(
    position: number,
    results: readonly (StepResult | undefined)[],
    cancelled: boolean,
  ): StepResult[] {
    const closed: StepResult[] = [];
    for (let top = this.open.at(-1); top !== undefined; top = this.open.at(-1)) {
      const last = this.steps[top.index]?.lastNested ?? top.index;
      if (position <= last && !cancelled) break;
      this.open.pop();
      const inside = results.slice(top.index + 1, last + 1).filter((result) => result !== undefined);
      const failed = inside.find((result) => blocks(result));
      const durationMs = performance.now() - top.began;
      const base = { index: top.index, durationMs, outputTail: failed?.outputTail ?? '' };
      if (failed !== undefined) closed.push({ ...base, outcome: failed.outcome, exitCode: failed.exitCode });
      else if (cancelled && position <= last) closed.push({ ...base, outcome: 'cancelled', exitCode: null });
      else closed.push({ ...base, outcome: 'success', exitCode: 0 });
    }
    return closed;
  }

  /** The job moved to `index` (goto, restart): it is inside the actions that hold that step. */
  moveTo(index: number): void {
    const holding: number[] = [];
    for (let parent = this.steps[index]?.parent; parent !== undefined; parent = this.steps[parent]?.parent)
      holding.unshift(parent);
    this.open = holding.map(
      (entry) => this.open.find((open) => open.index === entry) ?? { index: entry, began: performance.now() },
    );
  }
}
