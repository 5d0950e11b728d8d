/**
 * Steps whose shell may be missing where the steps run: `pwsh` (PowerShell 7, which a Linux box
 * often lacks), `powershell` (Windows PowerShell, there only if someone put it there) and `cmd`
 * (Windows only). The far side is asked once, before the first stop, and each missing shell is
 * said in one console line then; the steps themselves still fail with their own message when
 * they run (src/workflow/shells.ts).
 */
import type { WorkflowStep } from '../workflow/workflowFile.js';
import { cmdMessage, shellProgram } from '../workflow/shells.js';
import { shellQuote } from '../workflow/shellQuote.js';
import type { JobRunner } from './jobRunner.js';
import { withContext } from './stepCommand.js';

export async function checkShells(
  steps: readonly WorkflowStep[],
  defaultShell: string | undefined,
  runner: JobRunner,
  say: (text: string) => void,
): Promise<void> {
  const lines = new Map<string, number[]>();
  for (const step of steps) {
    const program = step.run === undefined ? undefined : shellProgram(step.shell ?? defaultShell);
    if (program !== undefined) lines.set(program, [...(lines.get(program) ?? []), step.location.line]);
  }
  const where = (program: string): string => {
    const at = lines.get(program) ?? [];
    return at.length === 1 ? `line ${at[0]}` : `lines ${at.join(', ')}`;
  };
  const asked = [...lines.keys()].filter((program) => program !== 'cmd');
  const missing = new Set<string>();
  if (asked.length > 0) {
    // One command: each program's name on a line of its own when it is not there.
    const probe = asked
      .map((program) => `command -v ${program} >/dev/null 2>&1 || printf '%s\\n' ${shellQuote(program)}`)
      .join('; ');
    const answer = await runner.captureCommand(withContext(probe, runner.contextFor({ env: {} })));
    for (const name of answer.output.toString('utf8').split('\n')) if (name !== '') missing.add(name);
  }
  for (const program of lines.keys()) {
    if (program === 'cmd') {
      say(`relay-dap: shell: cmd (${where(program)}): ${cmdMessage('cmd')}`);
    } else if (missing.has(program)) {
      const what = program === 'pwsh' ? 'PowerShell 7' : 'Windows PowerShell (a Windows runner has it)';
      say(
        `relay-dap: shell: ${program} (${where(program)}): ${program} is not installed where the steps run (the relay server's side), ` +
          `so those steps will fail; install ${what} there, or write them for bash`,
      );
    }
  }
}
