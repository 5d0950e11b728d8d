/**
 * What a debug session asks of the Job API (jobSession.ts) and gives it: the launch and attach
 * requests, and the hooks through which a job speaks. Shared by the session's side and by the
 * code that builds and opens a job (jobOpening.ts), which is loaded only at the first launch.
 */
import type { JobResult } from '../model/stepResult.js';
import type { LaunchValueArguments } from '../workflow/launchValues.js';
import type { InlineStep } from './jobFromLaunch.js';
import type { OutputSink } from './jobRunner.js';

/**
 * A launch: what to run (`command`, `steps` or `program`), where, and how; for a workflow, its
 * `secrets`, `vars` and `inputs` and the files they come from (launchValues.ts).
 */
export interface LaunchRequest extends LaunchValueArguments {
  kind: 'launch';
  command?: string;
  steps?: InlineStep[];
  program?: string;
  job?: string;
  matrix?: Record<string, unknown>;
  /** `needs.<job>` of jobs the launched job needs, given instead of running them. */
  needs?: Record<string, { result?: JobResult; outputs?: Record<string, string> }>;
  /** A workflow's `github.event_name` (default push), payload file and `github` overrides. */
  event?: string;
  eventPath?: string;
  github?: Record<string, unknown>;
  /** Where cached remote actions are (act's layout); default act's `~/.cache/act`. */
  actionsCache?: string;
  /** Steps (names or ids) whose Python processes run under debugpy (debugSteps.ts). */
  debugSteps?: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Absent: an embedded relay server in a private temporary directory. */
  relayDir?: string;
  connectTimeout?: number;
  stopOnEntry?: boolean;
  noDebug?: boolean;
  lease?: boolean;
  timeout?: number;
}

/** An attach: follow the command running in `relayDir`. */
export interface AttachRequest {
  kind: 'attach';
  relayDir: string;
  connectTimeout?: number;
}

export type JobRequest = LaunchRequest | AttachRequest;

export interface JobSessionHooks {
  /** A line for the adapter's own log. */
  log(line: string): void;
  /** A line for the user (the debug console). */
  console(line: string, category?: 'console' | 'important'): void;
  /** Where the output of steps and console commands goes. */
  output: OutputSink;
}
