#!/usr/bin/env node
/**
 * The one binary. No subcommand: a debug adapter (DAP on stdio, or TCP with --server/--port).
 * A subcommand: the relay's own command line.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatOptions, parseArgs, UsageError, type OptionSpec, type ParsedArgs } from './argv.js';
import {
  EXIT_FAILURE,
  EXIT_USAGE,
  RELAY_COMMANDS,
  type Console,
  type RelayCommandSpec,
} from './relayCommands.js';
import { ADAPTER_OPTIONS } from './adapterOptions.js';

const GLOBAL_OPTIONS: OptionSpec[] = [
  { name: 'help', description: 'show help (relay-dap SUBCOMMAND --help for one subcommand)' },
  { name: 'version', description: 'print the version' },
];

const commands = new Map<string, RelayCommandSpec>(RELAY_COMMANDS.map((c) => [c.name, c]));

function specsFor(command: string | undefined): readonly OptionSpec[] {
  const own = command === undefined ? ADAPTER_OPTIONS : (commands.get(command)?.options ?? []);
  return [...GLOBAL_OPTIONS, ...own];
}

/** Set by scripts/build.mjs in the bundle, which has no package.json two folders up. */
declare const RELAY_DAP_VERSION: string | undefined;

export function version(): string {
  if (typeof RELAY_DAP_VERSION === 'string') return RELAY_DAP_VERSION;
  const packageJson = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

function mainHelp(): string {
  const width = Math.max(...RELAY_COMMANDS.map((c) => c.name.length));
  return `relay-dap ${version()}: debug jobs that run where your editor cannot reach (a container, a
cluster node, a Slurm allocation), through a directory both sides can see.

Debug adapter (for VS Code, nvim-dap, any DAP client):
  relay-dap                      speak DAP on stdin/stdout
  relay-dap --server=PORT        serve DAP over TCP on 127.0.0.1:PORT (--port PORT [--host H]),
                                 to connections of your own uid only
  relay-dap --socket PATH        serve DAP on a Unix domain socket that only you can reach

${formatOptions(ADAPTER_OPTIONS)}

Relay:
${RELAY_COMMANDS.map((c) => `  relay-dap ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options may stand before or after the subcommand; $RELAY_DIR sets the default relay
directory. relay-dap SUBCOMMAND --help tells more.

Exit status: 0 success; 1 failure; 2 usage error; 3 no relay server (or it stopped
answering); run: the command's own status, 124 on --timeout, 125 if the relay lost it,
130 if it was cancelled, 141 if the reader of its output went away (it is cancelled).`;
}

function commandHelp(spec: RelayCommandSpec): string {
  return `usage: ${spec.synopsis}\n\n${spec.summary}.\n\n${spec.details}\n\nOptions:\n${formatOptions([...spec.options, ...GLOBAL_OPTIONS])}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const io: Console = {
    error: (line) => process.stderr.write(line + '\n'),
    stdout: process.stdout,
    // Only `run --file -` reads it: opening stdin loads Node's stream machinery for files.
    get stdin() {
      return process.stdin;
    },
  };
  let args: ParsedArgs;
  try {
    args = parseArgs(
      argv.map((arg) => (arg === '-h' ? '--help' : arg)),
      new Set(commands.keys()),
      specsFor,
      (command) => commands.get(command ?? '')?.takesCommandLine === true,
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const hint = error.command ? `relay-dap ${error.command} --help` : 'relay-dap --help';
    io.error(`relay-dap: ${error.message} (see ${hint})`);
    return EXIT_USAGE;
  }
  const spec = args.command === undefined ? undefined : commands.get(args.command);
  if (args.options.has('version')) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (args.options.has('help')) {
    process.stdout.write((spec ? commandHelp(spec) : mainHelp()) + '\n');
    return 0;
  }
  try {
    if (!spec) {
      if (args.positionals.length > 0) {
        throw new UsageError(`unknown subcommand ${JSON.stringify(args.positionals[0])}`, undefined);
      }
      // The adapter, with its DAP stack, is a bundle of its own (dist/adapter.cjs), loaded
      // only here: the relay subcommands, --help and --version start without it.
      const { runAdapter } = await import('./adapterCommand.js');
      return await runAdapter(args, io);
    }
    return await spec.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.error(
        `relay-dap: ${error.message} (see relay-dap ${error.command ?? ''} --help)`.replace('  ', ' '),
      );
      return EXIT_USAGE;
    }
    io.error(`relay-dap: ${(error as Error).message}`);
    return EXIT_FAILURE;
  }
}

// A reader that went away (a closed terminal, `| head`, a log pipe that died) must not crash
// a server or adapter that is running commands: what cannot be written is dropped. `run`
// reacts to its own stdout closing (it cancels its command).
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`relay-dap: internal error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  },
);
