/**
 * Compares the schema derived from `@vscode/debugprotocol`'s declarations with the official JSON
 * schema (`../shared/dap/debugAdapterProtocol.json`, when it is there).
 *
 * The two are of different protocol versions (the declarations of the package this project
 * depends on, the JSON of the newest release), so the newer JSON may add definitions and optional
 * properties: those are listed. A failure is what would make validation wrong: a name of the
 * declarations that the JSON lacks, a property whose required-ness differs, a number whose
 * integer range (dapSchema.ts `NUMBER_RANGES`) is not the JSON's, a `$ref` to another definition.
 */
import { isObject } from './dapSchema.js';

type JsonObject = Record<string, unknown>;

export interface SchemaComparison {
  /** Differences that make the derived schema validate differently; each names its place. */
  failures: string[];
  /** What only the official (newer) JSON has. */
  additions: string[];
}

/** A definition with its `allOf` parts (the base by `$ref`, then its own) merged, as the generator writes it. */
function flatten(node: JsonObject, definitions: JsonObject): JsonObject {
  if (!Array.isArray(node.allOf)) return node;
  const properties: JsonObject = {};
  const required = new Set<string>();
  for (const part of node.allOf as unknown[]) {
    if (!isObject(part)) continue;
    const resolved =
      typeof part.$ref === 'string'
        ? flatten(definitions[refName(part.$ref)] as JsonObject, definitions)
        : part;
    Object.assign(properties, resolved.properties);
    for (const name of (resolved.required as string[] | undefined) ?? []) required.add(name);
  }
  return { type: 'object', properties, required: [...required] };
}

function refName(ref: string): string {
  return ref.replace('#/definitions/', '');
}

/** A closed set of values: the JSON may allow more (a newer protocol), never fewer. */
function compareEnums(where: string, derived: unknown, official: unknown, result: SchemaComparison): void {
  if (derived === undefined && official === undefined) return;
  if (!Array.isArray(derived) || !Array.isArray(official)) {
    result.failures.push(
      `${where}: enum is ${JSON.stringify(derived)} here, ${JSON.stringify(official)} in the JSON`,
    );
    return;
  }
  for (const value of derived) {
    if (!official.includes(value))
      result.failures.push(`${where}: ${JSON.stringify(value)} is not in the JSON's enum`);
  }
  for (const value of official) {
    if (!derived.includes(value)) result.additions.push(`${where}: ${JSON.stringify(value)}`);
  }
}

const NUMBER_KEYWORDS = ['format', 'minimum', 'maximum'] as const;

/** JSON's every type, the official schema's way of writing TypeScript's `any` (`{}` here). */
const ANY_TYPE = JSON.stringify(['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']);

function isAny(node: JsonObject): boolean {
  return Object.keys(node).length === 0 || JSON.stringify(node.type) === ANY_TYPE;
}

function isNumeric(node: JsonObject): boolean {
  const types = Array.isArray(node.type) ? (node.type as unknown[]) : [node.type];
  return types.includes('integer') || types.includes('number');
}

function compareNodes(
  where: string,
  derived: JsonObject,
  official: JsonObject,
  result: SchemaComparison,
): void {
  if (typeof derived.$ref === 'string' || typeof official.$ref === 'string') {
    if (derived.$ref !== official.$ref) {
      result.failures.push(
        `${where}: refers to ${String(derived.$ref)} here, ${String(official.$ref)} in the JSON`,
      );
    }
    return; // the definition referred to is compared on its own
  }
  if (isAny(official) || isAny(derived)) {
    if (isAny(official) !== isAny(derived)) {
      result.failures.push(
        `${where}: ${isAny(derived) ? 'any value here, not' : 'not any value here, but'} in the JSON`,
      );
    }
    return;
  }
  if (JSON.stringify(derived.type) !== JSON.stringify(official.type)) {
    result.failures.push(
      `${where}: type is ${JSON.stringify(derived.type)} here, ${JSON.stringify(official.type)} in the JSON`,
    );
  }
  compareEnums(where, derived.enum, official.enum, result);
  if (isNumeric(official) || isNumeric(derived)) {
    for (const keyword of NUMBER_KEYWORDS) {
      if (JSON.stringify(derived[keyword]) !== JSON.stringify(official[keyword])) {
        result.failures.push(
          `${where}: ${keyword} is ${JSON.stringify(derived[keyword])} here, ${JSON.stringify(official[keyword])} in the JSON`,
        );
      }
    }
  }
  if (isObject(derived.additionalProperties) && isObject(official.additionalProperties)) {
    compareNodes(`${where}{}`, derived.additionalProperties, official.additionalProperties, result);
  }
  if (isObject(derived.items) && isObject(official.items)) {
    compareNodes(`${where}[]`, derived.items, official.items, result);
  }
  const derivedProperties = isObject(derived.properties) ? derived.properties : {};
  const officialProperties = isObject(official.properties) ? official.properties : {};
  const derivedRequired = new Set((derived.required as string[] | undefined) ?? []);
  const officialRequired = new Set((official.required as string[] | undefined) ?? []);
  for (const [name, schema] of Object.entries(derivedProperties)) {
    const path = `${where}.${name}`;
    if (!Object.hasOwn(officialProperties, name)) {
      result.failures.push(`${path}: missing from the JSON`);
      continue;
    }
    if (derivedRequired.has(name) !== officialRequired.has(name)) {
      const said = (required: boolean) => (required ? 'required' : 'optional');
      result.failures.push(
        `${path}: ${said(derivedRequired.has(name))} here, ${said(officialRequired.has(name))} in the JSON`,
      );
    }
    compareNodes(path, schema as JsonObject, officialProperties[name] as JsonObject, result);
  }
  for (const name of Object.keys(officialProperties)) {
    if (!Object.hasOwn(derivedProperties, name)) {
      result.additions.push(`${where}.${name} (${officialRequired.has(name) ? 'required' : 'optional'})`);
    }
  }
}

/** Compares every definition of `derived` with the official schema's `definitions`. */
export function compareWithOfficial(
  derived: Record<string, JsonObject>,
  officialDefinitions: JsonObject,
): SchemaComparison {
  const result: SchemaComparison = { failures: [], additions: [] };
  for (const [name, schema] of Object.entries(derived)) {
    const official = officialDefinitions[name];
    if (!isObject(official)) {
      result.failures.push(`${name}: missing from the JSON`);
      continue;
    }
    compareNodes(name, schema, flatten(official, officialDefinitions), result);
  }
  for (const name of Object.keys(officialDefinitions)) {
    if (!Object.hasOwn(derived, name)) result.additions.push(`${name} (definition)`);
  }
  return result;
}

/** The keywords that appear next to a `$ref` anywhere in `schema`. */
export function keywordsBesideRef(schema: unknown): string[] {
  const siblings = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (isObject(node)) {
      if ('$ref' in node) Object.keys(node).forEach((key) => key !== '$ref' && siblings.add(key));
      Object.values(node).forEach(walk);
    }
  };
  walk(schema);
  return [...siblings];
}
