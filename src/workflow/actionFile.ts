/**
 * An action's metadata file (action.yml or action.yaml) as GitHub reads it ("Metadata syntax for
 * GitHub Actions"): its inputs with their defaults, its outputs, and how it runs — a composite's
 * steps (read as a workflow's steps are, with lines and parsed expressions, so breakpoints and
 * errors point into the action.yml), a JavaScript action's `main`/`pre`/`post`, or a Docker image.
 */
import type { ParsedNode } from 'yaml';
import type { LocatedTemplate } from './locatedExpressions.js';
import { locatedTemplate, readActionSteps } from './workflowFile.js';
import type { ActionDefinition, ActionRuns } from './workflowStep.js';

export type { ActionDefinition, ActionRuns, UsedAction } from './workflowStep.js';
import { type MapEntry, YamlSource } from './yamlSource.js';

/** The names GitHub looks for in an action's directory, in its order. */
export const ACTION_FILE_NAMES = ['action.yml', 'action.yaml'] as const;

const KIND = 'action metadata file';
/** What an action's expressions may read beyond a workflow step's contexts. */
const ACTION_CONTEXTS = ['inputs'] as const;

function entry(entries: MapEntry[], key: string): MapEntry | undefined {
  return entries.find((candidate) => candidate.key === key);
}

/** Parses an action.yml (`text` read by the caller); throws a JobSourceError naming file and line. */
export function loadActionFile(file: string, text: string): ActionDefinition {
  const source = YamlSource.load(file, KIND, text);
  const root = source.entries(source.root(KIND), 'the action');
  const name = entry(root, 'name');
  const runsEntry = entry(root, 'runs');
  if (runsEntry === undefined) {
    throw source.error(1, "the action has no 'runs:'; an action.yml says how it runs under 'runs:'");
  }
  return {
    file: source.path,
    name: name === undefined ? '' : source.textAsWritten(name.value, 'the name of the action'),
    inputs: readInputs(source, entry(root, 'inputs')),
    outputs: readOutputs(source, entry(root, 'outputs')),
    runs: readRuns(source, runsEntry),
  };
}

function readInputs(source: YamlSource, item: MapEntry | undefined): ActionDefinition['inputs'] {
  const inputs: ActionDefinition['inputs'] = {};
  forEachNamed(source, item, 'input', (name, fields, what) => {
    const written = entry(fields, 'default');
    inputs[name] =
      written === undefined ? {} : { default: template(source, written, `the default of ${what}`) };
  });
  return inputs;
}

function readOutputs(source: YamlSource, item: MapEntry | undefined): ActionDefinition['outputs'] {
  const outputs: ActionDefinition['outputs'] = {};
  forEachNamed(source, item, 'output', (name, fields, what) => {
    const value = entry(fields, 'value');
    if (value !== undefined) outputs[name] = template(source, value, `the value of ${what}`);
  });
  return outputs;
}

/** `inputs:` and `outputs:` are mappings of names to mappings of fields: each name with its fields. */
function forEachNamed(
  source: YamlSource,
  item: MapEntry | undefined,
  kind: 'input' | 'output',
  each: (name: string, fields: MapEntry[], what: string) => void,
): void {
  if (item === undefined || item.value === null) return;
  const where = `'${kind}s'`;
  for (const named of source.entries(source.map(item.value, where), where)) {
    const what = `${kind} '${named.key}'`;
    each(named.key, named.value === null ? [] : source.entries(source.map(named.value, what), what), what);
  }
}

function readRuns(source: YamlSource, runsEntry: MapEntry): ActionRuns {
  const runs = source.entries(source.map(runsEntry.value, "'runs'"), "'runs'");
  const using = entry(runs, 'using');
  if (using === undefined) {
    throw source.error(runsEntry.keyNode, "'runs:' has no 'using:' (composite, node20, node24 or docker)");
  }
  const written = source.string(using.value, "'runs.using'", using.keyNode);
  const optional = (key: string): string | undefined => {
    const found = entry(runs, key);
    return found === undefined ? undefined : source.string(found.value, `'runs.${key}'`, found.keyNode);
  };
  if (written === 'composite') {
    const steps = entry(runs, 'steps');
    if (steps === undefined) throw source.error(runsEntry.keyNode, "a composite action needs 'runs.steps:'");
    return { using: 'composite', steps: readActionSteps(source, steps.value, 'the steps of the action') };
  }
  if (/^node\d+$/.test(written)) {
    const main = optional('main');
    if (main === undefined) throw source.error(using.keyNode, `a ${written} action needs 'runs.main:'`);
    const pre = optional('pre');
    const post = optional('post');
    const preIf = optional('pre-if');
    const postIf = optional('post-if');
    return {
      using: 'node',
      runtime: written,
      main,
      ...(pre !== undefined ? { pre } : {}),
      ...(post !== undefined ? { post } : {}),
      ...(preIf !== undefined ? { preIf } : {}),
      ...(postIf !== undefined ? { postIf } : {}),
    };
  }
  if (written === 'docker') return { using: 'docker', image: optional('image') ?? '' };
  return { using: 'other', written };
}

function template(source: YamlSource, item: MapEntry, what: string): LocatedTemplate {
  const node: ParsedNode = item.value ?? item.keyNode;
  return locatedTemplate(source, node, source.textAsWritten(item.value, what), ACTION_CONTEXTS);
}
