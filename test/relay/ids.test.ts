// Command ids (Part A: `<epoch_ns>_<client pid>`): their format, their order, and which
// names a server accepts as ids. Pure functions: no processes needed.
import { describe, expect, it } from 'vitest';
import { describeInvalidId, isValidCommandId, newCommandId } from '../../src/relay/ids.js';

describe('newCommandId', () => {
  it('is 19 digits of epoch nanoseconds, `_`, and the pid', () => {
    const id = newCommandId();
    expect(id).toMatch(/^\d{19}_\d+$/);
    expect(id.endsWith(`_${process.pid}`)).toBe(true);
    expect(newCommandId(42)).toMatch(/^\d{19}_42$/);
    // Close to the wall clock (within a minute), in nanoseconds.
    const ns = BigInt(id.split('_')[0]!);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const diff = ns > nowNs ? ns - nowNs : nowNs - ns;
    expect(diff < 60_000_000_000n).toBe(true);
  });

  it('is strictly increasing and lexicographically sorted across 10,000 calls', () => {
    const ids = Array.from({ length: 10_000 }, () => newCommandId());
    for (const id of ids) expect(id).toMatch(/^\d{19}_\d+$/);
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) {
      const [prev, next] = [ids[i - 1]!, ids[i]!];
      if (!(BigInt(prev.split('_')[0]!) < BigInt(next.split('_')[0]!)) || !(prev < next)) {
        expect.fail(`ids ${i - 1} and ${i} are out of order: ${prev} then ${next}`);
      }
    }
    expect([...ids].sort()).toEqual(ids);
  });

  it('every id it makes is a valid id', () => {
    expect(isValidCommandId(newCommandId())).toBe(true);
    expect(isValidCommandId(newCommandId(4_194_304))).toBe(true);
  });
});

describe('isValidCommandId', () => {
  const valid = [
    '1763800000000000000_1234',
    'a',
    'A',
    '0',
    '-',
    '_',
    'a.b',
    '.hidden',
    '..a',
    'a..',
    'x'.repeat(128),
    'A-Za-z0-9._-',
  ];
  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    ['x'.repeat(129), '129 characters'],
    ['.', 'a lone dot'],
    ['..', 'two dots'],
    ['...', 'only dots'],
    ['a b', 'a space'],
    ['a:b', 'a colon'],
    ['a/b', 'a slash'],
    ['../x', 'a path'],
    ['a\\b', 'a backslash'],
    ['a\nb', 'a newline'],
    ['a\n', 'a trailing newline'],
    ['a\0b', 'a NUL'],
    ['café', 'non-ASCII'],
    ['a*', 'a glob'],
    ['a$b', 'a dollar'],
    [' a', 'a leading space'],
  ];

  for (const id of valid) {
    it(`accepts ${JSON.stringify(id.length > 20 ? id.slice(0, 20) + '…' : id)}`, () => {
      expect(isValidCommandId(id)).toBe(true);
    });
  }
  for (const [id, why] of invalid) {
    it(`rejects ${why}`, () => {
      expect(isValidCommandId(id)).toBe(false);
    });
  }
});

describe('describeInvalidId', () => {
  it('shows a short id quoted, with its length and the rule', () => {
    const text = describeInvalidId('a:b');
    expect(text).toContain('"a:b"');
    expect(text).toContain('3 characters');
    expect(text).toContain('[A-Za-z0-9._-]{1,128}');
  });

  it('shortens a long id and escapes control characters', () => {
    const text = describeInvalidId('y'.repeat(300) + '\n');
    expect(text.length).toBeLessThan(150);
    expect(text).toContain('301 characters');
    expect(text).not.toContain('\n');
    expect(describeInvalidId('a\u001b[31mb')).not.toContain('\u001b');
  });
});
