// Node's own timers fire at once past 2^31-1 ms; longTimeout must wait the whole time.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { longTimeout } from '../../src/time/longTimeout.js';

const DAY_MS = 24 * 3600 * 1000;

describe('longTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits 3000000 s (34.7 days), past the 24.8 days of setTimeout, and fires once', () => {
    const fired = vi.fn();
    longTimeout(fired, 3_000_000 * 1000);
    vi.advanceTimersByTime(1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(30 * DAY_MS);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(3_000_000 * 1000 - 30 * DAY_MS - 2);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(400 * DAY_MS);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('a short one behaves as setTimeout; clear() cancels a long one between its chunks', () => {
    const short = vi.fn();
    longTimeout(short, 50);
    vi.advanceTimersByTime(50);
    expect(short).toHaveBeenCalledTimes(1);
    const long = vi.fn();
    const timer = longTimeout(long, 365 * DAY_MS);
    vi.advanceTimersByTime(100 * DAY_MS);
    timer.clear();
    vi.advanceTimersByTime(300 * DAY_MS);
    expect(long).not.toHaveBeenCalled();
  });
});
