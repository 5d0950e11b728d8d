/**
 * Validation of DAP messages against the Debug Adapter Protocol's schema.
 *
 * The schema is derived from the protocol's official TypeScript declarations in
 * `@vscode/debugprotocol` (dapSchemaSource.ts), so validation needs nothing outside the repository.
 * The declarations type every number as `number`; the integer ranges the protocol's JSON schema
 * states are added here (`NUMBER_RANGES`), and dapSchemaAgreement.test.ts checks them, and the
 * rest, against the official JSON schema when `../shared/dap/debugAdapterProtocol.json` is there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The named export: under `module: NodeNext` TypeScript types the default import of this CJS package
// as the module namespace (not constructable), while Node's CJS interop also exposes `Ajv` by name.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { cachedDapSchema } from './dapSchemaSource.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The official JSON schema, kept outside the repository (provenance in the SOURCE.md beside it).
 * Only compared against, when present; validation never reads it.
 */
export const dapSchemaPath = path.resolve(repoRoot, '..', 'shared', 'dap', 'debugAdapterProtocol.json');

export type DapSchemaStatus = { available: true } | { available: false; reason: string };

/** The `$id` under which the schema is registered; validators reference `<id>#/definitions/<Name>`. */
const SCHEMA_ID = 'https://relay-dap.invalid/debugAdapterProtocol.json';

type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the official JSON schema at `schemaPath`, or says why it cannot. */
export function readOfficialDapSchema(
  schemaPath: string,
): { schema: JsonObject & { definitions: JsonObject } } | { reason: string } {
  let text: string;
  try {
    text = readFileSync(schemaPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`;
    return {
      reason: `DAP schema ${schemaPath} ${why}; it is kept outside the repository (see SOURCE.md beside it)`,
    };
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return { reason: `DAP schema ${schemaPath} is not valid JSON: ${(error as Error).message}` };
  }
  if (!isObject(schema) || !isObject(schema.definitions)) {
    return { reason: `DAP schema ${schemaPath} has no "definitions" object` };
  }
  return { schema: schema as JsonObject & { definitions: JsonObject } };
}

/** Whether the official schema file at `schemaPath` can be read; for the comparison's skip reason. */
export function checkDapSchema(schemaPath: string): DapSchemaStatus {
  const read = readOfficialDapSchema(schemaPath);
  return 'reason' in read ? { available: false, reason: read.reason } : { available: true };
}

/** How a protocol integer is annotated in the official JSON schema (`format` is checked as a range). */
interface NumberRange {
  type: 'integer' | 'number';
  format?: 'int32' | 'uint32' | 'int64' | 'uint64';
  minimum?: number;
  maximum?: number;
}

const INT32: NumberRange = { type: 'integer', format: 'int32' };
const SEQUENCE: NumberRange = { type: 'integer', format: 'int32', minimum: 1 };
const REFERENCE: NumberRange = { type: 'integer', format: 'int32', minimum: 0 };
const UINT32: NumberRange = { type: 'integer', format: 'uint32' };
const UINT64: NumberRange = { type: 'integer', format: 'uint64', maximum: Number.MAX_SAFE_INTEGER };
const INT64: NumberRange = {
  type: 'integer',
  format: 'int64',
  minimum: -Number.MAX_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
};

/**
 * The protocol's numbers by property name (a name means the same wherever it appears; a
 * `Definition.property` key is the one exception). Not listed: a 32-bit integer (ids, thread ids,
 * frame ids, exit codes, …). Checked against the official JSON schema by dapSchemaAgreement.test.ts.
 */
const NUMBER_RANGES: Record<string, NumberRange> = {
  // Sequence numbers start at 1.
  seq: SEQUENCE,
  request_seq: SEQUENCE,
  requestId: SEQUENCE,
  // References and child counts: 0 means "none".
  variablesReference: REFERENCE,
  sourceReference: REFERENCE,
  namedVariables: REFERENCE,
  indexedVariables: REFERENCE,
  // Positions in a source.
  line: UINT64,
  column: UINT64,
  endLine: UINT64,
  endColumn: UINT64,
  lines: UINT64,
  // Sizes and counts.
  count: UINT64,
  'VariablesArguments.count': UINT32,
  totalModules: UINT64,
  unreadableBytes: UINT64,
  bytes: UINT32,
  bytesWritten: UINT32,
  instructionCount: UINT32,
  length: UINT32,
  levels: UINT32,
  moduleCount: UINT32,
  pointerSize: UINT32,
  selectionLength: UINT32,
  selectionStart: UINT32,
  start: UINT32,
  startFrame: UINT32,
  totalFrames: UINT32,
  width: UINT32,
  // Memory offsets may be negative.
  offset: INT64,
  instructionOffset: INT64,
  // "value range: 0 to 100", the protocol's only fractional number.
  percentage: { type: 'number', minimum: 0, maximum: 100 },
};

/** The range for property `name` of definition `definition` (the declarations' `number`). */
export function numberRangeOf(definition: string, name: string): NumberRange {
  return NUMBER_RANGES[`${definition}.${name}`] ?? NUMBER_RANGES[name] ?? INT32;
}

/**
 * Replaces the declarations' `number` by the protocol's integer ranges, in place. `name` is the
 * property a node belongs to (an array's items belong to the array's property).
 */
function refineNumbers(node: unknown, definition: string, name: string): void {
  if (Array.isArray(node)) {
    node.forEach((item) => refineNumbers(item, definition, name));
    return;
  }
  if (!isObject(node)) return;
  if (node.type === 'number') {
    Object.assign(node, numberRangeOf(definition, name));
  } else if (Array.isArray(node.type)) {
    // `number | string` (a module id): an integer or a string, with no range.
    node.type = (node.type as unknown[]).map((type) => (type === 'number' ? 'integer' : type));
  }
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && isObject(value)) {
      for (const [property, schema] of Object.entries(value)) refineNumbers(schema, definition, property);
    } else if (key !== 'type') {
      refineNumbers(value, definition, name);
    }
  }
}

export interface DapSchema {
  definitions: Record<string, JsonObject>;
  ancestors: Record<string, string[]>;
  protocolVersion: string;
}

/** The derived schema with the protocol's integer ranges, as the validator uses it. */
export function dapSchema(): DapSchema {
  const derived = cachedDapSchema();
  for (const [name, definition] of Object.entries(derived.definitions)) refineNumbers(definition, name, '');
  return derived;
}

interface LoadedSchema {
  ajv: Ajv;
  schema: DapSchema;
}

function loadSchema(): LoadedSchema {
  const schema = dapSchema();
  // allErrors so a failure lists everything wrong at once; union types such as ["string", "null"]
  // are how the generator writes `string | null`.
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  addIntegerFormats(ajv);
  ajv.addSchema({ $id: SCHEMA_ID, definitions: schema.definitions }, SCHEMA_ID);
  return { ajv, schema };
}

/**
 * The schema annotates integers with `format: int32 | uint32 | int64 | uint64`. Ajv would warn about
 * unknown formats on every compile; checking the ranges instead catches e.g. negative line numbers.
 * 64-bit values are limited to the integers a JavaScript number holds exactly.
 */
function addIntegerFormats(ajv: Ajv): void {
  const range = (min: number, max: number) => (value: number) =>
    Number.isInteger(value) && value >= min && value <= max;
  ajv.addFormat('int32', { type: 'number', validate: range(-(2 ** 31), 2 ** 31 - 1) });
  ajv.addFormat('uint32', { type: 'number', validate: range(0, 2 ** 32 - 1) });
  ajv.addFormat('int64', {
    type: 'number',
    validate: range(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
  });
  ajv.addFormat('uint64', { type: 'number', validate: range(0, Number.MAX_SAFE_INTEGER) });
}

let loaded: LoadedSchema | undefined;

/** Loaded on first use, so that importing this module costs nothing. */
function requireSchema(): LoadedSchema {
  loaded ??= loadSchema();
  return loaded;
}

const validators = new Map<string, ValidateFunction>();

function validatorFor(definition: string): ValidateFunction {
  let validate = validators.get(definition);
  if (validate === undefined) {
    validate = requireSchema().ajv.compile({ $ref: `${SCHEMA_ID}#/definitions/${definition}` });
    validators.set(definition, validate);
  }
  return validate;
}

/** Whether `definition` is a message of that kind: its interface extends `base`. */
function derivesFrom(definition: string, base: 'Request' | 'Response' | 'Event'): boolean {
  const { ancestors } = requireSchema().schema;
  return Object.hasOwn(ancestors, definition) && ancestors[definition]!.includes(base);
}

function capitalise(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

function specificOrBase(name: unknown, base: 'Request' | 'Response' | 'Event'): string {
  if (typeof name === 'string' && name !== '') {
    const candidate = `${capitalise(name)}${base}`;
    if (derivesFrom(candidate, base)) return candidate;
  }
  return base;
}

/**
 * The schema definition a message is validated against, or undefined when the message is not an
 * object with a known `type`.
 */
export function dapDefinitionFor(message: unknown): string | undefined {
  if (!isObject(message)) return undefined;
  switch (message.type) {
    case 'request':
      return specificOrBase(message.command, 'Request');
    case 'event':
      return specificOrBase(message.event, 'Event');
    case 'response':
      if (message.success === false) return 'ErrorResponse';
      // A missing or non-boolean `success` is reported by the generic Response definition.
      if (message.success === true) return specificOrBase(message.command, 'Response');
      return 'Response';
    default:
      return undefined;
  }
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(message)' : error.instancePath;
  let text = `${where} ${error.message ?? error.keyword}`;
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    text += `: ${JSON.stringify(params.allowedValues)}`;
  } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    text += `: ${JSON.stringify(params.additionalProperty)}`;
  }
  return text;
}

