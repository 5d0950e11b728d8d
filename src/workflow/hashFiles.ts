/**
 * `hashFiles(pattern, …)` as GitHub's runner computes it, split in two because the files are on
 * the far side of the relay: the far side lists and hashes (`find`, `sha256sum`, in bash), this
 * side matches the patterns and orders the files, with the same rules as the runner.
 *
 * Where the algorithm comes from:
 * - actions/runner `src/Runner.Worker/Expressions/HashFilesFunction.cs`: the arguments, each
 *   converted to a string, are the patterns; a first argument `--follow-symbolic-links` is an
 *   option; the patterns are joined by newlines and handed to a node script run with
 *   GITHUB_WORKSPACE as its working directory.
 * - actions/runner `src/Misc/expressionFunc/hashFiles/src/hashFiles.ts` (that script): files are
 *   globbed with @actions/glob (followSymbolicLinks false unless asked); a file not under the
 *   working directory (`process.cwd()`, the physical path) is ignored, a directory skipped; each
 *   file's SHA-256 digest (raw 32 bytes) is written, in the globber's order, into one SHA-256 whose
 *   hex digest is the result; no file matched gives the empty string.
 * - actions/toolkit `packages/glob/src/internal-globber.ts`, `internal-pattern.ts`,
 *   `internal-pattern-helper.ts` (@actions/glob ^0.4, which the script bundles): one pattern per
 *   line, trimmed, empty lines and `#` comments ignored; each leading `!` negates; a relative
 *   pattern is rooted at the working directory (a leading `.` segment too); `..` and later `.`
 *   segments are refused; minimatch 3 with dot, nobrace, noext, nocomment, nonegate; a pattern
 *   also matches everything below what it names (implicit descendants), and a trailing `/`
 *   matches directories only; patterns apply in order (a later `!` removes, a later pattern adds
 *   back); search roots are the literal paths before the first glob segment, with duplicates and
 *   descendants of other roots dropped, searched in pattern order; each root is walked depth
 *   first with the entries of a directory in the order `fs.readdir` gives (libuv sorts them by
 *   byte value), so the files come out in that order.
 *
 * Not done here: `~` (the far side's home directory) matches nothing, because this side does not
 * know that directory; a file under the workspace reached through `~` is therefore not hashed.
 */
import { createHash } from 'node:crypto';
import minimatch from 'minimatch';
import { shellQuote } from './shellQuote.js';

export class HashFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HashFilesError';
  }
}

const FOLLOW_OPTION = '--follow-symbolic-links';

/** What one `hashFiles(...)` call asks for, its arguments as strings. */
export interface HashFilesRequest {
  patterns: string[];
  followSymbolicLinks: boolean;
}

/** The arguments of a call, as the runner reads them (a first `--…` argument is an option). */
export function hashFilesRequest(args: readonly string[]): HashFilesRequest {
  const [first, ...rest] = args;
  if (first !== undefined && first.startsWith('--')) {
    if (first.toLowerCase() !== FOLLOW_OPTION) {
      throw new HashFilesError(
        `hashFiles(): invalid glob option ${first}; the only option is '${FOLLOW_OPTION}'`,
      );
    }
    return { patterns: rest, followSymbolicLinks: true };
  }
  return { patterns: [...args], followSymbolicLinks: false };
}

interface GlobPattern {
  negate: boolean;
  /** One of @actions/glob's implicit descendants (`<pattern>/**`), not a pattern as written. */
  implicit: boolean;
  segments: string[];
  /** The pattern ends with `/`: it matches directories only, so never a file. */
  directoriesOnly: boolean;
  searchPath: string;
  matcher: minimatch.IMinimatch;
}

/** @actions/glob's `Path.segments` of an absolute, normalized path: `/` then each name. */
function segmentsOf(absolute: string): string[] {
  return ['/', ...absolute.split('/').filter((segment) => segment !== '')];
}

function joinSegments(segments: readonly string[]): string {
  const [root = '/', ...rest] = segments;
  return root + rest.join('/');
}

/** @actions/glob's `Pattern.globEscape` on Linux: a path written into a pattern matches only itself. */
function globEscape(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]');
}

/** @actions/glob's `Pattern.getLiteral`: the segment without escapes, or '' when it is a glob. */
function literalOf(segment: string): string {
  let literal = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '\\' && i + 1 < segment.length) {
      literal += segment[++i];
      continue;
    }
    if (c === '*' || c === '?') return '';
    if (c === '[' && i + 1 < segment.length) {
      let set = '';
      let closed = -1;
      for (let j = i + 1; j < segment.length; j++) {
        const d = segment[j]!;
        if (d === '\\' && j + 1 < segment.length) {
          set += segment[++j];
          continue;
        }
        if (d === ']') {
          closed = j;
          break;
        }
        set += d;
      }
      if (closed >= 0) {
        if (set.length > 1) return '';
        if (set !== '') {
          literal += set;
          i = closed;
          continue;
        }
      }
    }
    literal += c;
  }
  return literal;
}

