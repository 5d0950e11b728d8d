/**
 * The one schema of `launch` and `attach` arguments. The TypeScript types, the validation
 * of what a client sends, and the editor's `configurationAttributes` (package.json, checked
 * against this in a test) all come from here.
 */
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FromSchema } from 'json-schema-to-ts';
import { MAX_TIMEOUT_SECONDS } from '../time/longTimeout.js';
import { ArgumentError } from './errors.js';

const env = {
  type: 'object',
  description: 'Environment variables, on top of what the relay server itself has.',
  additionalProperties: { type: 'string' },
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
} as const;

const connectTimeout = {
  type: 'number',
  minimum: 0,
  maximum: MAX_TIMEOUT_SECONDS,
  default: 10,
  description:
    'Seconds to wait for a relay server in relayDir before failing with an error that says how to start one.',
} as const;

const trace = {
  anyOf: [{ type: 'boolean' }, { type: 'string' }],
  default: false,
  description:
    "Log every DAP message: true for the adapter's stderr, or a file path. Never stdout, which carries DAP itself.",
} as const;

const localRoot = {
  type: 'string',
  minLength: 1,
  description:
    "An absolute folder on this machine (the editor's) that holds what `cwd` (the job's working directory) holds on the relay server's side, e.g. \"${workspaceFolder}\" for a container that mounts it at `cwd`: `!debug` maps Python source paths between the two, so breakpoints set here are hit there and frames open here. Absent: the same path on both sides (a shared filesystem).",
} as const;

const relayDir = {
  type: 'string',
  description:
    'The relay directory shared with `relay-dap serve` (in the container, on the node). Absent: an embedded relay server runs commands on this machine, in a private temporary directory removed at the end.',
} as const;

