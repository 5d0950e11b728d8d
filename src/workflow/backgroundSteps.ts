/**
 * GitHub's background steps (generally available since 2026-06-25, "Actions steps can now be
 * run in parallel"; actions/runner#4416): `background: true` starts a step and goes on at once;
 * the control steps `wait: <id or ids>`, `wait-all: true` and `cancel: <id>` wait for background
 * steps or stop one. Reading them is here; running them beside the queue is src/job/backgroundSteps.ts.
 * Where the relay cannot (a Part-A server, no channels) a background step runs to its end in
 * turn, and a control step has nothing left to wait for or stop: it is shown as a skipped step
 * saying why.
 */
import { isScalar } from 'yaml';
import type { MapEntry, YamlSource } from './yamlSource.js';

export const BACKGROUND_KEYS = ['background', 'wait', 'wait-all', 'cancel'] as const;

export interface ControlStep {
  key: 'wait' | 'wait-all' | 'cancel';
  /** The step ids it names (none for wait-all). */
  ids: string[];
}

/** The control key of a step (`wait`, `wait-all`, `cancel`), or undefined for an ordinary step. */
export function readControl(
  source: YamlSource,
  entries: readonly MapEntry[],
  what: string,
): ControlStep | undefined {
  const found = entries.filter(
    (entry) => entry.key === 'wait' || entry.key === 'wait-all' || entry.key === 'cancel',
  );
  const [control, second] = found;
  if (control === undefined) return undefined;
  if (second !== undefined)
    throw source.error(
      second.keyNode,
      `${what} has both '${control.key}:' and '${second.key}:'; a control step does one`,
    );
  const clash = entries.find(
    (entry) => entry.key === 'run' || entry.key === 'uses' || entry.key === 'background',
  );
  if (clash !== undefined)
    throw source.error(
      clash.keyNode,
      `${what} has '${control.key}:' and '${clash.key}:'; a ${control.key} step runs nothing itself, split it in two`,
    );
  const value = control.value === null ? undefined : source.plainValue(control.value);
  const ids = (Array.isArray(value) ? value : [value]).filter((id): id is string => typeof id === 'string');
  return { key: control.key as ControlStep['key'], ids: control.key === 'wait-all' ? [] : ids };
}

/** The name a control step shows when it has no `name:`. */
export function controlName(control: ControlStep): string {
  if (control.key === 'wait-all') return 'Wait for all background steps';
  return `${control.key === 'wait' ? 'Wait for' : 'Cancel'} ${control.ids.join(', ')}`;
}

/** Why a control step does nothing here: the steps it names already ran to their end. */
export function controlSkipReason(control: ControlStep): string {
  const named = control.key === 'wait-all' ? 'the background steps' : control.ids.join(', ');
  const verb = control.key === 'cancel' ? 'to stop' : 'to wait for';
  return `${control.key}: nothing ${verb}: ${named} already ran to the end (relay-dap runs background steps one after another)`;
}

/** `background: true` (or an expression, taken as true): the step starts beside the queue (src/job/backgroundSteps.ts). */
export function isBackground(entries: readonly MapEntry[]): boolean {
  const node = entries.find((entry) => entry.key === 'background')?.value;
  if (node === undefined) return false;
  return !(node !== null && isScalar(node) && node.value === false);
}
