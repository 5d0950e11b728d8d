/**
 * `strategy.matrix`: expanding it into combinations the way GitHub documents (the product of the
 * vectors, minus `exclude`, plus `include`) and choosing the one combination a step-by-step run
 * uses. A debugging session runs one job, so the choice must be explicit whenever there is more
 * than one combination.
 */
import { toDisplayString } from './expressions.js';

export type MatrixCombination = Record<string, unknown>;

export class MatrixError extends Error {
  constructor(
    message: string,
    /** Set when the matrix (or one of its parts) is an expression GitHub evaluates when the run starts. */
    readonly computed?: { part: string; expression: string },
  ) {
    super(message);
    this.name = 'MatrixError';
  }
}

function isExpression(value: unknown): value is string {
  return typeof value === 'string' && value.includes('${{');
}

/**
 * The one-line error for a matrix GitHub computes when the run starts (`${{ fromJSON(...) }}`,
 * often from an earlier job's outputs): nothing here can know its combinations, but the launch
 * argument can name the one to debug. `example` holds the keys to show in it.
 */
function computedMatrixError(
  jobId: string,
  computed: { part: string; expression: string },
  example: MatrixCombination,
): MatrixError {
  return new MatrixError(
    `${computed.part} of job '${jobId}' is computed at run time on GitHub (${computed.expression}), so relay-dap cannot ` +
      `list its combinations: give the combination to debug with the launch argument "matrix", e.g. ${launchArgumentExample(example)}`,
    computed,
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Two matrix values match when they are the same JSON (GitHub compares them structurally). */
function sameValue(left: unknown, right: unknown): boolean {
  return JSON.stringify(left) === JSON.stringify(right);
}

/** The vector keys of a matrix (everything but `include` and `exclude`), in file order. */
export function matrixKeys(matrix: Record<string, unknown>): string[] {
  return Object.keys(matrix).filter((key) => key !== 'include' && key !== 'exclude');
}

/**
 * All combinations of a matrix as written in the file (already converted from YAML). Expressions
 * (`${{ fromJSON(…) }}`) cannot be expanded before the job runs and are refused.
 */
export function expandMatrix(matrix: Record<string, unknown>): MatrixCombination[] {
  const keys = matrixKeys(matrix);
  let combinations: MatrixCombination[] = [{}];
  for (const key of keys) {
    const vector = matrix[key];
    if (isExpression(vector)) {
      throw new MatrixError(`matrix '${key}' is computed by an expression`, {
        part: `matrix '${key}'`,
        expression: vector,
      });
    }
    if (!Array.isArray(vector)) throw new MatrixError(`matrix '${key}' must be a list of values`);
    if (vector.length === 0) throw new MatrixError(`matrix '${key}' has no values`);
    combinations = combinations.flatMap((combination) =>
      vector.map((value: unknown) => ({ ...combination, [key]: value })),
    );
  }
  if (keys.length === 0) combinations = [];

  const exclude = listOfRecords(matrix.exclude, 'exclude');
  combinations = combinations.filter(
    (combination) =>
      !exclude.some((rule) =>
        Object.entries(rule).every(([key, value]) => sameValue(combination[key], value)),
      ),
  );

  // Each include entry is merged into every combination whose original values it does not
  // overwrite (values added by earlier includes may be overwritten); if it fits none, it becomes
  // a combination of its own, which later include entries do not merge into (GitHub's example:
  // two `fruit: banana` entries give two combinations).
  const originals = combinations.map((combination) => ({ ...combination }));
  const added: MatrixCombination[] = [];
  for (const entry of listOfRecords(matrix.include, 'include')) {
    let merged = false;
    combinations.forEach((combination, index) => {
      const original = originals[index] ?? {};
      const fits = Object.entries(entry).every(
        ([key, value]) => !(key in original) || sameValue(original[key], value),
      );
      if (fits) {
        Object.assign(combination, entry);
        merged = true;
      }
    });
    if (!merged) added.push({ ...entry });
  }
  return [...combinations, ...added];
}

function listOfRecords(value: unknown, name: string): Array<Record<string, unknown>> {
  if (value === undefined || value === null) return [];
  if (isExpression(value)) {
    throw new MatrixError(`matrix '${name}' is computed by an expression`, {
      part: `matrix '${name}'`,
      expression: value,
    });
  }
  if (!Array.isArray(value) || !value.every(isRecord)) {
    throw new MatrixError(`matrix '${name}' must be a list of mappings`);
  }
  return value;
}

/** How to write a combination as the launch argument, for error messages. */
export function launchArgumentExample(combination: MatrixCombination): string {
  return `"matrix": ${JSON.stringify(combination)}`;
}

function describeCombination(combination: MatrixCombination): string {
  return Object.entries(combination)
    .map(([key, value]) => `${key}=${toDisplayString(value)}`)
    .join(', ');
}

/** The combination holds every requested value (compared as text: `"20"` selects `20`). */
function holds(combination: MatrixCombination, requested: MatrixCombination): boolean {
  return Object.entries(requested).every(
    ([key, value]) => key in combination && toDisplayString(combination[key]) === toDisplayString(value),
  );
}

function sameCombination(left: MatrixCombination, right: MatrixCombination): boolean {
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length &&
    keys.every((key) => key in right && sameValue(left[key], right[key]))
  );
}

/**
 * The combinations a request selects: those holding all its values, and of those the ones that
 * hold nothing more when there are any. GitHub runs `{python: '3.14'}` and
 * `{python: '3.14', tox: 'py314'}` as two jobs; asking for `{"python": "3.14"}` means the first,
 * which could not be asked for at all otherwise.
 */
function selectedBy(combinations: MatrixCombination[], requested: MatrixCombination): MatrixCombination[] {
  const matching = combinations.filter((combination) => holds(combination, requested));
  const requestedKeys = Object.keys(requested).length;
  const exact = matching.filter((combination) => Object.keys(combination).length === requestedKeys);
  return exact.length > 0 ? exact : matching;
}

/** One combination, or several that are all the same (two identical include entries). */
function single(selected: MatrixCombination[]): MatrixCombination | undefined {
  const [first] = selected;
  return first !== undefined && selected.every((other) => sameCombination(other, first)) ? first : undefined;
}

/** Subsets of `keys` with `size` members, in key order. */
function subsets(keys: string[], size: number): string[][] {
  if (size === 0) return [[]];
  return keys.flatMap((key, index) => subsets(keys.slice(index + 1), size - 1).map((rest) => [key, ...rest]));
}

/** Beyond this many added keys the whole combination is shown: it always selects itself. */
const MAX_ADDED_KEYS = 3;

/** The request plus the fewest of the target's other keys that select the target alone. */
function identifyingRequest(
  combinations: MatrixCombination[],
  requested: MatrixCombination,
  target: MatrixCombination,
): MatrixCombination {
  const others = Object.keys(target).filter((key) => !(key in requested));
  for (let size = 1; size <= Math.min(others.length, MAX_ADDED_KEYS); size++) {
    for (const keys of subsets(others, size)) {
      const candidate = { ...requested, ...Object.fromEntries(keys.map((key) => [key, target[key]])) };
      const chosen = single(selectedBy(combinations, candidate));
      if (chosen !== undefined && sameCombination(chosen, target)) return candidate;
    }
  }
  return { ...target };
}

/** How many examples an ambiguous request's error shows. */
const MAX_EXAMPLES = 2;

function ambiguousRequestError(
  combinations: MatrixCombination[],
  requested: MatrixCombination,
  selected: MatrixCombination[],
  jobId: string,
): MatrixError {
  const examples = selected.map((target) => identifyingRequest(combinations, requested, target));
  const addedKeys = Array.from(
    new Set(examples.flatMap((example) => Object.keys(example).filter((key) => !(key in requested)))),
  );
  return new MatrixError(
    `the matrix combination ${JSON.stringify(requested)} matches ${selected.length} combinations of job '${jobId}' ` +
      `(${selected.map(describeCombination).join('; ')}); add ${addedKeys.map((key) => `'${key}'`).join(', ')} to tell them apart, e.g. ` +
      examples.slice(0, MAX_EXAMPLES).map(launchArgumentExample).join(' or '),
  );
}

/** The example of a computed matrix's error: its written vectors, then the keys the job reads. */
function computedExample(matrix: Record<string, unknown>, readKeys: string[]): MatrixCombination {
  const example: MatrixCombination = {};
  for (const key of matrixKeys(matrix)) {
    const vector = matrix[key];
    if (Array.isArray(vector) && vector.length > 0) example[key] = vector[0];
  }
  for (const key of readKeys) if (!(key in example)) example[key] = '…';
  return Object.keys(example).length > 0 ? example : { os: 'ubuntu-latest' };
}

/**
 * The combination to run. With a requested combination (the launch argument), the one matching
 * combination of the file is completed from it (so `{ "python": "3.12" }` suffices when it
 * identifies one); a request matching none is used as given. Without a request, the matrix must
 * have exactly one combination. `readKeys`: the `matrix.*` keys the job reads, for the example
 * of a matrix computed at run time.
 */
export function selectMatrixCombination(
  matrix: Record<string, unknown> | string | undefined,
  requested: MatrixCombination | undefined,
  jobId: string,
  readKeys: string[] = [],
): MatrixCombination {
  if (matrix === undefined) return { ...(requested ?? {}) };
  // `matrix: ${{ fromJSON(...) }}` (callers refuse any other non-mapping).
  if (typeof matrix === 'string') {
    if (requested !== undefined) return { ...requested };
    throw computedMatrixError(
      jobId,
      { part: 'the matrix', expression: matrix },
      computedExample({}, readKeys),
    );
  }
  let combinations: MatrixCombination[];
  try {
    combinations = expandMatrix(matrix);
  } catch (error) {
    // An unexpandable matrix is still usable when the caller says which combination to run.
    if (requested !== undefined && error instanceof MatrixError) return { ...requested };
    if (error instanceof MatrixError && error.computed !== undefined) {
      throw computedMatrixError(jobId, error.computed, computedExample(matrix, readKeys));
    }
    throw error;
  }
  if (requested !== undefined) {
    const selected = selectedBy(combinations, requested);
    const only = single(selected);
    if (only !== undefined) return { ...requested, ...only };
    if (selected.length > 1) throw ambiguousRequestError(combinations, requested, selected, jobId);
    return { ...requested };
  }
  const [first] = combinations;
  if (combinations.length === 1 && first !== undefined) return first;
  if (first === undefined) {
    throw new MatrixError(`the matrix of job '${jobId}' has no combinations left (everything is excluded)`);
  }
  const keys = Array.from(new Set(combinations.flatMap((combination) => Object.keys(combination))));
  throw new MatrixError(
    `job '${jobId}' has a matrix with ${combinations.length} combinations over ${keys.join(', ')}; ` +
      `a step-by-step run uses one: choose it with the launch argument, e.g. ${launchArgumentExample(first)}`,
  );
}
