/**
 * The error ids of the adapter's error responses (`body.error.id`), pinned: clients and users'
 * tools tell failures apart by these numbers, so changing one breaks them. The one table the
 * tests use; test/support/errorIds.test.ts checks it against src/dap/errors.ts, so that a
 * renumbering in src fails there, by name, rather than as a puzzling mismatch in some DAP test.
 */
const PINNED = [
  ['InvalidArguments', 2001],
  ['RelayUnavailable', 2002],
  ['NoJob', 2003],
  ['WrongState', 2004],
  ['UnknownReference', 2005],
  ['Evaluate', 2006],
  ['Unsupported', 2007],
  ['Cancelled', 2008],
  ['InvalidJob', 2009],
  ['SessionEnded', 2010],
  ['Internal', 2099],
] as const;

type Pinned = (typeof PINNED)[number];

/** `ERR.WrongState` is 2004, and so on. */
export const ERR = Object.fromEntries(PINNED) as { readonly [P in Pinned as P[0]]: P[1] };
