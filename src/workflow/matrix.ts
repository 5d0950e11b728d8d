/**
 * `strategy.matrix`: expanding it into combinations the way GitHub documents (the product of the
 * vectors, minus `exclude`, plus `include`) and choosing the one combination a step-by-step run
 * uses. A debugging session runs one job, so the choice must be explicit whenever there is more
 * than one combination.
 */
import { toDisplayString } from './expressions.js';

export type MatrixCombination = Record<string, unknown>;

export class MatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MatrixError';
  }
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
    if (!Array.isArray(vector)) {
      throw new MatrixError(
        `matrix '${key}' must be a list of values` +
          (typeof vector === 'string' && vector.includes('${{')
            ? ' (a matrix computed by an expression cannot be expanded here; give the combination with the launch argument "matrix")'
            : ''),
      );
    }
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

/**
 * The combination to run. With a requested combination (the launch argument), the one matching
 * combination of the file is completed from it (so `{ "python": "3.12" }` suffices when it
 * identifies one); a request matching none is used as given. Without a request, the matrix must
 * have exactly one combination.
 */
export function selectMatrixCombination(
  matrix: Record<string, unknown> | undefined,
  requested: MatrixCombination | undefined,
  jobId: string,
): MatrixCombination {
  if (matrix === undefined) return { ...(requested ?? {}) };
  let combinations: MatrixCombination[];
  try {
    combinations = expandMatrix(matrix);
  } catch (error) {
    // An unexpandable matrix is still usable when the caller says which combination to run.
    if (requested !== undefined && error instanceof MatrixError) return { ...requested };
    throw error;
  }
  if (requested !== undefined) {
    const matching = combinations.filter((combination) =>
      Object.entries(requested).every(
        ([key, value]) => key in combination && toDisplayString(combination[key]) === toDisplayString(value),
      ),
    );
    const [only] = matching;
    if (matching.length === 1 && only !== undefined) return { ...requested, ...only };
    if (matching.length > 1) {
      throw new MatrixError(
        `the matrix combination ${JSON.stringify(requested)} matches ${matching.length} combinations of job '${jobId}' ` +
          `(${matching.map(describeCombination).join('; ')}); add the other keys, e.g. ${launchArgumentExample(matching[0] ?? {})}`,
      );
    }
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
