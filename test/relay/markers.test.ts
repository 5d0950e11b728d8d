// The `host:pid:stamp` markers (owner, server.ready, client.ready, handshake.done,
// heartbeat). One test starts a real process, to have a pid that is certainly dead.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  describeMarker,
  formatMarker,
  heartbeatMillis,
  isProcessAlive,
  isThisHost,
  parseMarker,
} from '../../src/relay/markers.js';

describe('parseMarker', () => {
  it('keeps the colons of an ISO-8601 stamp in the stamp', () => {
    const marker = parseMarker('node7:4242:2026-11-22T08:08:40.560Z\n');
    expect(marker).toEqual({
      host: 'node7',
      pid: 4242,
      stamp: '2026-11-22T08:08:40.560Z',
      raw: 'node7:4242:2026-11-22T08:08:40.560Z',
    });
  });

  it('keeps a stamp with a time zone offset whole', () => {
    expect(parseMarker('h:1:2026-11-22T09:08:40+01:00')?.stamp).toBe('2026-11-22T09:08:40+01:00');
  });

  it('reads epoch stamps (owner: ns, heartbeat: ms)', () => {
    expect(parseMarker('h.example.org:99:1795334921552717000')).toMatchObject({
      host: 'h.example.org',
      pid: 99,
      stamp: '1795334921552717000',
    });
    expect(heartbeatMillis(parseMarker('h:99:1795334921552'))).toBe(1795334921552);
  });

  it('trims surrounding whitespace (a marker ends in a newline)', () => {
    expect(parseMarker('  h:5:x \r\n')?.raw).toBe('h:5:x');
  });

  const bad: Array<[string | undefined, string]> = [
    [undefined, 'no file'],
    ['', 'empty'],
    ['\n', 'a newline only'],
    ['host', 'no colon'],
    ['host:123', 'one colon'],
    [':123:x', 'no host'],
    ['host::x', 'no pid'],
    ['host:abc:x', 'a pid that is not a number'],
    ['host:0:x', 'pid 0'],
    ['host:-5:x', 'a negative pid'],
    ['host:1.5:x', 'a fractional pid'],
    ['host:99999999999999999999:x', 'a pid beyond the safe integers'],
    ['host:0x10:x', 'a hexadecimal pid'],
    ['host:1e3:x', 'a pid in exponent notation'],
    ['host: 12:x', 'a pid with a space'],
  ];
  for (const [text, why] of bad) {
    it(`rejects ${why}`, () => {
      expect(parseMarker(text)).toBeUndefined();
    });
  }
});

describe('formatMarker', () => {
  it('writes host:pid:stamp and a newline, and reads back', () => {
    const stamp = new Date().toISOString();
    const text = formatMarker(stamp);
    expect(text).toBe(`${os.hostname()}:${process.pid}:${stamp}\n`);
    const marker = parseMarker(text)!;
    expect(marker).toMatchObject({ host: os.hostname(), pid: process.pid, stamp });
    expect(isThisHost(marker)).toBe(true);
    expect(describeMarker(marker)).toBe(`${os.hostname()}:${process.pid}`);
    expect(formatMarker('s', 77)).toBe(`${os.hostname()}:77:s\n`);
  });

  it('another host is not this host', () => {
    expect(isThisHost(parseMarker(`not-${os.hostname()}:1:x`)!)).toBe(false);
  });
});

describe('heartbeatMillis', () => {
  it('is undefined for a stamp that is not epoch milliseconds', () => {
    expect(heartbeatMillis(undefined)).toBeUndefined();
    expect(heartbeatMillis(parseMarker('h:1:2026-11-22T08:08:40.560Z'))).toBeUndefined();
    expect(heartbeatMillis(parseMarker('h:1:'))).toBeUndefined();
    expect(heartbeatMillis(parseMarker('h:1:-5'))).toBeUndefined();
  });
});

describe('isProcessAlive', () => {
  it('is true for this process and false for one that has exited (a real process)', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    });
    const deadPid = Number(child.stdout);
    expect(deadPid).toBeGreaterThan(0);
    // spawnSync has reaped it; pids are reused only after wrapping around pid_max.
    expect(isProcessAlive(deadPid)).toBe(false);
  });
});
