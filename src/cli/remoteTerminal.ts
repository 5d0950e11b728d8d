/**
 * The local end of `relay-dap shell`: this terminal, in raw mode, joined to a terminal on the
 * relay server's side through a channel (see src/relay/ptyShell.ts). In raw mode every key —
 * Ctrl-C, Ctrl-Z, Ctrl-D included — goes to the far side's terminal, whose line discipline
 * turns it into the signal for its foreground job, as ssh does; a window resize (SIGWINCH,
 * which Node reports as 'resize' on stdout) travels as a resize frame. Raw mode is undone on
 * every way out: the shell's end, a relay failure, SIGTERM/SIGHUP, or an exception.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { RelayChannel } from '../relay/client.js';
import { terminalInput, terminalResize } from '../relay/ptyShell.js';

export interface LocalTerminal {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** The window size to start with: this terminal's, else $LINES×$COLUMNS, else 24×80. */
export function localWindowSize(terminal: LocalTerminal): { rows: number; cols: number } {
  const fallback = (value: string | undefined, otherwise: number): number =>
    Number.isInteger(Number(value)) && Number(value) > 0 ? Number(value) : otherwise;
  return {
    rows: terminal.stdout.isTTY ? terminal.stdout.rows : fallback(process.env.LINES, 24),
    cols: terminal.stdout.isTTY ? terminal.stdout.columns : fallback(process.env.COLUMNS, 80),
  };
}

/**
 * `stty -opost` on the terminal. stty gets the terminal through an open of its own: a child
 * given our descriptor would share its file status with us, and a child's start makes its
 * standard descriptors blocking — which would leave this process's event loop blocked in a
 * read of the terminal. Linux names the terminal in /proc; elsewhere output processing stays.
 */
function outputProcessingOff(stdin: NodeJS.ReadStream): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(
      fs.readlinkSync(`/proc/self/fd/${(stdin as NodeJS.ReadStream & { fd: number }).fd}`),
      'r',
    );
    spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'] });
  } catch {
    // No /proc, no stty: output processing stays on, and most programs still look right.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Carries the terminal until the far side's shell ends; resolves with its exit code. Rejects on a relay failure. */
export async function joinRemoteTerminal(channel: RelayChannel, terminal: LocalTerminal): Promise<number> {
  const { stdin, stdout } = terminal;
  const raw = stdin.isTTY === true;
  const restore = (): void => {
    if (raw && stdin.isTTY) stdin.setRawMode(false);
  };
  const hangUp = (): void => channel.cancel();
  const onResize = (): void => {
    channel.write(terminalResize(stdout.rows, stdout.columns));
  };
  const onInput = (data: Buffer): void => {
    if (!channel.write(terminalInput(data))) stdin.pause();
  };
  // Piped input that ends: what Ctrl-D would send, so that the far shell ends as a local one would.
  const onInputEnd = (): void => {
    if (!raw) channel.write(terminalInput(Buffer.from([0x04])));
  };
  const onDrain = (): void => {
    stdin.resume();
  };
  const onOutput = (data: Buffer): void => {
    if (!stdout.write(data)) {
      channel.pause();
      stdout.once('drain', () => channel.resume());
    }
  };
  const signals = ['SIGTERM', 'SIGHUP'] as const;
  process.on('exit', restore);
  for (const signal of signals) process.on(signal, hangUp);
  try {
    if (raw) {
      stdin.setRawMode(true);
      // Node's raw mode keeps output processing (a newline still returns the carriage), which
      // full-screen programs do not expect of a terminal they drive: the far side's terminal
      // already did what they asked. Off as in cfmakeraw(3), as ssh does; setRawMode(false)
      // restores the terminal's settings from before raw mode, this one included.
      outputProcessingOff(stdin);
    }
    stdin.on('data', onInput);
    stdin.on('end', onInputEnd);
    stdin.resume();
    channel.on('drain', onDrain);
    channel.on('data', onOutput);
    if (stdout.isTTY) stdout.on('resize', onResize);
    const failed = new Promise<never>((_, reject) => channel.once('error', reject));
    const exit = await Promise.race([channel.exit, failed]);
    await new Promise<void>((resolve) =>
      stdout.writableNeedDrain ? stdout.once('drain', resolve) : resolve(),
    );
    if (exit.reason !== undefined && !exit.cancelled)
      process.stderr.write(`relay-dap shell: ${exit.reason}\n`);
    return exit.exitCode;
  } finally {
    restore();
    stdin.off('data', onInput);
    stdin.off('end', onInputEnd);
    stdin.pause();
    // stdin.destroy() would close the terminal's fd for the rest of the process: pausing unrefs it.
    (stdin as NodeJS.ReadStream & { unref?: () => void }).unref?.();
    stdout.off('resize', onResize);
    for (const signal of signals) process.off(signal, hangUp);
    process.off('exit', restore);
  }
}