/**
 * Validates one DAP message (request, response or event) against the schema definition its type and
 * command/event name select. Returns the problems found; an empty array means valid.
 * Throws when the schema cannot be derived, so that a missing schema can never look like success.
 */
export function validateDapMessage(message: unknown): string[] {
  const definition = dapDefinitionFor(message);
  if (definition === undefined) {
    if (!isObject(message)) return [`a DAP message must be a JSON object, got ${describeValue(message)}`];
    return [`/type must be "request", "response" or "event", got ${describeValue(message.type)}`];
  }
  const validate = validatorFor(definition);
  if (validate(message)) return [];
  // Branches of an anyOf can report the same problem twice.
  return [...new Set((validate.errors ?? []).map((error) => `[${definition}] ${describeError(error)}`))];
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

const MAX_JSON_IN_ERROR = 4000;

/** Throws an Error listing every problem and the message itself when the message is not valid. */
export function assertValidDapMessage(message: unknown, context?: string): void {
  const errors = validateDapMessage(message);
  if (errors.length === 0) return;
  let json = JSON.stringify(message, null, 2) ?? String(message);
  if (json.length > MAX_JSON_IN_ERROR) {
    json = `${json.slice(0, MAX_JSON_IN_ERROR)}\n… (${json.length - MAX_JSON_IN_ERROR} more characters)`;
  }
  const prefix = context === undefined ? '' : `${context}: `;
  throw new Error(
    `${prefix}invalid DAP message (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n` +
      errors.map((error) => `  - ${error}`).join('\n') +
      `\nmessage: ${json}`,
  );
}
