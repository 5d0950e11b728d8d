/**
 * What a workflow job asks of GitHub's runner that relay-dap does not do: a `container:` or
 * `services:`, a Windows or macOS runner, `permissions`, `concurrency`, an `environment`. The job
 * still runs (its steps are what one debugs), but never silently differently: each difference
 * becomes one console line at launch, naming the key and its line.
 */
import type { ParsedNode } from 'yaml';
import type { LaunchNote } from '../model/jobModel.js';
import type { MapEntry, YamlSource } from './yamlSource.js';

const WHERE_STEPS_RUN = 'the steps run where the relay server runs';

/**
 * The differences of one job, in the order of their lines. `rootEntries`: the workflow's
 * top-level keys (`permissions` and `concurrency` may be set for the whole workflow).
 */
export function runnerDifferences(
  source: YamlSource,
  rootEntries: readonly MapEntry[],
  jobEntries: readonly MapEntry[],
  /** A label as the runner sees it (`${{ matrix.os }}` evaluated when only the matrix is read). */
  resolve: (text: string) => string,
): LaunchNote[] {
  const notes: LaunchNote[] = [];
  const note = (item: MapEntry, text: string): void => {
    const line = source.startLine(item.keyNode);
    notes.push({ line, text: `${item.key} (line ${line}): ${text}` });
  };
  for (const item of rootEntries) {
    if (item.key === 'permissions') note(item, PERMISSIONS);
    if (item.key === 'concurrency') note(item, CONCURRENCY);
  }
  for (const item of jobEntries) {
    switch (item.key) {
      case 'container': {
        const image = containerImage(source, item.value);
        note(item, `${image} is not used: ${WHERE_STEPS_RUN}, not in that image`);
        break;
      }
      case 'services': {
        const services = serviceNames(source, item.value);
        note(
          item,
          `${services === '' ? 'the service containers' : services} not started: ${WHERE_STEPS_RUN}, without them`,
        );
        break;
      }
      case 'runs-on': {
        const system = nonLinuxSystem(source, item.value, resolve);
        if (system !== undefined && system.name === undefined)
          note(
            item,
            `${system.label} is decided on GitHub when the run starts; whatever it names, the steps run in Linux bash on the relay server's side`,
          );
        else if (system !== undefined)
          note(
            item,
            `${system.label} is not used: the steps run in Linux bash on the relay server's side, not on ${system.name}`,
          );
        break;
      }
      case 'permissions':
        note(item, PERMISSIONS);
        break;
      case 'concurrency':
        note(item, CONCURRENCY);
        break;
      case 'environment': {
        const name = environmentName(source, item.value);
        note(
          item,
          `${name === undefined ? '' : `${name}: `}its protection rules and environment secrets do not apply here`,
        );
        break;
      }
    }
  }
  return notes.sort((a, b) => a.line - b.line);
}

const PERMISSIONS = "not applied: they scope GitHub's GITHUB_TOKEN, which relay-dap does not issue";
const CONCURRENCY = 'not applied: other runs in the same group are neither queued nor cancelled';

/** `container: alpine:3.20` or `container: {image: alpine:3.20, …}`: the image, as written. */
function containerImage(source: YamlSource, node: ParsedNode | null): string {
  const value = node === null ? undefined : source.plainValue(node);
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.image === 'string') return value.image;
  return 'the container';
}

/** `postgres (postgres:16), redis (redis:7)`: each service with its image. */
function serviceNames(source: YamlSource, node: ParsedNode | null): string {
  const value = node === null ? undefined : source.plainValue(node);
  if (!isRecord(value)) return '';
  return Object.entries(value)
    .map(([name, service]) => {
      const image = isRecord(service) && typeof service.image === 'string' ? service.image : undefined;
      return image === undefined ? name : `${name} (${image})`;
    })
    .join(', ');
}

/**
 * A Windows or macOS runner label (`windows-latest`, `[self-hosted, macOS]`, `{labels: …}`), or
 * (no `name`) a label computed by an expression that cannot be evaluated before the run (it reads
 * `needs` or `inputs`): GitHub may pick any runner for it.
 */
function nonLinuxSystem(
  source: YamlSource,
  node: ParsedNode | null,
  resolve: (text: string) => string,
): { label: string; name?: string } | undefined {
  const value = node === null ? undefined : source.plainValue(node);
  const labels = isRecord(value) ? value.labels : value;
  const list = (Array.isArray(labels) ? labels : [labels])
    .filter((label): label is string => typeof label === 'string')
    .map(resolve);
  for (const label of list) {
    if (/^windows/i.test(label)) return { label, name: 'Windows' };
    if (/^macos/i.test(label)) return { label, name: 'macOS' };
  }
  const computed = list.find((label) => label.includes('${{'));
  return computed === undefined ? undefined : { label: computed };
}

/** `environment: production` or `environment: {name: production, url: …}`. */
function environmentName(source: YamlSource, node: ParsedNode | null): string | undefined {
  const value = node === null ? undefined : source.plainValue(node);
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.name === 'string') return value.name;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
