/**
 * Validation of DAP messages against the official Debug Adapter Protocol JSON schema.
 *
 * The schema lives outside the repository (`../shared/dap/debugAdapterProtocol.json`, provenance in
 * the SOURCE.md beside it) and must not be copied in, so it may be missing on some machines: tests
 * check `dapSchemaStatus` and skip with its reason instead of failing or, worse, passing vacuously.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The named export: under `module: NodeNext` TypeScript types the default import of this CJS package
// as the module namespace (not constructable), while Node's CJS interop also exposes `Ajv` by name.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the schema file this module reads. */
export const dapSchemaPath = path.resolve(repoRoot, '..', 'shared', 'dap', 'debugAdapterProtocol.json');

export type DapSchemaStatus = { available: true } | { available: false; reason: string };

/** The `$id` under which the schema is registered; validators reference `<id>#/definitions/<Name>`. */
const SCHEMA_ID = 'https://relay-dap.invalid/debugAdapterProtocol.json';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface LoadedSchema {
  ajv: Ajv;
  definitions: JsonObject;
}

function loadSchema(schemaPath: string): LoadedSchema | string {
  let text: string;
  try {
    text = readFileSync(schemaPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is missing' : `cannot be read (${code ?? String(error)})`;
    return `DAP schema ${schemaPath} ${why}; it is kept outside the repository (see SOURCE.md beside it)`;
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    return `DAP schema ${schemaPath} is not valid JSON: ${(error as Error).message}`;
  }
  if (!isObject(schema) || !isObject(schema.definitions)) {
    return `DAP schema ${schemaPath} has no "definitions" object`;
  }
  patchSchema(schema);
  // strict: false because the schema uses annotation keywords Ajv does not know (`_enum`,
  // `enumDescriptions`) and union types such as ["integer", "number", ...]; allErrors so a failure
  // lists everything wrong at once.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addIntegerFormats(ajv);
  try {
    ajv.addSchema(schema, SCHEMA_ID);
  } catch (error) {
    return `DAP schema ${schemaPath} was rejected by Ajv: ${(error as Error).message}`;
  }
  return { ajv, definitions: schema.definitions };
}

/**
 * Adapts the draft-04 document to Ajv 8 (which speaks draft-07 and later), in memory only.
 */
function patchSchema(schema: JsonObject): void {
  // Ajv 8 has no draft-04 meta-schema and would refuse the whole document because of this marker.
  // Nothing else in the file is draft-04 specific (no boolean exclusiveMinimum/Maximum, no `id`).
  delete schema.$schema;
  schema.$id = SCHEMA_ID;

  // `RestartArguments.arguments` is `oneOf: [LaunchRequestArguments, AttachRequestArguments]`, but
  // both are open objects with no required property, so every object matches both and `oneOf`
  // ("exactly one") rejects every restart request that carries arguments. The intent is "either".
  const definitions = schema.definitions as JsonObject;
  const restart = definitions.RestartArguments;
  if (isObject(restart) && isObject(restart.properties) && isObject(restart.properties.arguments)) {
    const args = restart.properties.arguments;
    if (Array.isArray(args.oneOf)) {
      args.anyOf = args.oneOf;
      delete args.oneOf;
    }
  }
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

function statusOf(result: LoadedSchema | string): DapSchemaStatus {
  return typeof result === 'string' ? { available: false, reason: result } : { available: true };
}

/** Whether a schema file at `schemaPath` would load and compile; for testing the failure reasons. */
export function checkDapSchema(schemaPath: string): DapSchemaStatus {
  return statusOf(loadSchema(schemaPath));
}

const loaded = loadSchema(dapSchemaPath);

export const dapSchemaStatus: DapSchemaStatus = statusOf(loaded);

/** For describe titles: empty, or why the block is skipped (the schema is missing). */
export const schemaNote: string = dapSchemaStatus.available ? '' : ` (skipped: ${dapSchemaStatus.reason})`;

function requireSchema(): LoadedSchema {
  if (typeof loaded === 'string') throw new Error(`cannot validate DAP messages: ${loaded}`);
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

/** `allOf[0]` of every concrete message definition references its base (`Request`, `Event`, …). */
function derivesFrom(definition: string, base: 'Request' | 'Response' | 'Event'): boolean {
  const { definitions } = requireSchema();
  if (!Object.hasOwn(definitions, definition)) return false;
  const schema = definitions[definition];
  if (!isObject(schema) || !Array.isArray(schema.allOf)) return false;
  const first: unknown = schema.allOf[0];
  return isObject(first) && first.$ref === `#/definitions/${base}`;
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
 * object with a known `type`. Throws when the schema is unavailable.
 */
export function dapDefinitionFor(message: unknown): string | undefined {
  requireSchema();
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
 * Throws when the schema is unavailable, so that a missing schema can never look like success.
 */
export function validateDapMessage(message: unknown): string[] {
  const definition = dapDefinitionFor(message);
  if (definition === undefined) {
    if (!isObject(message)) return [`a DAP message must be a JSON object, got ${describeValue(message)}`];
    return [`/type must be "request", "response" or "event", got ${describeValue(message.type)}`];
  }
  const validate = validatorFor(definition);
  if (validate(message)) return [];
  // allOf branches can report the same problem twice.
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
