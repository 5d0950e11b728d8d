/**
 * `relay-dap shell` driven through a real pseudo-terminal (test/support/ptyDriver.py): keys
 * typed as bytes, the far shell's terminal output read back, a resize made as a terminal
 * emulator makes it (TIOCSWINSZ on the terminal, SIGWINCH to relay-dap), and the exit code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { finish, useRelayTestContext } from '../support/relayTestContext.js';
import { openPtyTerminal, type Terminal } from '../support/ptyTerminal.js';
import { relayDapBin, startServer, waitUntil } from '../support/relayHarness.js';

const { ctx, servedRelay, scratchDir, relayDirs } = useRelayTestContext();

/** `shellLine` (a bash command line that runs relay-dap as `$RELAY_DAP`) in a terminal of rows×cols. */
function inTerminal(shellLine: string, rows = 30, cols = 100): Terminal {
  const terminal = openPtyTerminal(['bash', '--norc', '-c', shellLine], {
    env: {
      ...process.env,
      ...ctx().env,
      RELAY_DAP: `${process.execPath} ${relayDapBin}`,
      SHELL: '/bin/bash',
      TERM: 'xterm',
    },
    scratchDir: scratchDir(),
    rows,
    cols,
  });
  ctx().spawned.push(terminal);
  return terminal;
}

