// A command held on a gate file: it does `before`, then waits until the test creates `gate`,
// then does `after`. Tests use it to act on a relay (cancel, delete, inspect modes) while a
// command is known to be running, without guessing how long it runs.

/** `before; while [ ! -e gate ]; do sleep 0.05; done; after` — runs until `gate` exists. */
export function heldCommand(before: string, gate: string, after?: string): string {
  return [before, `while [ ! -e ${gate} ]; do sleep 0.05; done`, after].filter(Boolean).join('; ');
}

/** The arguments of `relay-dap run` for `command`; `flags` (e.g. `--lease`) go before `--`. */
export function runArgs(relayDir: string, command: string, flags: readonly string[] = []): string[] {
  return ['run', '--relay-dir', relayDir, ...flags, '--', command];
}
