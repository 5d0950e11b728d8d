import { describe, expect, it } from 'vitest';
import { MASK, SecretMasker } from '../../src/workflow/secretMasker.js';

function maskerOf(...values: string[]): SecretMasker {
  const masker = new SecretMasker();
  for (const value of values) masker.add(value);
  return masker;
}

/** The stream's output for `bytes` cut at `cuts` (byte offsets, ascending). */
function streamed(masker: SecretMasker, bytes: Buffer, cuts: number[], addMaskCommands = false): string {
  const stream = masker.stream({ addMaskCommands });
  let out = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += stream.write(bytes.subarray(from, cut));
    from = cut;
  }
  return out + stream.end();
}

/** A small deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('SecretMasker.mask', () => {
  it('replaces every occurrence of a secret with ***', () => {
    expect(maskerOf('hunter2').mask('pw=hunter2; again hunter2.')).toBe(`pw=${MASK}; again ${MASK}.`);
  });

  it('ignores empty and whitespace-only values, and trims the others as the runner does', () => {
    const masker = maskerOf('', '   ', '\n\t', '  tok  ');
    expect(masker.mask('a  b tok c')).toBe(`a  b ${MASK} c`);
    expect(maskerOf('', ' ').isEmpty).toBe(true);
  });

  it('masks the longest value at a position, and merges overlapping values into one ***', () => {
    expect(maskerOf('abc', 'abcdef').mask('xabcdefx')).toBe(`x${MASK}x`);
    // "abcd" and "cdef" overlap in "abcdef": neither "ef" nor "ab" may remain.
    expect(maskerOf('abcd', 'cdef').mask('-abcdef-')).toBe(`-${MASK}-`);
    // Overlapping occurrences of one value.
    expect(maskerOf('aba').mask('ababa')).toBe(MASK);
  });

  it('masks a multi-line secret whole and each of its lines, as the runner adds them', () => {
    const key = '-----BEGIN KEY-----\nMIIEabc\n  line2xyz  \r\n-----END KEY-----';
    const masker = maskerOf(key);
    expect(masker.mask(`cat key:\n${key}\n`)).toBe(`cat key:\n${MASK}\n`);
    // A step printing one line of it (grep, head -2) still shows none of it.
    expect(masker.mask('found MIIEabc and line2xyz here')).toBe(`found ${MASK} and ${MASK} here`);
    // The same text with the line indented differently: the lines are masked one by one.
    expect(masker.mask('-----BEGIN KEY-----\n    MIIEabc\n')).toBe(`${MASK}\n    ${MASK}\n`);
  });

  it('masks a value added later (::add-mask::) from then on', () => {
    const masker = maskerOf('s3cret');
    expect(masker.mask('s3cret generated-123')).toBe(`${MASK} generated-123`);
    masker.add('generated-123');
    expect(masker.mask('s3cret generated-123')).toBe(`${MASK} ${MASK}`);
  });

  it('masks the encoded forms the runner registers: JSON, URI, XML, expression, quoted', () => {
    const secret = `p"a'ss w\\rd&<x>`;
    const masker = maskerOf(secret);
    expect(masker.mask(JSON.stringify({ token: secret }))).toBe(`{"token":"${MASK}"}`);
    expect(masker.mask(`https://h/?t=${encodeURIComponent(secret).replace("'", '%27')}`)).toBe(
      `https://h/?t=${MASK}`,
    );
    expect(masker.mask(`<t>p&quot;a&apos;ss w\\rd&amp;&lt;x&gt;</t>`)).toBe(`<t>${MASK}</t>`);
    expect(masker.mask(`'p"a''ss w\\rd&<x>'`)).toBe(`'${MASK}'`);
    expect(maskerOf('"quoted"').mask('value quoted here')).toBe(`value ${MASK} here`);
  });

  it('treats regular-expression characters literally', () => {
    expect(maskerOf('a.b*c(d)$').mask('a.b*c(d)$ axbbc')).toBe(`${MASK} axbbc`);
  });
});

describe('SecretMasker.stream', () => {
  const secrets = ['hunter2', 'hunter2-long', 'ünïcødé€', 'xyzzy\nplugh'];
  const text =
    'start hunter2 mid hunter2-long, ünïcødé€ and ' +
    'xyzzy\nplugh then plugh, hunter hunter2hunter2 ünïcød end ünïcødé€';

  it('masks secrets straddling any single split point, exactly as masking the whole text', () => {
    const masker = maskerOf(...secrets);
    const bytes = Buffer.from(text);
    const whole = masker.mask(text);
    for (const secret of secrets) expect(whole).not.toContain(secret);
    // Every byte offset, including those inside a multi-byte UTF-8 character.
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(streamed(masker, bytes, [cut]), `split at byte ${cut}`).toBe(whole);
    }
  });

  it('masks whatever the chunking: byte by byte, and random splits', () => {
    const masker = maskerOf(...secrets);
    const bytes = Buffer.from(text);
    const whole = masker.mask(text);
    const everyByte = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    expect(streamed(masker, bytes, everyByte)).toBe(whole);
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      const cuts = everyByte.filter(() => next() < 0.2);
      expect(streamed(masker, bytes, cuts), `cuts ${cuts.join(',')}`).toBe(whole);
    }
  });

  it('holds back only what could start a secret, so other output is shown at once', () => {
    const stream = maskerOf('hunter2').stream();
    expect(stream.write('line one\nabc')).toBe('line one\nabc');
    expect(stream.write('xx hun')).toBe('xx ');
    expect(stream.write('ter')).toBe('');
    expect(stream.write('2!')).toBe(`${MASK}!`);
    expect(stream.write('hunt')).toBe('');
    expect(stream.end()).toBe('hunt');
  });

  it('keeps a UTF-8 character cut between chunks whole', () => {
    const stream = new SecretMasker().stream();
    const bytes = Buffer.from('é€');
    expect(stream.write(bytes.subarray(0, 1)) + stream.write(bytes.subarray(1, 3))).toBe('é');
    expect(stream.write(bytes.subarray(3)) + stream.end()).toBe('€');
  });

  it('property: no secret ever appears in the output, for random secrets, texts and chunkings', () => {
    const next = random(7);
    const alphabet = 'abcé€ \n';
    const word = (min: number, max: number): string => {
      const length = min + Math.floor(next() * (max - min + 1));
      return Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    };
    for (let round = 0; round < 400; round++) {
      const values = Array.from({ length: 1 + Math.floor(next() * 3) }, () => word(1, 6));
      const masker = maskerOf(...values);
      // Texts built from the secrets themselves and noise, so that matches and near misses abound.
      const parts = Array.from({ length: 8 }, () =>
        next() < 0.5 ? (values[Math.floor(next() * values.length)] ?? '') : word(0, 4),
      );
      const input = parts.join('');
      const bytes = Buffer.from(input);
      const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1).filter(() => next() < 0.3);
      const out = streamed(masker, bytes, cuts);
      expect(out, `values ${JSON.stringify(values)} text ${JSON.stringify(input)}`).toBe(masker.mask(input));
      for (const value of values) {
        for (const line of value.split(/[\r\n]+/).map((l) => l.trim())) {
          if (line !== '')
            expect(out.replaceAll(MASK, '\0'), JSON.stringify({ values, input })).not.toContain(line);
        }
      }
    }
  });
});

describe('::add-mask:: lines in a stream', () => {
  const output =
    'build\n::add-mask::s3cr%25t-ünï\nusing s3cr%t-ünï now; echo ::add-mask::plain\nplain stays\n';
  const expected = `build\n::add-mask::${MASK}\nusing ${MASK} now; echo ::add-mask::plain\nplain stays\n`;

  it('registers the value before any of its line is shown, whatever the split point', () => {
    const bytes = Buffer.from(output);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const masker = new SecretMasker();
      expect(streamed(masker, bytes, [cut], true), `split at byte ${cut}`).toBe(expected);
    }
    const next = random(3);
    for (let round = 0; round < 200; round++) {
      const cuts = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1).filter(() => next() < 0.25);
      expect(streamed(new SecretMasker(), bytes, cuts, true), `cuts ${cuts.join(',')}`).toBe(expected);
    }
  });

  it('masks the value in later output and other streams of the same masker; a mid-line ::add-mask:: is no command', () => {
    const masker = new SecretMasker();
    const stdout = masker.stream({ addMaskCommands: true });
    expect(stdout.write('::add-mask::tok')).toBe('');
    expect(stdout.write('en42\r\nok\n')).toBe(`::add-mask::${MASK}\r\nok\n`);
    expect(masker.stream().write('stderr: token42\n')).toBe(`stderr: ${MASK}\n`);
    expect(masker.mask('plain')).toBe('plain');
    // A line without its newline at the end of the stream still counts.
    const last = masker.stream({ addMaskCommands: true });
    expect(last.write('x\n::add-mask::final-value') + last.end()).toBe(`x\n::add-mask::${MASK}`);
    expect(masker.mask('final-value')).toBe(MASK);
  });
});
