/**
 * Masking secrets in what a job shows: every secret value and every value a step registers with
 * `::add-mask::` becomes `***` in text, as GitHub's runner does, so a token echoed by a step is
 * not shown in the debug console, an output event, a variable or a log.
 *
 * The values registered follow the runner (actions/runner, `JobRunner`: a secret is trimmed and
 * added whole, then each of its lines trimmed, because a child's output is read line by line;
 * empty and whitespace-only values are ignored, as the runner ignores them).
 *
 * Where several values overlap in the text ("abcd" and "cdef" in "abcdef") the runner's masker
 * merges the overlapping occurrences into one `***`; so does this one, so no part of either
 * value is left showing. At one position the longest value wins.
 *
 * Output arrives in chunks split anywhere (a pipe, the relay's log file read while it grows),
 * so a secret can straddle two chunks and a UTF-8 character can be cut in two. `stream()` decodes
 * bytes with a StringDecoder (a cut character waits for its other bytes) and holds back only the
 * end of the text that could still be the start of a value, never more; `end()` releases it.
 *
 * Each value is also masked in the forms the runner's HostContext registers encoders for, so a
 * secret printed by `toJSON`, put in a URL or quoted is still caught: JSON string escape, URI
 * data escape (RFC 3986 unreserved characters kept), XML escape, expression escape (`'` as
 * `''`) and without surrounding double quotes. Not done: the runner's base64 encoders.
 */
import { StringDecoder } from 'node:string_decoder';

export const MASK = '***';

/** The runner's ValueEncoders that this masker applies to every value (see the header). */
const ENCODERS: readonly ((value: string) => string)[] = [
  (value) => JSON.stringify(value).slice(1, -1),
  (value) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  (value) =>
    value.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
    ),
  (value) => value.replaceAll("'", "''"),
  (value) => (value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value),
];

interface Range {
  start: number;
  end: number;
}

export class SecretMasker {
  private readonly values = new Set<string>();
  /** First character → the values starting with it, longest first. */
  private byFirst = new Map<string, string[]>();
  private longest = 0;

  /** A secret, or a value of `::add-mask::`: masked from now on, whole and line by line. */
  add(value: string): void {
    const whole = value.trim();
    if (whole === '') return;
    this.addOne(whole);
    for (const line of whole.split(/[\r\n]+/)) {
      const trimmed = line.trim();
      if (trimmed !== '') this.addOne(trimmed);
    }
  }

  /** Whether any value is registered (nothing to do otherwise). */
  get isEmpty(): boolean {
    return this.values.size === 0;
  }

  /** `text` with every registered value replaced by `***`. */
  mask(text: string): string {
    if (this.values.size === 0) return text;
    return this.replace(text, this.ranges(text), text.length);
  }

  /**
   * A masker for one output stream (stdout, stderr) that arrives in chunks; with
   * `addMaskCommands`, its `::add-mask::` lines register values (see MaskingStream).
   */
  stream(options: { addMaskCommands?: boolean } = {}): MaskingStream {
    return new MaskingStream(this, options.addMaskCommands === true);
  }

  /** @internal the text masked up to where it is final, and the rest to hold back. */
  maskFinal(text: string): { out: string; held: string } {
    if (this.values.size === 0) return { out: text, held: '' };
    const ranges = this.ranges(text);
    let cut = this.firstPossibleStart(text);
    // A merged occurrence running over the cut could still grow with what comes next.
    for (const range of ranges) {
      if (range.start < cut && range.end > cut) cut = range.start;
    }
    return { out: this.replace(text, ranges, cut), held: text.slice(cut) };
  }

  private addOne(value: string): void {
    this.store(value);
    for (const encode of ENCODERS) {
      const encoded = encode(value);
      if (encoded.trim() !== '') this.store(encoded);
    }
  }

  private store(value: string): void {
    if (this.values.has(value)) return;
    this.values.add(value);
    this.longest = Math.max(this.longest, value.length);
    const first = value[0] ?? '';
    const list = [...(this.byFirst.get(first) ?? []), value].sort((a, b) => b.length - a.length);
    this.byFirst.set(first, list);
  }