export const launchSchema = {
  type: 'object',
  properties: {
    command: { type: 'string', description: 'One shell command: the whole job, as a single step.' },
    steps: {
      type: 'array',
      minItems: 1,
      description: 'The job as a list of steps, run one after another through the relay.',
      items: {
        type: 'object',
        required: ['run'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', description: 'Shown in the call stack and the output.' },
          run: { type: 'string', description: 'Shell text, run with bash -c.' },
          cwd: { type: 'string', description: 'Working directory of this step (relative to the job cwd).' },
          env: env,
          timeout: {
            type: 'number',
            exclusiveMinimum: 0,
            maximum: MAX_TIMEOUT_SECONDS,
            description: 'Seconds; then the step is cancelled and fails with exit code 124.',
          },
          continueOnError: {
            type: 'boolean',
            default: false,
            description: 'A failure of this step does not end the job.',
          },
        },
      },
    },
    program: {
      type: 'string',
      description: 'A job file (YAML with steps) or a GitHub Actions workflow (.github/workflows/*.yml).',
    },
    job: {
      type: 'string',
      description:
        'Which job of the workflow in `program`; the jobs it needs run first. Omitted: every job of the workflow, in the order of their needs.',
    },
    needs: {
      type: 'object',
      description:
        'A workflow: the `outputs` and `result` of jobs the launched job needs, given instead of running those jobs, e.g. {"build": {"result": "success", "outputs": {"version": "1.2.3"}}}.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          result: {
            type: 'string',
            enum: ['success', 'failure', 'cancelled', 'skipped'],
            default: 'success',
          },
          outputs: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
    matrix: {
      type: 'object',
      description: 'The matrix combination to run, for a workflow job with a strategy.matrix.',
    },
    event: {
      type: 'string',
      pattern: '^[a-z_]+$',
      default: 'push',
      description:
        'A workflow: the event that triggered the run (`github.event_name`, GITHUB_EVENT_NAME), e.g. push, pull_request, workflow_dispatch.',
    },
    eventPath: {
      type: 'string',
      minLength: 1,
      description:
        'A workflow: a JSON file with the webhook payload (`github.event`); written where the steps run, GITHUB_EVENT_PATH points at it.',
    },
    github: {
      type: 'object',
      description:
        'A workflow: fields of the `github` context to set (sha, ref, repository, actor, …), over what the git checkout and the event give.',
    },
    secrets: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'A workflow: the `secrets` context (NAME: value), over the secrets file. `github.token` is GITHUB_TOKEN. Every secret value is shown as *** in output, variables, traces and logs.',
    },
    vars: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'A workflow: the `vars` context (configuration variables, NAME: value), over the vars file.',
    },
    inputs: {
      type: 'object',
      description:
        'A workflow: the `inputs` context (name: value), over the inputs file and the defaults of on.workflow_dispatch.inputs and on.workflow_call.inputs.',
    },
    secretsFile: {
      type: 'string',
      minLength: 1,
      description:
        "A workflow: a dotenv file of secrets, as act's --secret-file (NAME=value lines); relative to the repository root. Default: .secrets there, if present.",
    },
    varsFile: {
      type: 'string',
      minLength: 1,
      description:
        "A workflow: a dotenv file of `vars`, as act's --var-file; relative to the repository root. Default: .vars there, if present.",
    },
    inputsFile: {
      type: 'string',
      minLength: 1,
      description:
        "A workflow: a dotenv file of `inputs`, as act's --input-file; relative to the repository root. Default: .input there, if present.",
    },
    actionsCache: {
      type: 'string',
      minLength: 1,
      description:
        "A workflow: the directory of cached remote actions, laid out as act's (`<owner>-<repo>@<ref>`); default act's ~/.cache/act. An action found there runs; one not found is skipped.",
    },
    debugSteps: {
      type: 'array',
      items: { type: 'string' },
      description:
        'Steps (by name or id) to run under the Python debugger: every Python process such a step starts opens as a child debug session (debugpy must be installed where the steps run).',
    },
    cwd: { type: 'string', description: "Working directory of the job on the relay server's side." },
    localRoot: localRoot,
    env: env,
    relayDir: relayDir,
    stopOnEntry: { type: 'boolean', default: true, description: 'Pause before the first step.' },
    noDebug: {
      type: 'boolean',
      default: false,
      description: 'Run without pausing: no entry stop, no breakpoints.',
    },
    timeout: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: MAX_TIMEOUT_SECONDS,
      description: 'Seconds for the whole job; then it is cancelled (exit code 130).',
    },
    connectTimeout: connectTimeout,
    lease: {
      type: 'boolean',
      default: false,
      description:
        'Hold a lease on each relayed command: if this adapter dies (the editor crashed), the relay server cancels the command once the lease goes stale (relay-dap serve --lease-timeout).',
    },
    trace: trace,
  },
  // Clients send their whole configuration (type, request, name, …): unknown keys are ignored.
  additionalProperties: true,
} as const;

export const attachSchema = {
  type: 'object',
  required: ['relayDir'],
  properties: {
    relayDir: { ...relayDir, description: 'The relay directory of the job to join (required for attach).' },
    localRoot: localRoot,
    connectTimeout: connectTimeout,
    trace: trace,
  },
  additionalProperties: true,
} as const;

export type LaunchArguments = FromSchema<typeof launchSchema>;
export type AttachArguments = FromSchema<typeof attachSchema>;
export type StepArguments = NonNullable<LaunchArguments['steps']>[number];

// Imported, so that the bundle (dist/adapter.cjs) carries it; constructed on first use,
// at launch, so that `initialize` is answered sooner (this module is loaded at launch too). (A createRequire() call would load it
// lazily too, but from a node_modules that the bundle and the VS Code extension do not have.)
let ajv: Ajv | undefined;
const validators = new Map<object, ValidateFunction>();

function compiler(): Ajv {
  ajv ??= new Ajv({
    allErrors: true,
    // Each error carries the value it is about, for the message (badValue).
    verbose: true,
    strict: false,
    useDefaults: true,
  });
  return ajv;
}

/** `/steps/1/run` → `steps[1].run` */
function fieldName(error: ErrorObject): string {
  const parts = error.instancePath.split('/').slice(1);
  if (error.keyword === 'required')
    parts.push(String((error.params as { missingProperty: string }).missingProperty));
  if (error.keyword === 'propertyNames')
    parts.push(String((error.params as { propertyName: string }).propertyName));
  return parts.reduce(
    (name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part),
    '',
  );
}