function readCmdline(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

/** A process of the far side's terminal with exactly this command line. */
function farProcess(...argv: string[]): boolean {
  const wanted = argv.join('\0') + '\0';
  return fs.readdirSync('/proc').some((name) => /^\d+$/.test(name) && readCmdline(name) === wanted);
}

describe('relay-dap shell', () => {
  it('runs what is typed on the far side, and exits with the shell’s exit code, the terminal restored', async () => {
    const { relayDir, workdir } = await servedRelay();
    // After relay-dap: is this terminal back in canonical (cooked) mode?
    const terminal = inTerminal(
      `$RELAY_DAP shell --relay-dir ${relayDir}; code=$?; stty -a | grep -o -- '-\\?icanon' | sed 's/^/mode: /'; exit $code`,
    );
    await terminal.waitFor(/[#$] $/m, 'the far shell’s prompt');
    terminal.type('echo $((6*7)); pwd\r');
    await terminal.waitFor(`\n42\n${workdir}\n`, 'the answer and the far working directory');
    terminal.type('exit 3\r');
    const result = await finish(terminal, 30_000, 'relay-dap shell');
    expect(result.code).toBe(3);
    expect(terminal.screen()).toContain('mode: icanon');
    expect(terminal.screen()).not.toContain('mode: -icanon');
  });

  it('passes Ctrl-C and Ctrl-Z to the far foreground job, and follows a resize', async () => {
    const { relayDir } = await servedRelay();
    const terminal = inTerminal(`exec $RELAY_DAP shell --relay-dir ${relayDir} -- bash --norc`, 30, 100);
    await terminal.waitFor(/[#$] $/m, 'the far shell’s prompt');
    terminal.type('stty size\r');
    await terminal.waitFor('\n30 100\n', 'the starting size');

    terminal.type('sleep 100\r');
    await waitUntil(() => farProcess('sleep', '100'), 'sleep 100 on the far side');
    terminal.type('\x03');
    await waitUntil(() => !farProcess('sleep', '100'), 'Ctrl-C to end sleep 100');
    terminal.type('echo "sleep ended with $?"\r');
    await terminal.waitFor('\nsleep ended with 130\n', 'the status of the interrupted sleep');

    terminal.type('sleep 101\r');
    await waitUntil(() => farProcess('sleep', '101'), 'sleep 101 on the far side');
    terminal.type('\x1a');
    await terminal.waitFor(/Stopped\s+sleep 101/, 'Ctrl-Z to stop sleep 101');
    terminal.type('kill -9 %1\r');

    terminal.resize(40, 120);
    // The resize reaches the far side once SIGWINCH has been handled here: ask until it has.
    await waitUntil(
      () => {
        if (terminal.screen().includes('\n40 120\n')) return true;
        terminal.type('stty size\r');
        return false;
      },
      'the far terminal to be 40×120',
      30_000,
    );
    terminal.type('exit 7\r');
    expect((await finish(terminal, 30_000, 'relay-dap shell')).code).toBe(7);
    expect(farProcess('sleep', '101')).toBe(false);
  });

  it('SIGTERM (or a closed terminal) hangs the far terminal up, stops what runs there, and restores this terminal', async () => {
    const { relayDir } = await servedRelay(['--grace', '1']);
    const terminal = inTerminal(
      `$RELAY_DAP shell --relay-dir ${relayDir} -- bash --norc; echo "relay-dap exited $?"; stty -a | grep -o -- '-\\?icanon' | sed 's/^/mode: /'`,
    );
    await terminal.waitFor(/[#$] $/m, 'the far shell’s prompt');
    terminal.type('setsid sleep 103 & sleep 102\r');
    await waitUntil(() => farProcess('sleep', '102') && farProcess('sleep', '103'), 'the far sleeps');
    const shellPid = fs
      .readdirSync('/proc')
      .find((name) => /^\d+$/.test(name) && readCmdline(name).includes(`${relayDapBin}\0shell\0`));
    expect(shellPid, 'the relay-dap shell process').toBeDefined();
    process.kill(Number(shellPid), 'SIGTERM');
    await terminal.waitFor(/mode: -?icanon/, 'relay-dap shell to end');
    expect(terminal.screen()).toContain('relay-dap exited 130');
    expect(terminal.screen()).toContain('mode: icanon');
    expect(terminal.screen()).not.toContain('mode: -icanon');
    expect(farProcess('sleep', '102') || farProcess('sleep', '103')).toBe(false);
    await finish(terminal, 30_000, 'the terminal');
  });

  it('runs COMMAND with --cwd and --env (NAME=VALUE, or NAME from here) in a terminal, full-screen sequences passed through', async () => {
    const { relayDir, workdir } = await servedRelay();
    fs.mkdirSync(path.join(workdir, 'sub'));
    const terminal = inTerminal(
      `FROM_HERE=s3cr3t $RELAY_DAP shell --relay-dir ${relayDir} --cwd sub --env 'GREETING=a  b' --env N=2 --env FROM_HERE -- ` +
        `bash --norc -c 'tput smcup; echo "[$GREETING] $N $FROM_HERE $(pwd) $(tty)"; stty -opost; printf "down\\none"; stty opost; tput rmcup; exit 4'`,
    );
    const result = await finish(terminal, 30_000, 'relay-dap shell COMMAND');
    expect(result.code).toBe(4);
    expect(terminal.raw()).toContain('\x1b[?1049h');
    // A bare line feed (cursor down, as full-screen programs send it) arrives as it was sent.
    expect(terminal.raw()).toContain('down\none');
    expect(terminal.screen()).toMatch(
      new RegExp(`\\[a {2}b\\] 2 s3cr3t ${path.join(workdir, 'sub')} /dev/pts/\\d+`),
    );
  });

  it('says so, and exits 127, when the server’s side has no python3', async () => {
    const { relayDir, workdir } = relayDirs();
    // A PATH with bash and nothing else: the server runs, python3 is not there.
    const bin = scratchDir();
    fs.symlinkSync(fs.realpathSync('/bin/bash'), path.join(bin, 'bash'));
    ctx().servers.push(
      await startServer(relayDir, ['--workdir', workdir], { env: { ...ctx().env, PATH: bin } }),
    );
    const terminal = inTerminal(`$RELAY_DAP shell --relay-dir ${relayDir}`);
    const result = await finish(terminal, 30_000, 'relay-dap shell');
    expect(result.code).toBe(127);
    // A line of its own in a raw-mode terminal too: the carriage comes back.
    expect(terminal.raw()).toContain('install python3 there\r\n');
    expect(terminal.screen()).toContain(
      "relay-dap shell: python3 is not installed on the relay server's side, and it gives the terminal its pseudo-terminal: install python3 there",
    );
  });

  it('--help says how to use it', async () => {
    const terminal = inTerminal('$RELAY_DAP shell --help');
    const result = await finish(terminal, 30_000, 'relay-dap shell --help');
    expect(result.code).toBe(0);
    expect(terminal.screen()).toContain(
      'usage: relay-dap shell [--relay-dir DIR] [--cwd DIR] [--env NAME=VALUE]… [--path DIR]… [-- COMMAND…]',
    );
    expect(terminal.screen()).toContain('Ctrl-C and Ctrl-Z reach its');
  });
});
