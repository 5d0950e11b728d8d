/**
 * Another local user, for the tests that need one: root ignores permission bits, so an
 * unwritable directory, a foreign owner or a hostile neighbour needs a second uid. The
 * second user is uid 65534 (`nobody`, present on every Debian and container image), entered
 * with util-linux `setpriv`. Probed once, so that a test can skip with the reason instead of
 * faking the condition.
 */
import { spawnSync } from 'node:child_process';
import { relayDapBin, start, type Spawned } from './relayHarness.js';

export const OTHER_UID = 65534;
const SETPRIV_ARGS = [`--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups'];

export type Probe = { ok: true; prefix: string[] } | { ok: false; reason: string };

function probeOtherUser(): Probe {
  if (process.getuid?.() !== 0) {
    return { ok: false, reason: `not running as root: cannot start a process as uid ${OTHER_UID}` };
  }
  const which = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' });
  if (which.status !== 0) return { ok: false, reason: 'util-linux setpriv is not installed' };
  const setpriv = which.stdout.trim();
  const probe = spawnSync(setpriv, [...SETPRIV_ARGS, process.execPath, relayDapBin, '--version'], {
    encoding: 'utf8',
    cwd: '/',
  });
  if (probe.status !== 0 || !/^\d+\.\d+\.\d+/.test(probe.stdout)) {
    return {
      ok: false,
      reason: `uid ${OTHER_UID} cannot run ${process.execPath} ${relayDapBin} (status ${probe.status}: ${probe.stderr.trim() || probe.error?.message})`,
    };
  }
  return { ok: true, prefix: [setpriv, ...SETPRIV_ARGS] };
}

/** Whether a process can be started as another user here, and how. */
export const otherUser = probeOtherUser();

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
