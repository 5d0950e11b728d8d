/**
 * Another local user, for the tests that need one: root ignores permission bits, so an
 * unwritable directory, a foreign owner or a hostile neighbour needs a second uid. The
 * second user is uid 65534 (`nobody`, present on every Debian and container image), entered
 * with util-linux `setpriv`. Probed once, so that a test can skip with the reason instead of
 * faking the condition.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { relayDapBin, start, type Spawned } from './relayHarness.js';

export const OTHER_UID = 65534;
const SETPRIV_ARGS = [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups'];

export type Probe = { ok: true; prefix: string[] } | { ok: false; reason: string };

/** A probe that failed: what cannot be done here, and how the trial command ended. */
export function probeFailure(cannot: string, trial: SpawnSyncReturns<string>): Probe {
  return {
    ok: false,
    reason: `${cannot} (status ${trial.status}: ${trial.stderr.trim() || trial.error?.message})`,
  };
}

/**
 * Whether root can run commands through util-linux `setpriv ARGS…` here: `trial` is run that way
 * and `works` judges its stdout. The probe's prefix is `setpriv ARGS…`.
 */
export function probeSetpriv(
  args: readonly string[],
  trial: readonly string[],
  works: (stdout: string) => boolean,
  reasons: { notRoot: string; cannot: string },
): Probe {
  if (process.getuid?.() !== 0) return { ok: false, reason: reasons.notRoot };
  const which = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
  if (which.status !== 0) return { ok: false, reason: 'util-linux setpriv is not installed' };
  const prefix = [which.stdout.trim(), ...args];
  const result = spawnSync(prefix[0]!, [...args, ...trial], { encoding: 'utf8', cwd: '/' });
  return result.status === 0 && works(result.stdout)
    ? { ok: true, prefix }
    : probeFailure(reasons.cannot, result);
}

/** Whether a process can be started as another user here, and how. */
export const otherUser = probeSetpriv(
  SETPRIV_ARGS,
  [process.execPath, relayDapBin, '--version'],
  (stdout) => /^\d+\.\d+\.\d+/.test(stdout),
  {
    notRoot: `not running as root: cannot start a process as uid ${OTHER_UID}`,
    cannot: `uid ${OTHER_UID} cannot run ${process.execPath} ${relayDapBin}`,
  },
);

/** `COMMAND ARGS…` as uid 65534 (only when `otherUser.ok`). */
export function startAsOtherUser(
  command: string,
  args: readonly string[],
  options: Parameters<typeof start>[2] = {},
): Spawned {
  if (!otherUser.ok) throw new Error(otherUser.reason);
  const [setpriv, ...prefix] = otherUser.prefix;
  return start(setpriv!, [...prefix, command, ...args], { cwd: '/', ...options });
}

/** `relay-dap ARGS…` as uid 65534 (only when `otherUser.ok`). */
export function relayDapAsOtherUser(
  args: readonly string[],
  options: Parameters<typeof start>[2] = {},
): Spawned {
  return startAsOtherUser(process.execPath, [relayDapBin, ...args], options);
}
