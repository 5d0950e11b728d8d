/**
 * Where a child session's Python files are on each side: debugpy's `pathMappings` for a
 * program started on the far side (`!debug`, a `debug: python` step). The launch or attach
 * argument `localRoot` names the editor's folder that holds what the launch's `cwd` holds on
 * the relay server's side; without it both sides see the same path (the relay directory is
 * shared, and as a rule the job's directory with it).
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
 * `localRoot`: the launch's, the editor's side of the launch's `cwd` (undefined: the same path
 * here). `under`: where `farCwd` lies relative to the launch's `cwd` (JobRunner's
 * directoryFromLaunch: a job file's own `cwd`, a step's). Where `farCwd` ends with it, the
 * launch's `cwd` itself maps to `localRoot`, so files beside `under` (a `lib/` the script
 * imports) map too; otherwise (a symlink on the way, a script that changed directory) `farCwd`
 * maps to the same place under `localRoot`. An absolute `under` has no counterpart here.
 */
export function childPathMapping(localRoot: string | undefined, farCwd: string, under?: string): PathMapping {
  if (localRoot === undefined || (under !== undefined && path.posix.isAbsolute(under)))
    return { localRoot: farCwd, remoteRoot: farCwd };
  if (under === undefined) return { localRoot, remoteRoot: farCwd };
  const tail = path.posix.normalize(under).replace(/\/+$/, '');
  const ends = !tail.split('/').includes('..') && farCwd.endsWith(`/${tail}`);
  if (ends) return { localRoot, remoteRoot: farCwd.slice(0, -tail.length - 1) || '/' };
  return { localRoot: path.join(localRoot, under), remoteRoot: farCwd };
}
