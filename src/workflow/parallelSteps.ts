/**
 * `- parallel: [steps…]` (GitHub Actions, generally available since 2026-06-25: "Actions steps
 * can now be run in parallel"; docs: workflow syntax, jobs.<job_id>.steps[*].parallel): a group
 * of ordinary steps GitHub starts together, continuing once all have ended — as GitHub defines
 * it, background steps followed by a wait for them. Here every step of the group but the last
 * starts in the background (src/job/backgroundSteps.ts), the last runs in the queue beside them,
 * and the job goes on once all have ended; each stays a frame of its own.
 */
import type { ParsedNode } from 'yaml';
import type { YamlSource } from './yamlSource.js';

/** The job's steps with each `parallel:` group replaced by its steps, and each group's step indexes. */
export function parallelGroups(
  source: YamlSource,
  stepNodes: readonly ParsedNode[],
): { steps: ParsedNode[]; groups: number[][] } {
  const steps: ParsedNode[] = [];
  const groups: number[][] = [];
  for (const [index, node] of stepNodes.entries()) {
    const what = `step ${index + 1}`;
    const entries = source.entries(source.map(node, what), what);
    const group = entries.find((entry) => entry.key === 'parallel');
    if (group === undefined) {
      steps.push(node);
      continue;
    }
    source.checkKeys(entries, ['parallel'], `the parallel group of ${what}`);
    const items = source.seq(group.value, `the parallel group of ${what}`).items;
    if (items.length === 0)
      throw source.error(group.keyNode, `the parallel group of ${what} is empty; list the steps it runs`);
    groups.push(items.map((_item, offset) => steps.length + offset));
    steps.push(...items);
  }
  return { steps, groups };
}
