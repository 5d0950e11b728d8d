/**
 * `- parallel: [steps…]` (GitHub Actions, generally available since 2026-06-25: "Actions steps
 * can now be run in parallel"; docs: workflow syntax, jobs.<job_id>.steps[*].parallel): a group
 * of ordinary steps GitHub starts together, continuing once all have ended. A step-by-step
 * debugger runs one step at a time, so relay-dap runs the group's steps one after another, in
 * the order written, each a frame of its own — and says so at launch, one line per group.
 */
import type { ParsedNode } from 'yaml';
import type { LaunchNote } from '../model/jobModel.js';
import type { YamlSource } from './yamlSource.js';

/** The job's steps with each `parallel:` group replaced by its steps, and a note per group. */
export function parallelGroups(
  source: YamlSource,
  stepNodes: readonly ParsedNode[],
): { steps: ParsedNode[]; notes: LaunchNote[] } {
  const steps: ParsedNode[] = [];
  const notes: LaunchNote[] = [];
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
    const line = source.startLine(group.keyNode);
    notes.push({
      line,
      text: `parallel (line ${line}): its ${items.length} steps run one after another here, in the order written, not at the same time as on GitHub`,
    });
    steps.push(...items);
  }
  return { steps, notes };
}
