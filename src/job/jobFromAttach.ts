/**
 * `attach`: the command another client is running, as a one-step job that is followed, not
 * run. Its text left the relay when it started, so the listing says what is known instead.
 */
import type { JobDefinition } from '../model/jobModel.js';
import type { StepPreparer } from './jobRunner.js';

export function jobForAttachment(
  relayDir: string,
  commandId: string,
): { job: JobDefinition; preparer: StepPreparer } {
  const sourceText = [
    `# relay-dap: attached to the relay directory ${relayDir}`,
    `# following command ${commandId}, which another client started; its output is shown from the start.`,
    '# Terminate cancels it through the relay; Disconnect leaves it running.',
    'steps:',
    `  - name: "command ${commandId}"`,
    '',
  ].join('\n');
  const job: JobDefinition = {
    name: `attached: ${commandId}`,
    origin: 'attach',
    sourceText,
    env: {},
    steps: [
      {
        index: 0,
        name: `command ${commandId}`,
        env: {},
        continueOnError: false,
        location: { line: 5, endLine: 5 },
      },
    ],
  };
  return { job, preparer: { prepare: () => Promise.resolve({ follow: commandId }) } };
}
