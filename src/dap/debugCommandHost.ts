/**
 * What `!debug` and the Python child sessions of debugged steps need of the debug session:
 * running the program, channels, the client's capabilities, `startDebugging` and path mapping. Its own file so
 * the two users (debugConsoleCommand.ts, stepChildSessions.ts) need not import each other.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { DebugExports, PythonStepHost } from '../job/pythonStepDebugging.js';
import type { PathMapping } from './childPathMapping.js';

export interface DebugCommandHost {
  /** Runs a program's shell text where a `!CMD` runs, with `debug` on top (JobRunner.runConsoleProgram). */
  runProgram(
    text: string,
    debug: DebugExports,
    signal: AbortSignal,
  ): Promise<{ exitCode: number; cancelled: boolean }>;
  /** A channel as it is asked for, without the job's context (the hub, debugpy's adapters). */
  openRelayChannel: PythonStepHost['openChannel'];
  /** A command line may hold a secret: names shown to the client are masked. */
  mask(text: string): string;
  clientCaps: DebugProtocol.InitializeRequestArguments;
  /** The parent's configuration `type`, which names this adapter in the client (`relay`, nvim-dap's `relay_server`). */
  adapterType: string;
  /**
   * The parent configuration's `debugServer` (VS Code: DAP over TCP to that port): the child is
   * asked for with it, so that VS Code opens it on the same server (reached as the parent was,
   * through a tunnel too) rather than starting an adapter of its own.
   */
  debugServer?: number;
  console(line: string): void;
  log(line: string): void;
  /** Sends `startDebugging`; resolves with whether the client accepted it. */
  startDebugging(args: DebugProtocol.StartDebuggingRequestArguments): Promise<boolean>;
  /**
   * debugpy's path mapping for a program whose working directory on the far side is `farCwd`:
   * where a `!CMD` runs, or where `step` runs (the launch's `localRoot`, see childPathMapping.ts).
   */
  pathMapping(farCwd: string, step?: { cwd?: string }): PathMapping;
}
