/**
 * `!!` in the debug console: a terminal on the far side where the job stands, opened in the
 * editor through the `runInTerminal` reverse request (as `docker buildx dap` does for its
 * exec). The terminal runs `relay-dap shell` — the node and script this adapter runs from —
 * with names on its command line (which every local user can read) and values in the
 * request's `env` only, so that a secret reaches the far side without standing anywhere else.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { assignments, pasteCommandLine, shellArguments, type StepTerminal } from '../job/stepTerminal.js';

/** True for the console text (after its `!`) that asks for a terminal: `!!` alone. */
export function asksForTerminal(shell: string): boolean {
  return shell.trim() === '!';
}

export function runInTerminalArguments(
  terminal: StepTerminal,
  jobName: string,
): DebugProtocol.RunInTerminalRequestArguments {
  return {
    kind: 'integrated',
    title: `relay-dap: ${jobName}${terminal.stepName !== undefined ? ` › ${terminal.stepName}` : ''}`,
    cwd: process.cwd(),
    args: shellArguments(terminal),
    env: { ...terminal.env, [terminal.session.name]: terminal.session.token },
  };
}

/**
 * For a client without runInTerminal: the command line to paste, and how to set what it names.
 * Values the masker hides (secrets) are not shown: the user sets them from where they keep them.
 */
export function pasteInstructions(terminal: StepTerminal, isSecret: (value: string) => boolean): string[] {
  const names = Object.keys(terminal.env).sort();
  const secrets = names.filter((name) => isSecret(terminal.env[name]!));
  const plain = names.filter((name) => !secrets.includes(name));
  const lines = [
    'relay-dap: this editor cannot open a terminal itself (no runInTerminal): in a terminal of this machine, run',
    `  ${pasteCommandLine(terminal)}`,
  ];
  if (names.length > 0)
    lines.push(
      '  after setting, in that terminal, the variables it names (--env NAME takes the value from there):',
    );
  if (plain.length > 0) lines.push(`  export ${assignments(terminal, plain)}`);
  if (secrets.length > 0)
    lines.push(
      `  and the secrets ${secrets.join(', ')} (not shown here): export each with its value from where you keep it`,
    );
  lines.push('  The terminal closes when this debug session ends.');
  return lines;
}
