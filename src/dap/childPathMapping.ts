/**
 * Where a child session's Python files are on each side: debugpy's `pathMappings` for a
 * program started on the far side (`!debug`, a `debug: python` step). The launch or attach
 * argument `localRoot` names the editor's folder that holds what the job's working directory
 * holds on the relay server's side; without it both sides see the same path (the relay
 * directory is shared, and as a rule the job's directory with it).
 *
 * debugpy (pydevd's `_set_debug_options`, for `launch` and `attach` alike, and for the
 * subprocesses it follows) rewrites a breakpoint's path that starts with `localRoot` to start
 * with `remoteRoot` instead, and a frame's path that starts with `remoteRoot` back to
 * `localRoot`; other paths pass unchanged.
 */
import path from 'node:path';

export interface PathMapping {
  /** The editor's side. */
  localRoot: string;
  /** The far side: a directory as the program there sees it (its `os.getcwd()`). */
  remoteRoot: string;
}

/**
 * The mapping for a program whose working directory on the far side is `farCwd`.
 * `localRoot`: the launch's (undefined: the same path here). `stepDirectory`: where `farCwd`
 * lies relative to the job's directory (a step's own `cwd`), so that it maps under
 * `localRoot` as the job's directory does; an absolute one has no counterpart here but itself.
 */
export function childPathMapping(
  localRoot: string | undefined,
  farCwd: string,
  stepDirectory?: string,
): PathMapping {
  if (localRoot === undefined || (stepDirectory !== undefined && path.posix.isAbsolute(stepDirectory)))
    return { localRoot: farCwd, remoteRoot: farCwd };
  return {
    localRoot: stepDirectory === undefined ? localRoot : path.join(localRoot, stepDirectory),
    remoteRoot: farCwd,
  };
}