  /** Every occurrence of every value, overlapping ones merged, in order. */
  private ranges(text: string): Range[] {
    const found: Range[] = [];
    for (const value of this.values) {
      for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
        found.push({ start: at, end: at + value.length });
      }
    }
    found.sort((a, b) => a.start - b.start || b.end - a.end);
    const merged: Range[] = [];
    for (const range of found) {
      const last = merged[merged.length - 1];
      if (last !== undefined && range.start < last.end) last.end = Math.max(last.end, range.end);
      else merged.push({ ...range });
    }
    return merged;
  }

  /** The first position from which the rest of `text` is a proper prefix of some value. */
  private firstPossibleStart(text: string): number {
    for (let at = Math.max(0, text.length - this.longest + 1); at < text.length; at++) {
      const tail = text.slice(at);
      const candidates = this.byFirst.get(text[at] ?? '') ?? [];
      if (candidates.some((value) => value.length > tail.length && value.startsWith(tail))) return at;
    }
    return text.length;
  }

  /** `text` up to `until`, with each range (all of which end by then or start after) masked. */
  private replace(text: string, ranges: Range[], until: number): string {
    let out = '';
    let from = 0;
    for (const range of ranges) {
      if (range.start >= until) break;
      out += text.slice(from, range.start) + MASK;
      from = range.end;
    }
    return out + text.slice(from, until);
  }
}

const ADD_MASK = '::add-mask::';

/** The value of an `::add-mask::` line, unescaped as the runner unescapes command data. */
function addMaskValue(line: string): string | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (!text.startsWith(ADD_MASK)) return undefined;
  return text.slice(ADD_MASK.length).replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

/**
 * One stream's masking state: `write` returns what can be shown now (possibly ''), `end` the
 * rest. Values added to the masker meanwhile apply from the next write.
 *
 * With `addMaskCommands` (a step's stdout), a line `::add-mask::VALUE` registers VALUE before
 * anything of that line is shown (so the command line itself shows `::add-mask::***`), and an
 * unfinished line that is or may become such a command is held until its newline.
 */
export class MaskingStream {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';
  /** Whether `held` starts at the start of a line (commands count only there). */
  private heldAtLineStart = true;

  constructor(
    private readonly masker: SecretMasker,
    private readonly addMaskCommands = false,
  ) {}

  write(chunk: Buffer | string): string {
    const text = this.held + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    if (!this.addMaskCommands) return this.emit(text, '');
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    lines.forEach((line, index) => this.register(line, index > 0 || this.heldAtLineStart));
    const lastAtLineStart = lines.length > 0 || this.heldAtLineStart;
    const maybeCommand =
      lastAtLineStart && last !== '' && (ADD_MASK.startsWith(last) || last.startsWith(ADD_MASK));
    return maybeCommand ? this.emit(text.slice(0, text.length - last.length), last) : this.emit(text, '');
  }

  /** The text held back (and any incomplete character, as U+FFFD), masked. */
  end(): string {
    const rest = this.held + this.decoder.end();
    if (this.addMaskCommands) {
      const lines = rest.split('\n');
      lines.forEach((line, index) => this.register(line, index > 0 || this.heldAtLineStart));
    }
    this.held = '';
    this.heldAtLineStart = true;
    return this.masker.mask(rest);
  }

  private register(line: string, atLineStart: boolean): void {
    const value = atLineStart ? addMaskValue(line) : undefined;
    if (value === undefined) return;
    this.masker.add(value);
    // The command line shows the value as written (escaped): that form is masked too.
    this.masker.add(line.replace(/\r$/, '').slice(ADD_MASK.length));
  }

  /** Masks `text` as far as it is final; holds the rest and `unfinished` (a command line). */
  private emit(text: string, unfinished: string): string {
    const { out, held } = this.masker.maskFinal(text);
    const previous = this.heldAtLineStart;
    this.held = held + unfinished;
    if (held !== '') {
      const before = text.slice(0, text.length - held.length);
      this.heldAtLineStart = before === '' ? previous : before.endsWith('\n');
    } else {
      this.heldAtLineStart = text === '' ? previous : text.endsWith('\n');
    }
    return out;
  }
}
