/**
 * Channels (Part D) in tests: the channel client (channelClient.mjs) as a real process whose
 * JSON events can be awaited, a relay server's peak memory, and what is left of channels in
 * a relay directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, start, waitUntil, walkTree, type Spawned } from './relayHarness.js';

export const channelClientScript = path.join(repoRoot, 'test', 'support', 'channelClient.mjs');

export interface ChannelEvent {
  event: 'open' | 'stalled' | 'done' | 'measured' | 'error';
  [key: string]: unknown;
}

export interface ChannelClientProcess extends Spawned {
  events(): ChannelEvent[];
  /** Waits for the first event named `name` (and fails early if the process exits without it). */
  event(name: ChannelEvent['event'], timeoutMs?: number): Promise<ChannelEvent>;
}

export function startChannelClient(
  relayDir: string,
  mode: 'echo' | 'stall-read' | 'stall-write' | 'hold',
  megabytes: number,
  options: { env?: NodeJS.ProcessEnv; pollMs?: number } = {},
): ChannelClientProcess {
  const spawned = start(
    process.execPath,
    [
      channelClientScript,
      relayDir,
      mode,
      String(megabytes),
      ...(options.pollMs ? [String(options.pollMs)] : []),
    ],
    { env: options.env ?? {} },
  );
  const events = (): ChannelEvent[] =>
    spawned
      .stdout()
      .toString()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ChannelEvent);
  const event = async (name: ChannelEvent['event'], timeoutMs = 120_000): Promise<ChannelEvent> => {
    let found: ChannelEvent | undefined;
    await waitUntil(
      () => {
        found = events().find((e) => e.event === name);
        if (!found && spawned.child.exitCode !== null) {
          throw new Error(
            `the channel client exited (${spawned.child.exitCode}) without "${name}": ${spawned.stdout().toString()} ${spawned.stderr()}`,
          );
        }
        return found !== undefined;
      },
      `the channel client's "${name}"`,
      timeoutMs,
      () => spawned.stdout().toString() + spawned.stderr(),
    );
    return found!;
  };
  return { ...spawned, events, event };
}

/** Peak resident memory of a live process, in MiB (VmHWM). */
export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Everything under `channel/` (files and directories), relative to it: empty once every channel is cleaned up. */
export function channelLeftovers(relayDir: string): string[] {
  const dir = path.join(relayDir, 'channel');
  return walkTree(dir)
    .filter((entry) => entry.file !== dir)
    .map((entry) => path.relative(dir, entry.file));
}

/** Bytes in files under `channel/`. */
export function channelBytes(relayDir: string): number {
  return walkTree(path.join(relayDir, 'channel'))
    .filter((entry) => entry.kind === 'file')
    .reduce((total, entry) => total + (fs.lstatSync(entry.file, { throwIfNoEntry: false })?.size ?? 0), 0);
}