const MINIMATCH_OPTIONS = {
  dot: true,
  nobrace: true,
  nocase: false,
  nocomment: true,
  noext: true,
  nonegate: true,
};

function makePattern(negate: boolean, absolute: string, implicit = false): GlobPattern {
  const normalized = absolute.replace(/\/\/+/g, '/');
  const directoriesOnly = normalized.endsWith('/') && normalized !== '/';
  const trimmed = directoriesOnly ? normalized.slice(0, -1) : normalized;
  const segments = segmentsOf(trimmed);
  let foundGlob = false;
  const searchSegments = segments
    .map(literalOf)
    .filter((literal) => !foundGlob && !(foundGlob = literal === ''));
  return {
    negate,
    implicit,
    segments,
    directoriesOnly,
    searchPath: joinSegments(searchSegments),
    matcher: new minimatch.Minimatch(trimmed, MINIMATCH_OPTIONS),
  };
}

/** The patterns of a call, rooted at `workspace`, with the implicit descendants @actions/glob adds. */
function parsePatterns(patterns: readonly string[], workspace: string): GlobPattern[] {
  const parsed: GlobPattern[] = [];
  for (const line of patterns
    .join('\n')
    .split('\n')
    .map((text) => text.trim())) {
    if (line === '' || line.startsWith('#')) continue;
    let text = line;
    let negate = false;
    while (text.startsWith('!')) {
      negate = !negate;
      text = text.slice(1).trim();
    }
    if (text === '') throw new HashFilesError(`hashFiles(): the pattern '${line}' is empty after its '!'`);
    const literals = text.replace(/\/\/+/g, '/').split('/').map(literalOf);
    if (literals.some((literal, i) => (literal === '.' && i !== 0) || literal === '..')) {
      throw new HashFilesError(
        `hashFiles(): invalid pattern '${text}': relative pathing '.' and '..' is not allowed (as on GitHub)`,
      );
    }
    if (text === '~' || text.startsWith('~/')) continue;
    let absolute: string;
    if (text === '.' || text.startsWith('./')) absolute = globEscape(workspace) + text.slice(1);
    else if (text.startsWith('/')) absolute = text;
    else absolute = `${globEscape(workspace).replace(/\/?$/, '/')}${text}`;
    const pattern = makePattern(negate, absolute);
    parsed.push(pattern);
    if (pattern.directoriesOnly || pattern.segments[pattern.segments.length - 1] !== '**') {
      parsed.push(makePattern(negate, joinSegments([...pattern.segments, '**']), true));
    }
  }
  return parsed;
}

/** @actions/glob's `getSearchPaths`: roots of the non-negated patterns, none below another. */
function searchPaths(patterns: readonly GlobPattern[]): string[] {
  const positive = patterns.filter((pattern) => !pattern.negate);
  const candidates = new Set(positive.map((pattern) => pattern.searchPath));
  const result: string[] = [];
  for (const { searchPath } of positive) {
    if (result.includes(searchPath)) continue;
    let hasAncestor = false;
    for (let dir = parentOf(searchPath); dir !== undefined; dir = parentOf(dir)) {
      if (candidates.has(dir)) hasAncestor = true;
    }
    if (!hasAncestor) result.push(searchPath);
  }
  return result;
}

function parentOf(path: string): string | undefined {
  if (path === '/') return undefined;
  const cut = path.lastIndexOf('/');
  return cut <= 0 ? '/' : path.slice(0, cut);
}

/** Whether a non-directory entry is selected: every pattern in order, as `patternHelper.match`. */
function selects(patterns: readonly GlobPattern[], file: string): boolean {
  let selected = false;
  for (const pattern of patterns) {
    if (pattern.directoriesOnly) continue;
    const last = pattern.segments[pattern.segments.length - 1];
    // As @actions/glob: a pattern ending in `**` is matched against the path with a trailing `/`.
    const matched = pattern.matcher.match(last === '**' ? `${file}/` : file);
    if (!matched) continue;
    selected = !pattern.negate;
  }
  return selected;
}

/** Depth-first order with each directory's entries sorted by byte value, as the globber walks. */
function walkOrder(left: string, right: string): number {
  const a = left.split('/');
  const b = right.split('/');
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const order = Buffer.compare(Buffer.from(a[i]!), Buffer.from(b[i]!));
    if (order !== 0) return order;
  }
  return a.length - b.length;
}

/** What to ask the far side for, once its working directory (physical path) is known. */
export interface HashFilesPlan {
  request: HashFilesRequest;
  /** The physical workspace; only files below it count. */
  workspace: string;
  roots: string[];
  patterns: GlobPattern[];
}

