// The `contributes.debuggers` entry of package.json, built from the launch/attach schema.
import { attachSchema, launchSchema } from '../dist/dap/launchSchema.js';

/** The schema's properties as VS Code's configurationAttributes want them (plain JSON). */
function attributes(schema) {
  return {
    ...(schema.required ? { required: [...schema.required] } : {}),
    properties: JSON.parse(JSON.stringify(schema.properties)),
  };
}

const snippet = (label, description, body) => ({ label: `relay-dap: ${label}`, description, body });

export async function debuggerContribution() {
  return {
    type: 'relay',
    label: 'relay-dap (relayed jobs)',
    languages: ['yaml', 'github-actions-workflow'],
    program: './dist/relay-dap.cjs',
    runtime: 'node',
    configurationAttributes: { launch: attributes(launchSchema), attach: attributes(attachSchema) },
    initialConfigurations: [
      {
        type: 'relay',
        request: 'launch',
        name: 'relay-dap: run a command',
        command: 'echo hello from the relay',
        stopOnEntry: true,
      },
    ],
    configurationSnippets: [
      snippet('run a command', 'Run one shell command as a job (embedded relay: on this machine)', {
        type: 'relay',
        request: 'launch',
        name: 'relay-dap: run a command',
        command: '${1:make test}',
        stopOnEntry: true,
      }),
      snippet(
        'run a job file',
        'Run the steps of a job file through a relay directory shared with a container',
        {
          type: 'relay',
          request: 'launch',
          name: 'relay-dap: run a job file',
          program: '^"\\${workspaceFolder}/${1:job.yml}"',
          relayDir: '^"\\${workspaceFolder}/.relay"',
          cwd: '${2:/workspace}',
          localRoot: '^"\\${workspaceFolder}"',
        },
      ),
      snippet(
        'debug a workflow job',
        'Step through a GitHub Actions workflow job, with breakpoints on its steps',
        {
          type: 'relay',
          request: 'launch',
          name: 'relay-dap: debug a workflow job',
          program: '^"\\${workspaceFolder}/.github/workflows/${1:ci.yml}"',
          job: '${2:test}',
          stopOnEntry: false,
        },
      ),
      snippet('attach to a relay', 'Join the command that is running in a relay directory now', {
        type: 'relay',
        request: 'attach',
        name: 'relay-dap: attach to a relay',
        relayDir: '^"\\${workspaceFolder}/.relay"',
      }),
      snippet(
        'connect to a running relay-dap --server',
        'Use an adapter already listening on TCP (npm start)',
        {
          type: 'relay',
          request: 'launch',
          name: 'relay-dap: connect to relay-dap --server',
          command: '${1:echo hello}',
          debugServer: 4711,
        },
      ),
    ],
  };
}
