/**
 * Timeouts the user gives (run --timeout, a job's or a step's timeout, timeout-minutes,
 * connectTimeout). Node's setTimeout takes at most 2^31-1 ms (24.8 days) and fires at once
 * for anything larger; a long timer here re-arms in chunks instead, so every value up to
 * MAX_TIMEOUT_SECONDS means what it says, and larger ones are refused where they are read.
 */

/** One year: longer than any batch allocation or CI job runs; larger values are refused. */
export const MAX_TIMEOUT_SECONDS = 365 * 24 * 3600;

/** How the maximum reads in messages. */
export const MAX_TIMEOUT_TEXT = `${MAX_TIMEOUT_SECONDS} s (365 days)`;

/** The largest delay Node's own timers honour. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimeout {
  clear(): void;
}

/**
 * Calls `callback` once after `ms` milliseconds of wall-clock time, however long that is.
 * Like setTimeout, a pending timer keeps the process alive; `clear()` cancels it.
 */
export function longTimeout(callback: () => void, ms: number): LongTimeout {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    const left = deadline - performance.now();
    if (left <= MAX_TIMER_MS) {
      timer = setTimeout(callback, Math.max(0, left));
    } else {
      timer = setTimeout(arm, MAX_TIMER_MS);
    }
  };
  arm();
  return { clear: () => clearTimeout(timer) };
}
