/**
 * Values between the project's plain JavaScript (contexts, results) and the library's data
 * classes, and the value rules the rest of relay-dap uses outside an expression: truthiness,
 * loose equality, text for `${{ }}` substitution.
 */
import * as data from '@actions/expressions/data/index';
import { equals, truthy } from '@actions/expressions/result';

/**
 * The `env` context: case-sensitive, as on GitHub's Linux and macOS runners (the runner builds it
 * as a CaseSensitiveDictionaryContextData there); every other dictionary ignores case.
 */
export class CaseSensitiveDictionary extends data.Dictionary {
  // The base class keeps its entries private; this one keeps its own, exact-case, copy.
  private readonly exact = new Map<string, data.ExpressionData>();

  override add(key: string, value: data.ExpressionData): void {
    if (!this.exact.has(key)) this.exact.set(key, value);
  }

  override get(key: string): data.ExpressionData | undefined {
    return this.exact.get(key);
  }

  override values(): data.ExpressionData[] {
    return [...this.exact.values()];
  }

  override pairs(): Array<{ key: string; value: data.ExpressionData }> {
    return [...this.exact].map(([key, value]) => ({ key, value }));
  }
}

/** A JavaScript value as the library's data (undefined is null, as a missing property is). */
export function toData(value: unknown, caseSensitive = false): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === 'boolean') return new data.BooleanData(value);
  if (typeof value === 'number') return new data.NumberData(value);
  if (typeof value === 'string') return new data.StringData(value);
  if (Array.isArray(value)) return new data.Array(...value.map((item) => toData(item)));
  // Contexts hold JSON-like values only; anything else (a function, a symbol) has no expression value.
  if (typeof value !== 'object') return new data.Null();
  const dictionary = caseSensitive ? new CaseSensitiveDictionary() : new data.Dictionary();
  for (const [key, item] of Object.entries(value)) dictionary.add(key, toData(item));
  return dictionary;
}

/** The library's data as a plain JavaScript value (arrays, objects, primitives, null). */
export function fromData(value: data.ExpressionData): unknown {
  switch (value.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.Array:
      return value.values().map(fromData);
    case data.Kind.Dictionary:
      return Object.fromEntries(value.pairs().map(({ key, value: item }) => [key, fromData(item)]));
    default:
      return value.value;
  }
}

/** GitHub's falsy values: false, 0, -0, '', null, NaN. Arrays and objects are truthy. */
export function isTruthy(value: unknown): boolean {
  return truthy(toData(value));
}

/** Loose equality: numbers (NaN equals nothing), strings case-insensitively, objects by identity. */
export function looseEquals(left: unknown, right: unknown): boolean {
  if (typeof left === 'object' && left !== null) return left === right;
  if (typeof right === 'object' && right !== null) return false;
  return equals(toData(left), toData(right));
}

/**
 * GitHub's string → number conversion: surrounding whitespace is ignored, '' is 0, decimal with
 * optional sign and exponent, `0x` hex, `0o` octal, ±Infinity; anything else is NaN. (The
 * library converts with JavaScript's Number(), which also takes `0b…`; see docs/expressions.md.)
 */
export function parseNumberText(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') return 0;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return Number(trimmed);
  if (/^0x[0-9a-fA-F]+$/.test(trimmed)) return Number.parseInt(trimmed.slice(2), 16);
  if (/^0o[0-7]+$/.test(trimmed)) return Number.parseInt(trimmed.slice(2), 8);
  if (trimmed === 'Infinity') return Number.POSITIVE_INFINITY;
  if (trimmed === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number.NaN;
}

/** Numbers print with at most 15 significant digits, like the runner (so 0.1 + 0.2 style noise disappears). */
function numberToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (value === 0) return '0';
  return String(Number(value.toPrecision(15)));
}

/**
 * A value as text, the way `${{ }}` substitution shows it: null → '', booleans 'true'/'false',
 * numbers without noise, arrays and objects as (indented) JSON like toJSON().
 */
export function toDisplayString(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numberToString(value);
  return JSON.stringify(value, (_key, item: unknown) => normaliseForJson(item), 2);
}

function normaliseForJson(item: unknown): unknown {
  if (item === undefined) return null;
  // JSON has no NaN/Infinity; the runner writes them as numbers it cannot, so strings are the honest choice.
  if (typeof item === 'number' && !Number.isFinite(item)) return numberToString(item);
  return item;
}
