/**
 * A job from launch arguments that carry no file (`command`, or `steps` in launch.json).
 * Frames still need a source and a line, so the steps are written out as a read-only
 * listing, served by the `source` request, with each step at a known line.
 */
import type { JobDefinition, JobStep } from '../model/jobModel.js';

export interface InlineStep {
  name?: string;
  run: string;
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number;
  continueOnError?: boolean;
}

function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => (line === '' ? '' : prefix + line));
}

/** A YAML-looking listing (it is valid YAML) of the steps, and where each one stands in it. */
export function listSteps(name: string, inline: readonly InlineStep[]): { text: string; steps: JobStep[] } {
  const lines = [
    `# ${name}`,
    "# Read-only listing of the launch configuration's steps, shown by relay-dap.",
    'steps:',
  ];
  const steps: JobStep[] = inline.map((step, index) => {
    const line = lines.length + 1;
    const stepName = step.name ?? `step ${index + 1}`;
    lines.push(`  - name: ${JSON.stringify(stepName)}`);
    if (step.cwd !== undefined) lines.push(`    cwd: ${JSON.stringify(step.cwd)}`);
    if (step.timeout !== undefined) lines.push(`    timeout: ${step.timeout}`);
    if (step.continueOnError) lines.push('    continueOnError: true');
    for (const [key, value] of Object.entries(step.env ?? {}))
      lines.push(`    env.${key}: ${JSON.stringify(value)}`);
    lines.push('    run: |', ...indent(step.run.replace(/\n$/, ''), '      '));
    return {
      index,
      name: stepName,
      run: step.run,
      ...(step.cwd !== undefined ? { cwd: step.cwd } : {}),
      env: { ...step.env },
      ...(step.timeout !== undefined ? { timeoutSeconds: step.timeout } : {}),
      continueOnError: step.continueOnError ?? false,
      location: { line, endLine: lines.length },
    };
  });
  return { text: lines.join('\n') + '\n', steps };
}

export function jobFromCommand(command: string, cwd?: string): JobDefinition {
  const { text, steps } = listSteps('relay-dap job: one command', [{ name: 'command', run: command }]);
  return { name: 'command', origin: 'command', sourceText: text, env: {}, ...(cwd ? { cwd } : {}), steps };
}

export function jobFromSteps(inline: readonly InlineStep[], cwd?: string): JobDefinition {
  const { text, steps } = listSteps(`relay-dap job: ${inline.length} step(s)`, inline);
  return { name: 'steps', origin: 'steps', sourceText: text, env: {}, ...(cwd ? { cwd } : {}), steps };
}
