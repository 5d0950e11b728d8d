/**
 * A terminal where the job stands (`!!` in the debug console): what `relay-dap shell` needs to
 * open one in the directory and with the environment the next step would get, and the lease
 * that closes every such terminal when the session ends (see relay/sessionLease.ts).
 */
import path from 'node:path';
import { relayLayout } from '../relay/layout.js';
import { holdSessionLease, SESSION_ENV, type SessionLease } from '../relay/sessionLease.js';
import { shellJoin } from '../workflow/shellQuote.js';
import type { JobRunner } from './jobRunner.js';

export interface StepTerminal {
  relayDir: string;
  /** The next step's directory on the server's side (undefined: the server's workdir). */
  cwd?: string;
  /** The next step's environment, over the server's (values may be secrets: never on a command line). */
  env: Record<string, string>;
  /** Directories steps put in front of PATH (GITHUB_PATH), first searched first. */
  pathPrepend: readonly string[];
  /** The environment variable that ties the terminal to this session, and its value. */
  session: { name: string; token: string };
  /** The step the terminal stands at, for its title. */
  stepName?: string;
}

/** `node …/main.js`: how this adapter was started, so that the terminal runs the same relay-dap. */
function relayDapCommand(): string[] {
  const script = process.argv[1];
  return script === undefined ? [process.execPath] : [process.execPath, path.resolve(script)];
}

/** `relay-dap shell …` for `terminal`: names of variables, never their values. */
export function shellArguments(terminal: StepTerminal): string[] {
  return [
    ...relayDapCommand(),
    'shell',
    '--relay-dir',
    terminal.relayDir,
    ...(terminal.cwd !== undefined ? ['--cwd', terminal.cwd] : []),
    ...Object.keys(terminal.env)
      .sort()
      .flatMap((name) => ['--env', name]),
    ...terminal.pathPrepend.flatMap((dir) => ['--path', dir]),
  ];
}

/** The command line a user pastes to open the terminal by hand: the session tie, then the shell. */
export function pasteCommandLine(terminal: StepTerminal): string {
  return `${terminal.session.name}=${terminal.session.token} ${shellJoin(shellArguments(terminal))}`;
}

/** `NAME=value …` for `names` of the terminal's env, each value quoted for bash. */
export function assignments(terminal: StepTerminal, names: readonly string[]): string {
  return names.map((name) => `${name}=${shellJoin([terminal.env[name]!])}`).join(' ');
}

/** A value a workflow evaluates only as its step starts (`${{ }}`): the terminal does without it. */
const unevaluated = (value: string): boolean => value.includes('${{');

/** The terminals of one debug session, whichever of its jobs (and relay directories) they stand at. */
export class StepTerminals {
  /** The session's lease in each relay directory it opened a terminal through. */
  private readonly leases = new Map<string, SessionLease>();

  /**
   * Where and with what the next step would run: the step's own directory and env (a job
   * file's; a workflow's where they hold no expression), on top of the job's, as
   * JobRunner.contextFor puts them together for steps and console commands alike.
   */
  open(runner: JobRunner): StepTerminal {
    const step = runner.job.steps[runner.position];
    const env = Object.fromEntries(
      Object.entries(step?.env ?? {}).filter(([, value]) => !unevaluated(value)),
    );
    const cwd = step?.cwd !== undefined && !unevaluated(step.cwd) ? step.cwd : undefined;
    const context = runner.contextFor({ ...(cwd !== undefined ? { cwd } : {}), env });
    const lease = this.leases.get(runner.relayDir) ?? holdSessionLease(relayLayout(runner.relayDir));
    this.leases.set(runner.relayDir, lease);
    return {
      relayDir: runner.relayDir,
      ...(context.cwd !== undefined ? { cwd: context.cwd } : {}),
      env: { ...context.env },
      pathPrepend: context.pathPrepend ?? [],
      session: { name: SESSION_ENV, token: lease.token },
      ...(step ? { stepName: step.name } : {}),
    };
  }

  /**
   * Why a terminal cannot start on the far side, found before the editor opens one that would
   * only say so and close: a relay server that opens no channels (a Part-A shell server), or
   * python3 (which gives it its pseudo-terminal) missing. python3 is asked about through the
   * relay's queue, so only while no step runs; undefined when it can, or cannot be told.
   */
  async cannotStart(runner: JobRunner): Promise<string | undefined> {
    const refusal = runner.channelsRefusal();
    if (refusal !== undefined) return refusal;
    if (runner.runningStepIndex !== undefined || runner.state === 'ended') return undefined;
    const probe = await runner.captureCommand('command -v python3 >/dev/null 2>&1 || exit 127');
    if (probe.exitCode !== 127) return undefined;
    return (
      `python3 is not installed on the relay server's side (${runner.relayDir}), and a terminal there ` +
      'needs it for its pseudo-terminal: install python3 there (apt-get install python3, apk add python3), then type !! again'
    );
  }

  /** The session ends: its terminals close (each cancels its channel once the lease is gone). */
  close(): void {
    for (const lease of this.leases.values()) lease.release();
    this.leases.clear();
  }
}
