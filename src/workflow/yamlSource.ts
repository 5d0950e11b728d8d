/**
 * A YAML job source (workflow or job file) read with line numbers, and the typed accessors the
 * loaders share: each one either returns the value it promises or throws a JobSourceError naming
 * the file, the line and what to write instead.
 */
import { resolve } from 'node:path';
import {
  type Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type ParsedNode,
  type Scalar,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import { type ExpressionError, type TemplatePart, withLine } from './expressions.js';

export class JobSourceError extends Error {
  constructor(
    readonly file: string,
    /** 1-based line, when the problem is at a specific place. */
    readonly line: number | undefined,
    readonly reason: string,
    /** The located ExpressionError (expression, column, line) when an expression is the problem. */
    readonly expressionError?: ExpressionError,
  ) {
    super(line === undefined ? `${file}: ${reason}` : `${file}:${line}: ${reason}`, {
      cause: expressionError,
    });
    this.name = 'JobSourceError';
  }
}

export interface MapEntry {
  key: string;
  keyNode: ParsedNode;
  /** Null for a key written without a value (`key:`). */
  value: ParsedNode | null;
}

export class YamlSource {
  private constructor(
    /** Absolute path. */
    readonly path: string,
    readonly text: string,
    private readonly document: Document.Parsed,
    private readonly lineCounter: LineCounter,
  ) {}

  /**
   * Parses a file's text; `kind` ("workflow", "job file") goes into the error messages. The
   * file is read once, by the caller (the adapter reads without blocking, see jobFromProgram).
   */
  static load(path: string, kind: string, text: string): YamlSource {
    return YamlSource.parse(resolve(path), text, kind);
  }

  static parse(absolutePath: string, text: string, kind: string): YamlSource {
    const lineCounter = new LineCounter();
    const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const [firstError] = document.errors;
    if (firstError !== undefined) {
      // Errors found at the end of the text (an unclosed quote) point at the last line with content.
      const contentEnd = Math.max(text.trimEnd().length - 1, 0);
      const line = lineCounter.linePos(Math.min(firstError.pos[0], contentEnd)).line;
      throw new JobSourceError(
        absolutePath,
        line,
        `the ${kind} is not valid YAML: ${firstError.message.split('\n')[0] ?? ''}; fix the YAML syntax there`,
      );
    }
    return new YamlSource(absolutePath, text, document, lineCounter);
  }

  /** The top-level mapping. */
  root(kind: string): YAMLMap.Parsed {
    const contents = this.document.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) {
      throw new JobSourceError(this.path, undefined, `the ${kind} is empty`);
    }
    return this.map(contents, `the ${kind}`);
  }

  lineOf(offset: number): number {
    return this.lineCounter.linePos(offset).line;
  }

  startLine(node: ParsedNode): number {
    return this.lineOf(node.range[0]);
  }

  /** The line of the `-` that opens a sequence item (the item's first key is usually on it too). */
  itemLine(node: ParsedNode): number {
    let offset = node.range[0] - 1;
    while (offset >= 0 && /\s/.test(this.text.charAt(offset))) offset--;
    return this.text.charAt(offset) === '-' ? this.lineOf(offset) : this.startLine(node);
  }

  /** The last line holding the node's content (trailing blank lines and comments excluded). */
  endLine(node: ParsedNode): number {
    let offset = node.range[1] - 1;
    while (offset > node.range[0] && /\s/.test(this.text.charAt(offset))) offset--;
    return this.lineOf(Math.max(offset, node.range[0]));
  }

  error(at: ParsedNode | number | undefined, reason: string): JobSourceError {
    const line = typeof at === 'number' || at === undefined ? at : this.startLine(at);
    return new JobSourceError(this.path, line, reason);
  }

  /**
   * An expression error located in the file: the error's `templateOffset` says which `${{` of the
   * value failed, and the same occurrence in the node's source text gives the line. Loaders throw
   * only JobSourceError; the located ExpressionError rides along for callers that want its parts.
   */
  expressionError(node: ParsedNode, value: string, error: ExpressionError): JobSourceError {
    const line =
      error.templateOffset === undefined
        ? this.startLine(node)
        : this.lineOfTemplateOffset(node, value, error.templateOffset);
    const located = withLine(error, line, this.path);
    const at = located.column !== undefined ? ` at column ${located.column}` : '';
    return new JobSourceError(
      this.path,
      line,
      `${located.reason} (in expression \`${located.expression}\`${at})`,
      located,
    );
  }

  /** The line of each `${{ }}` of a parsed value, by its offset in the value (see lineOfTemplateOffset). */
  expressionLines(node: ParsedNode, value: string, parts: readonly TemplatePart[]): Map<number, number> {
    const lines = new Map<number, number>();
    for (const part of parts) {
      if (part.kind === 'expression')
        lines.set(part.offset, this.lineOfTemplateOffset(node, value, part.offset));
    }
    return lines;
  }

  /**
   * The line of the `${{` at `offset` in a value: the same occurrence of `${{` in the node's source
   * text (the value and its source differ by quoting and escapes, never by the `${{` they hold).
   */
  private lineOfTemplateOffset(node: ParsedNode, value: string, offset: number): number {
    const occurrence = countOccurrences(value.slice(0, offset), '${{');
    const source = this.text.slice(node.range[0], node.range[1]);
    let found = -1;
    for (let seen = 0; seen <= occurrence; seen++) {
      found = source.indexOf('${{', found + 1);
      if (found < 0) break;
    }
    return found >= 0 ? this.lineOf(node.range[0] + found) : this.startLine(node);
  }

  /** The first line holding the value's content (a block scalar's `|` or `>` header is not content). */
  contentLine(node: ParsedNode): number {
    let offset = node.range[0];
    if (isScalar(node) && (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED')) {
      const newline = this.text.indexOf('\n', offset);
      if (newline >= 0 && newline < node.range[1]) offset = newline + 1;
    }
    while (offset < node.range[1] - 1 && /\s/.test(this.text.charAt(offset))) offset++;
    return this.lineOf(offset);
  }

  resolveAlias(node: ParsedNode | null): ParsedNode | null {
    if (node !== null && isAlias(node)) {
      return (node.resolve(this.document) as ParsedNode | undefined) ?? null;
    }
    return node;
  }

  /** A node as plain JavaScript data (aliases resolved), e.g. a matrix. */
  plainValue(node: ParsedNode): unknown {
    return node.toJS(this.document) as unknown;
  }

  map(node: ParsedNode | null, what: string): YAMLMap.Parsed {
    const resolved = this.resolveAlias(node);
    if (resolved === null || !isMap(resolved)) {
      throw this.error(node ?? undefined, `${what} must be a mapping (key: value lines)`);
    }
    return resolved;
  }

  seq(node: ParsedNode | null, what: string): YAMLSeq.Parsed {
    const resolved = this.resolveAlias(node);
    if (resolved === null || !isSeq(resolved)) {
      throw this.error(node ?? undefined, `${what} must be a list (lines starting with '-')`);
    }
    return resolved;
  }

  entries(map: YAMLMap.Parsed, what: string): MapEntry[] {
    return map.items.map((pair) => {
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
        throw this.error(keyNode, `${what} has a key that is not a plain name`);
      }
      return {
        key: isScalar(keyNode) ? scalarSource(keyNode) : String(key),
        keyNode,
        value: this.resolveAlias(pair.value),
      };
    });
  }

  /** Refuses keys a format does not know, so a typo is reported instead of silently ignored. */
  checkKeys(
    entries: MapEntry[],
    allowed: readonly string[],
    what: string,
    /** What else to say of an unknown key (a workflow: that GitHub refuses it as well). */
    also: (key: string) => string = () => '',
  ): void {
    for (const entry of entries) {
      if (!allowed.includes(entry.key)) {
        throw this.error(
          entry.keyNode,
          `unknown key '${entry.key}' in ${what}; the keys allowed there are ${allowed.join(', ')}${also(entry.key)}`,
        );
      }
    }
  }

  /**
   * A scalar as the text written in the file: numbers and booleans keep their spelling (`3.10`
   * stays "3.10"), a missing value or `null`/`~` is ''. Mappings and lists are refused.
   */
  textAsWritten(node: ParsedNode | null, what: string): string {
    if (node === null) return '';
    if (!isScalar(node)) throw this.error(node, `${what} must be a single value, not a mapping or list`);
    if (node.value === null) return '';
    return scalarSource(node);
  }

  /** A scalar that must be text (a string, or a number/boolean taken as written). */
  string(node: ParsedNode | null, what: string, at: ParsedNode): string {
    if (node === null) throw this.error(at, `${what} has no value`);
    if (!isScalar(node) || node.value === null) {
      throw this.error(node, `${what} must be text`);
    }
    return scalarSource(node);
  }
}

/** Strings are their YAML value; numbers and booleans keep their written spelling (`3.10`, `0x1F`). */
function scalarSource(node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** The first line of a script, as GitHub shows it in the default step name `Run <first line>`. */
export function firstLineOf(script: string): string {
  const trimmed = script.replace(/^[ \t\r\n]+/, '');
  const newline = trimmed.search(/[\r\n]/);
  return newline < 0 ? trimmed : trimmed.slice(0, newline);
}