function describe(error: ErrorObject): string {
  const field = fieldName(error) || 'the arguments';
  switch (error.keyword) {
    case 'required':
      return `\`${field}\` is missing`;
    case 'type':
      return `\`${field}\` must be ${String((error.params as { type: string }).type)}`;
    case 'additionalProperties':
      return `\`${field}\` has an unknown key \`${String((error.params as { additionalProperty: string }).additionalProperty)}\``;
    case 'propertyNames':
      return `\`${field}\` is not a valid environment variable name`;
    case 'maximum':
      return `\`${field}\` must be at most ${String((error.params as { limit: number }).limit)}`;
    default:
      return `\`${field}\` ${error.message ?? 'is not valid'}`;
  }
}

/** `, not 42`: the value the user wrote, where it is the problem (shortened: it may be long). */
function badValue(error: ErrorObject): string {
  if (['required', 'additionalProperties', 'propertyNames'].includes(error.keyword)) return '';
  // A wrong secret is still a secret: the message names it, never its value.
  if (error.instancePath === '/secrets' || error.instancePath.startsWith('/secrets/')) return '';
  const text = JSON.stringify(error.data) ?? String(error.data);
  return `, not ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`;
}

/**
 * `launch configuration "Build and test"`: the name the user gave it in launch.json (clients
 * send the whole configuration), so that the message says which one of several is wrong.
 */
function whose(value: unknown, request: string): string {
  const name = (value as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name.trim() !== ''
    ? `${request} configuration ${JSON.stringify(name)}`
    : `${request} arguments`;
}

/** Checks `value` against `schema`, filling in defaults; throws one ArgumentError naming every wrong field. */
export function validateArguments<T>(schema: object, value: unknown, request: string): T {
  let validate = validators.get(schema);
  if (!validate) {
    validate = compiler().compile(schema);
    validators.set(schema, validate);
  }
  if (!validate(value)) {
    // Errors about a property *name* come twice (the pattern, then propertyNames): keep one.
    const errors = (validate.errors ?? []).filter(
      (e) => e.keyword !== 'anyOf' && e.propertyName === undefined,
    );
    const problems = [...new Set(errors.map((error) => describe(error) + badValue(error)))];
    throw new ArgumentError(`${whose(value, request)}: ${problems.join('; ')}.`);
  }
  return value as T;
}

/**
 * `localRoot` is a path on the editor's machine, where the adapter runs: a relative one would
 * be taken from wherever the editor started the adapter, which no user means.
 */
function checkLocalRoot(args: { localRoot?: string }, request: string): void {
  if (args.localRoot === undefined || path.isAbsolute(args.localRoot)) return;
  throw new ArgumentError(
    `${whose(args, request)}: \`localRoot\` must be an absolute folder on this machine (the editor's), not ${JSON.stringify(args.localRoot)}: e.g. "\${workspaceFolder}".`,
  );
}

export function validateLaunchArguments(value: unknown): LaunchArguments {
  const args = validateArguments<LaunchArguments>(launchSchema, value ?? {}, 'launch');
  checkLocalRoot(args, 'launch');
  const given = (['command', 'steps', 'program'] as const).filter((key) => args[key] !== undefined);
  if (given.length !== 1) {
    throw new ArgumentError(
      given.length === 0
        ? `${whose(args, 'launch')}: say what to run with one of \`command\` (a shell command), \`steps\` (a list of {name, run}) or \`program\` (a job file or workflow).`
        : `${whose(args, 'launch')}: give only one of \`command\`, \`steps\` and \`program\` (got ${given.map((k) => `\`${k}\``).join(' and ')}).`,
    );
  }
  return args;
}

export function validateAttachArguments(value: unknown): AttachArguments {
  const args = validateArguments<AttachArguments>(attachSchema, value ?? {}, 'attach');
  checkLocalRoot(args, 'attach');
  return args;
}
