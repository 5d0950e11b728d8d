/**
 * Command ids: `<epoch_ns>_<client pid>` (Part A). They sort in submission order, and a
 * server runs commands in lexicographic id order, so the first part must always be 19 digits.
 */

/** What a server accepts as an id: no `/`, no `:`, nothing that could leave `cmd/` or `result/`. */
const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function isValidCommandId(id: string): boolean {
  return ID_PATTERN.test(id) && !/^\.+$/.test(id);
}

/** Shown in logs in place of an invalid id, which may be long or hold control characters. */
export function describeInvalidId(id: string): string {
  const shown = JSON.stringify(id.length > 40 ? id.slice(0, 40) + '…' : id);
  return `${shown} (${id.length} characters; an id must match [A-Za-z0-9._-]{1,128})`;
}

let lastNs = 0n;

/** Wall-clock nanoseconds, strictly increasing within this process so that ids never collide. */
function epochNanoseconds(): bigint {
  const ms = performance.timeOrigin + performance.now();
  let ns = BigInt(Math.floor(ms * 1e3)) * 1000n;
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}

export function newCommandId(pid: number = process.pid): string {
  return `${epochNanoseconds().toString().padStart(19, '0')}_${pid}`;
}

export function epochNanosecondsString(): string {
  return epochNanoseconds().toString();
}
