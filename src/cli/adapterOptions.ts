/**
 * The adapter's options, apart from the adapter itself (adapterCommand.ts): parsing them and
 * `--help` must not load the DAP stack, which is a bundle of its own (dist/adapter.cjs).
 */
import type { OptionSpec } from './argv.js';

export const ADAPTER_OPTIONS: OptionSpec[] = [
  {
    name: 'server',
    value: 'PORT',
    description: 'serve DAP over TCP on PORT (0: any free port) instead of stdio',
  },
  { name: 'port', value: 'PORT', description: 'the same as --server=PORT' },
  {
    name: 'host',
    value: 'HOST',
    description: 'address to listen on with --server/--port (default 127.0.0.1; not loopback: a warning)',
  },
  {
    name: 'allow-other-users',
    description: 'TCP: let other users and other hosts connect too (they run commands as you)',
  },
  {
    name: 'socket',
    value: 'PATH',
    description: 'serve DAP on a Unix socket at PATH (0600, in a 0700 directory of yours)',
  },
  {
    name: 'exit-with-client',
    description:
      'with --server or --socket: exit once the last session has ended, or when the process that started the adapter is gone (for an editor that spawns it, as nvim-dap does)',
  },
  {
    name: 'log-file',
    value: 'FILE',
    description: "append the adapter's own log to FILE (stdio default: none; TCP: stderr too)",
  },
];
