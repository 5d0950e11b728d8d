/**
 * Where the DAP schema the tests validate against comes from: the official TypeScript declarations
 * of the protocol (`@vscode/debugprotocol`, lib/debugProtocol.d.ts), turned into JSON schema by
 * ts-json-schema-generator. Nothing outside the repository is needed, so the DAP suites run on a
 * fresh clone.
 *
 * Generating takes seconds, so the result is cached under node_modules/.cache/relay-dap/, keyed on
 * what determines it. The vitest globalSetup (dapSchemaSetup.ts) fills the cache once
 * before the workers start; a worker that finds no cache generates and writes it itself.
 * The cache stays inside the checkout on purpose: a shared temporary directory would let another
 * local user plant a schema that accepts anything.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';
import ts from 'typescript';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** The declaration file the schema is derived from. */
export const dapDeclarationsPath = require.resolve('@vscode/debugprotocol/lib/debugProtocol.d.ts');

/** The namespace in debugProtocol.d.ts; the generator prefixes every definition name with it. */
const NAMESPACE = 'DebugProtocol';

type JsonObject = Record<string, unknown>;

export interface DerivedDapSchema {
  /** Definitions under the official schema's names (`InitializeRequest`, `StoppedEvent`, …). */
  definitions: Record<string, JsonObject>;
  /** Every interface's ancestors by `extends`, nearest first (`StoppedEvent` → `Event`, `ProtocolMessage`). */
  ancestors: Record<string, string[]>;
  /** The `@vscode/debugprotocol` version the declarations are from. */
  protocolVersion: string;
}

function versionOf(packageName: string): string {
  const manifest = JSON.parse(readFileSync(require.resolve(`${packageName}/package.json`), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * Named after everything the result depends on: the declarations, this file (how they are turned
 * into a schema), the generator and the compiler. A change to any of them misses the old cache.
 */
function cachePath(): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(dapDeclarationsPath));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(`${versionOf('ts-json-schema-generator')} ${ts.version}`);
  const name = `dap-schema-${versionOf('@vscode/debugprotocol')}-${hash.digest('hex').slice(0, 16)}.json`;
  return path.join(repoRoot, 'node_modules', '.cache', 'relay-dap', name);
}

/**
 * The message kind and name each message interface fixes, which the declarations state in comments
 * only (`// command: 'initialize';`), since TypeScript would not let a subtype narrow them otherwise.
 */
const CONSTANT_COMMENT = /^\s*\/\/ (type|command|event): '([^']*)';$/gm;

interface Declarations {
  names: string[];
  parents: Map<string, string[]>;
  constants: Map<string, [property: string, value: string][]>;
}

/** The interfaces and type aliases declared in the namespace, with each interface's `extends` and constants. */
function readDeclarations(declarationsPath: string): Declarations {
  const text = readFileSync(declarationsPath, 'utf8');
  const source = ts.createSourceFile(declarationsPath, text, ts.ScriptTarget.Latest);
  const namespace = source.statements.find(
    (statement): statement is ts.ModuleDeclaration =>
      ts.isModuleDeclaration(statement) && statement.name.text === NAMESPACE,
  );
  if (namespace?.body === undefined || !ts.isModuleBlock(namespace.body)) {
    throw new Error(`${declarationsPath} declares no namespace ${NAMESPACE}`);
  }
  const names: string[] = [];
  const parents = new Map<string, string[]>();
  const constants = new Map<string, [string, string][]>();
  for (const statement of namespace.body.statements) {
    if (!ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement)) continue;
    const name = statement.name.text;
    names.push(name);
    if (ts.isInterfaceDeclaration(statement)) {
      const clauses = statement.heritageClauses ?? [];
      parents.set(
        name,
        clauses.flatMap((clause) => clause.types.map((type) => type.expression.getText(source))),
      );
      const fixed = [...statement.getText(source).matchAll(CONSTANT_COMMENT)];
      constants.set(
        name,
        fixed.map((match) => [match[1]!, match[2]!]),
      );
    }
  }
  return { names, parents, constants };
}

function ancestorsOf(name: string, parents: Map<string, string[]>): string[] {
  const result: string[] = [];
  for (const parent of parents.get(name) ?? []) result.push(parent, ...ancestorsOf(parent, parents));
  return result;
}

/** Adds each constant an interface (or one it extends) states in a comment as a one-value enum. */
function addConstants(
  definitions: Record<string, JsonObject>,
  ancestors: Record<string, string[]>,
  constants: Declarations['constants'],
): void {
  for (const [name, definition] of Object.entries(definitions)) {
    const properties = definition.properties as Record<string, JsonObject> | undefined;
    // Nearest first, so that a subtype's constant is the one kept.
    for (const declaring of [name, ...(ancestors[name] ?? [])]) {
      for (const [property, value] of constants.get(declaring) ?? []) {
        const schema = properties?.[property];
        if (schema !== undefined && schema.enum === undefined) schema.enum = [value];
      }
    }
  }
}

/** `#/definitions/DebugProtocol.Source` → `#/definitions/Source`, throughout. */
function withOfficialNames(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withOfficialNames);
  if (typeof node !== 'object' || node === null) return node;
  const result: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    result[key] =
      key === '$ref' && typeof value === 'string'
        ? value.replace(`#/definitions/${NAMESPACE}.`, '#/definitions/')
        : withOfficialNames(value);
  }
  return result;
}

/**
 * Runs the generator on a declaration file (seconds). Throws, naming the file, when it cannot.
 * `additionalProperties: true` because the protocol's objects are open (an adapter may add
 * properties; launch arguments are adapter-specific), as in the official JSON schema.
 */
export function generateDapSchema(declarationsPath: string = dapDeclarationsPath): DerivedDapSchema {
  try {
    const { names, parents, constants } = readDeclarations(declarationsPath);
    const generator = createGenerator({
      path: declarationsPath,
      expose: 'all',
      topRef: true,
      jsDoc: 'none',
      skipTypeCheck: true,
      additionalProperties: true,
    });
    const definitions: Record<string, JsonObject> = {};
    for (const name of names) {
      const generated = generator.createSchema(`${NAMESPACE}.${name}`).definitions ?? {};
      for (const [qualified, schema] of Object.entries(generated)) {
        definitions[qualified.replace(`${NAMESPACE}.`, '')] = withOfficialNames(schema) as JsonObject;
      }
    }
    const ancestors: Record<string, string[]> = {};
    for (const name of parents.keys()) ancestors[name] = ancestorsOf(name, parents);
    addConstants(definitions, ancestors, constants);
    return { definitions, ancestors, protocolVersion: versionOf('@vscode/debugprotocol') };
  } catch (error) {
    throw new Error(
      `cannot derive the DAP schema from ${declarationsPath}: ${(error as Error).message}; ` +
        'reinstall the dev dependencies (npm ci)',
      { cause: error },
    );
  }
}

function readCache(file: string): DerivedDapSchema | undefined {
  try {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as Partial<DerivedDapSchema>;
    if (typeof cached.definitions === 'object' && typeof cached.ancestors === 'object') {
      return cached as DerivedDapSchema;
    }
  } catch {
    // Missing or torn: generate again.
  }
  return undefined;
}

/** The derived schema, from the cache when it is there, else generated and cached. */
export function cachedDapSchema(): DerivedDapSchema {
  const file = cachePath();
  const cached = readCache(file);
  if (cached !== undefined) return cached;
  const schema = generateDapSchema();
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed, so that a worker reading at the same time never sees half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, JSON.stringify(schema));
    renameSync(partial, file);
  } catch {
    // A read-only checkout still validates; every process then generates its own copy.
  }
  return schema;
}