export function planHashFiles(request: HashFilesRequest, workspace: string): HashFilesPlan {
  const patterns = parsePatterns(request.patterns, workspace);
  // Only files below the workspace count: a root outside it is not walked, and one above it is
  // walked from the workspace (the same files, in the same order, without the rest of the disk).
  const base = workspace.replace(/\/$/, '');
  const below = (root: string): boolean => root === base || root.startsWith(`${base}/`);
  const above = (root: string): boolean => root === '/' || base.startsWith(`${root}/`);
  const roots = searchPaths(patterns).flatMap((root) => (below(root) ? [root] : above(root) ? [base] : []));
  return { request, workspace, roots: [...new Set(roots)], patterns };
}

/**
 * Bash that prints `pwd -P` of `directory` (the workspace as the runner's node script sees it,
 * symbolic links resolved), then a NUL.
 */
export function physicalDirectoryCommand(directory: string): string {
  return `cd -- ${shellQuote(directory)} && printf '%s\\0' "$(pwd -P)"`;
}

/**
 * Bash that lists every entry that is not a directory under the plan's roots, each followed by
 * a NUL (a root that does not exist is skipped, as the globber skips it). Without
 * --follow-symbolic-links a link is an entry of its own, as `lstat` sees it.
 */
export function listFilesCommand(plan: HashFilesPlan): string {
  // No -P for the default (BusyBox find, in minimal images, knows only -H and -L): find does not
  // follow links unless told to.
  const follow = plan.request.followSymbolicLinks ? '-L ' : '';
  const roots = plan.roots.map(shellQuote).join(' ');
  if (roots === '') return 'true';
  const filter = candidateFilter(plan.patterns);
  return [
    `for root in ${roots}; do`,
    '  [ -e "$root" ] || [ -L "$root" ] || continue',
    `  find ${follow}"$root" ! -type d${filter} -print0 || exit 1`,
    'done',
  ].join('\n');
}

/**
 * A `find` test keeping every file a pattern as written could select, so that `**\/Cargo.lock`
 * does not send the name of every file under node_modules through the relay: a pattern ending
 * in a name (or a name with `*` and `?`) selects a file of that name, or (its implicit
 * descendants) a file below a directory of that name. find's globs let `*` match `/` in -path,
 * so this keeps a superset; the exact choice is selectFiles'. '' (no test) when a pattern ends
 * in `**` or uses a bracket or an escape.
 */
function candidateFilter(patterns: readonly GlobPattern[]): string {
  const names = new Set<string>();
  for (const pattern of patterns) {
    if (pattern.negate || pattern.implicit) continue;
    const last = pattern.segments[pattern.segments.length - 1] ?? '**';
    if (last === '**' || /[[\]\\]/.test(last) || pattern.segments.length < 2) return '';
    names.add(last);
  }
  if (names.size === 0) return '';
  const tests = [...names].flatMap((name) => [
    `-name ${shellQuote(name)}`,
    `-path ${shellQuote(`*/${name}/*`)}`,
  ]);
  return ` \\( ${tests.join(' -o ')} \\)`;
}

/** The files to hash, in the runner's order, from the far side's listing. */
export function selectFiles(plan: HashFilesPlan, listing: string): string[] {
  const under = `${plan.workspace.replace(/\/$/, '')}/`;
  const byRoot = new Map<string, string[]>(plan.roots.map((root) => [root, []]));
  for (const file of new Set(listing.split('\0'))) {
    if (file === '' || !file.startsWith(under) || !selects(plan.patterns, file)) continue;
    const root = plan.roots.find((candidate) => file === candidate || file.startsWith(`${candidate}/`));
    if (root !== undefined) byRoot.get(root)!.push(file);
  }
  return plan.roots.flatMap((root) => byRoot.get(root)!.sort(walkOrder));
}

/**
 * Bash that prints, for each file in order, its SHA-256 in hex on a line of its own, or `-` for
 * one that turned out to be a directory (a link to one: skipped, as the runner skips it). A file
 * that cannot be read fails the whole call, as it fails the runner's script.
 */
export function hashFilesCommand(files: readonly string[]): string {
  if (files.length === 0) return 'true';
  return [
    `for file in ${files.map(shellQuote).join(' ')}; do`,
    `  if [ -d "$file" ]; then echo -; continue; fi`,
    '  sum=$(sha256sum < "$file") || exit 1',
    '  printf \'%s\\n\' "${sum%% *}"',
    'done',
  ].join('\n');
}

/** SHA-256 over the files' digests (raw bytes, in order), hex; '' when no file was hashed. */
export function combineDigests(output: string): string {
  const digests = output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== '-');
  if (digests.length === 0) return '';
  const result = createHash('sha256');
  for (const digest of digests) {
    if (!/^[0-9a-f]{64}$/.test(digest))
      throw new HashFilesError(`hashFiles(): sha256sum printed '${digest}', not a SHA-256 digest`);
    result.update(Buffer.from(digest, 'hex'));
  }
  return result.digest('hex');
}
