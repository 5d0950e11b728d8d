/**
 * `relay-dap` with no subcommand. The debug adapter itself lands with the DAP session; until
 * then this says what exists.
 */
import { UsageError, type OptionSpec, type ParsedArgs } from './argv.js';
import type { Console } from './relayCommands.js';

export const ADAPTER_OPTIONS: OptionSpec[] = [];

export function runAdapter(_args: ParsedArgs, _io: Console): Promise<number> {
  return Promise.reject(
    new UsageError('a subcommand is needed: serve, run, cancel, status, flush or handshake', undefined),
  );
}
