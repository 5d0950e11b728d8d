// Bad input gets a clear one-line error and loses nothing (the list), and the relay
// keeps its files private. Everything here is real: the built `relay-dap serve` and
// `relay-dap run` as processes, real directories, real bash. Where a condition cannot be
// produced for real (an unprivileged user when none can run node here), the test is skipped
// with the reason, never faked.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { heldCommand, runArgs } from '../support/heldRun.js';
import { OTHER_UID, otherUser } from '../support/otherUser.js';
import {
  partAId,
  queueCommandFile,
  readIf,
  relayDapBin,
  start,
  waitUntil,
  type Finished,
  type Spawned,
  waitForServerTicks,
  walkTree,
} from '../support/relayHarness.js';
import {
  commandStarted,
  expectOneLine,
  finish,
  runningId,
  useRelayTestContext,
  type RelayTestContext,
} from '../support/relayTestContext.js';

const context = useRelayTestContext();
const { relayDirs, scratchDir, serve, servedRelay, launch } = context;
let ctx: RelayTestContext;
beforeEach(() => {
  ctx = context.ctx();
});

function run(relayDir: string, words: readonly string[], extra: readonly string[] = []): Promise<Finished> {
  return finish(
    launch(['run', '--relay-dir', relayDir, ...extra, '--', ...words]),
    30_000,
    `relay-dap run ${words.join(' ')}`,
  );
}

/** A command file's text, written for `--file`. */
function commandFile(text: string | Buffer): string {
  const file = path.join(scratchDir(), 'command.sh');
  fs.writeFileSync(file, text);
  return file;
}

function modeOf(file: string): number {
  return fs.lstatSync(file).mode & 0o777;
}

function octal(mode: number): string {
  return '0' + mode.toString(8);
}

function expectPrivate(relayDir: string): void {
  const entries = walkTree(relayDir);
  expect(entries.length).toBeGreaterThan(3);
  const wrong = entries
    .filter((e) => e.kind === 'other' || e.mode !== (e.kind === 'dir' ? 0o700 : 0o600))
    .map((e) => `${path.relative(relayDir, e.file) || '.'} (${e.kind}, ${octal(e.mode)})`);
  expect(wrong, 'relay entries that are not private (files 0600, directories 0700)').toEqual([]);
}

function queuedIds(relayDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(relayDir, 'cmd'));
  } catch {
    return [];
  }
  return names.filter((n) => n.endsWith('.sh')).map((n) => n.slice(0, -3));
}

/** The last `relay-dap` diagnostics are for humans: they must not print a stack. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/internal error|\n\s+at /);
}

// ---------------------------------------------------------------------------------------
// Can an unprivileged user run the client? Root ignores permission bits, so "not writable"
// can only be produced for real with another uid.

// Not root: permission bits already apply to us, so the test runs as ourselves.
const unprivileged: { ok: true; prefix: string[] } | { ok: false; reason: string } =
  process.getuid?.() !== 0 ? { ok: true, prefix: [] } : otherUser;

function launchUnprivileged(args: readonly string[]): Spawned {
  if (!unprivileged.ok) throw new Error(unprivileged.reason);
  const [command, ...rest] = unprivileged.prefix.length ? unprivileged.prefix : [process.execPath];
  const argv = unprivileged.prefix.length
    ? [...rest, process.execPath, relayDapBin, ...args]
    : [relayDapBin, ...args];
  const spawned = start(command!, argv, { env: ctx.env, cwd: '/' });
  ctx.spawned.push(spawned);
  return spawned;
}

// ---------------------------------------------------------------------------------------

describe('a missing relay directory', () => {
  function expectCreated(relayDir: string): void {
    for (const dir of [relayDir, path.join(relayDir, 'cmd'), path.join(relayDir, 'result')]) {
      expect(fs.lstatSync(dir).isDirectory(), dir).toBe(true);
      expect(octal(modeOf(dir)), dir).toBe('0700');
    }
  }

  it('is created by serve, with cmd/ and result/, all 0700; a nested missing path too', async () => {
    const { root, relayDir, workdir } = relayDirs();
    await serve(relayDir, workdir);
    expectCreated(relayDir);

    const nested = path.join(root, 'a', 'b', 'c', 'relay');
    await serve(nested, workdir);
    expectCreated(nested);
  });

  // Only serve creates one: a client on a mistyped or relative path must not leave a
  // .relay there (issue 9, item 13). Failing before the fix: run created it (exit 3).
  it('run, status, cancel, flush, handshake: one line naming it and `relay-dap serve --relay-dir DIR`, exit 1; nothing is created, not even for a relative path', async () => {
    const { root, relayDir } = relayDirs();
    const nested = path.join(root, 'x', 'y', 'relay');
    const clients: Array<readonly string[]> = [
      ['run', '--', `export ${ctx.marker}=1; echo never`],
      ['status'],
      ['cancel'],
      ['flush'],
      ['handshake', '--timeout', '0.5'],
    ];
    for (const dir of [relayDir, nested]) {
      for (const words of clients) {
        const [subcommand, ...rest] = words;
        const result = await finish(
          launch([subcommand!, '--relay-dir', dir, ...rest]),
          20_000,
          `relay-dap ${subcommand}`,
        );
        const what = `${subcommand} on ${dir}`;
        expect(result.code, what).toBe(1);
        const line = expectOneLine(result.stderr);
        expect(line, what).toContain(`relay directory ${dir} does not exist`);
        expect(line, what).toContain(`relay-dap serve --relay-dir ${dir}`);
        expectNoStack(result.stderr);
      }
    }
    expect(fs.readdirSync(root).sort()).toEqual(['work']);

    // A relative path is resolved against the current directory, and nothing lands there.
    const cwd = scratchDir();
    const relative = await finish(
      launch(['run', '--relay-dir', 'sub/.relay', '--', 'echo never'], { cwd }),
      20_000,
      'relay-dap run with a relative --relay-dir',
    );
    expect(relative.code).toBe(1);
    expect(expectOneLine(relative.stderr)).toContain(
      `relay directory ${path.join(cwd, 'sub/.relay')} does not exist`,
    );
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  it('refused by run until serve creates it; then served and used', async () => {
    const { relayDir, workdir } = relayDirs();
    expect((await run(relayDir, ['true'])).code).toBe(1);
    expect(fs.existsSync(relayDir)).toBe(false);
    await serve(relayDir, workdir);
    expectCreated(relayDir);
    const result = await run(relayDir, [`export ${ctx.marker}=1; echo works`]);
    expect(result.stdout.toString()).toBe('works\n');
    expect(result.code).toBe(0);
  });
});

describe('a relay directory that is not writable', () => {
  /** The unprivileged user's own relay directory, made read-only (0500) by its owner. */
  function readOnlyOwnDirectory(): { root: string; relayDir: string } {
    const root = scratchDir();
    fs.chmodSync(root, 0o755); // so that uid 65534 can reach it
    const relayDir = path.join(root, 'relay');
    fs.mkdirSync(relayDir);
    fs.chmodSync(relayDir, 0o500);
    if (process.getuid?.() === 0) fs.chownSync(relayDir, OTHER_UID, OTHER_UID);
    return { root, relayDir };
  }

  for (const subcommand of ['run', 'serve'] as const) {
    it(`${subcommand}: one line naming it, saying it is not writable and what to do; exit 1; nothing written`, async ({
      skip,
    }) => {
      if (!unprivileged.ok) skip(`needs an unprivileged user: ${unprivileged.reason}`);
      const { relayDir } = readOnlyOwnDirectory();
      const args =
        subcommand === 'run'
          ? ['run', '--relay-dir', relayDir, '--', `export ${ctx.marker}=1; echo never`]
          : ['serve', '--relay-dir', relayDir, '--workdir', '/'];
      const result = await finish(launchUnprivileged(args), 20_000, `unprivileged relay-dap ${subcommand}`);
      expect(result.code).toBe(1);
      const line = expectOneLine(result.stderr);
      expect(line).toContain(relayDir);
      expect(line).toMatch(/not writable/);
      expect(line, 'the next step').toMatch(/chmod|choose another/);
      expectNoStack(result.stderr);
      expect(result.stdout.length).toBe(0);
      expect(fs.readdirSync(relayDir)).toEqual([]);
      expect(octal(modeOf(relayDir))).toBe('0500');
    });
  }
});

describe('symlinks', () => {
  /** A symlink at `link` to a fresh directory holding one file; returns the target. */
  function linkToElsewhere(link: string): { target: string; snapshot: () => string } {
    const target = path.join(scratchDir(), 'elsewhere');
    fs.mkdirSync(target, { mode: 0o755 });
    fs.chmodSync(target, 0o755);
    fs.writeFileSync(path.join(target, 'keep.txt'), 'untouched\n');
    fs.symlinkSync(target, link);
    const snapshot = (): string =>
      JSON.stringify(
        walkTree(target).map((e) => [
          path.relative(target, e.file),
          e.kind,
          e.mode,
          e.kind === 'file' ? fs.readFileSync(e.file, 'utf8') : '',
        ]),
      );
    return { target, snapshot };
  }

  async function expectRefused(args: readonly string[], link: string, target: string): Promise<void> {
    const result = await finish(launch(args), 20_000, `relay-dap ${args.join(' ')}`);
    expect(result.code, result.stderr).toBe(1);
    const line = expectOneLine(result.stderr);
    expect(line).toContain(link);
    expect(line).toContain(target);
    expect(line).toMatch(/symlink/);
    expectNoStack(result.stderr);
  }

  /** serve and run on `relayDir` are both refused, naming `link` and its `target`. */
  async function expectServeAndRunRefused(
    relayDir: string,
    workdir: string,
    link: string,
    target: string,
  ): Promise<void> {
    await expectRefused(['serve', '--relay-dir', relayDir, '--workdir', workdir], link, target);
    await expectRefused(
      ['run', '--relay-dir', relayDir, '--', `export ${ctx.marker}=1; echo never`],
      link,
      target,
    );
  }

  it('a relay directory that is a symlink to another directory is refused by serve and run; the target is untouched', async () => {
    const { root, workdir } = relayDirs();
    const link = path.join(root, 'relay');
    const { target, snapshot } = linkToElsewhere(link);
    const before = snapshot();
    await expectServeAndRunRefused(link, workdir, link, target);
    expect(snapshot()).toBe(before);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  });

  for (const sub of ['cmd', 'result'] as const) {
    it(`a ${sub}/ that is a symlink is refused by serve and run; nothing is written on either side`, async () => {
      const { relayDir, workdir } = relayDirs();
      fs.mkdirSync(relayDir, { mode: 0o700 });
      const other = sub === 'cmd' ? 'result' : 'cmd';
      fs.mkdirSync(path.join(relayDir, other), { mode: 0o700 });
      const link = path.join(relayDir, sub);
      const { target, snapshot } = linkToElsewhere(link);
      const before = snapshot();
      await expectServeAndRunRefused(relayDir, workdir, link, target);
      expect(snapshot()).toBe(before);
      expect(fs.readdirSync(relayDir).sort()).toEqual(['cmd', 'result']);
      expect(fs.readdirSync(path.join(relayDir, other))).toEqual([]);
    });
  }
});

describe('cmd/ files with invalid ids', () => {
  it('are left in place, never run, and logged exactly once each; valid commands still run', async () => {
    const { relayDir, workdir } = relayDirs();
    const cmd = path.join(relayDir, 'cmd');
    fs.mkdirSync(cmd, { recursive: true, mode: 0o700 });
    const longId = 'L' + 'o'.repeat(198) + 'g';
    expect(longId).toHaveLength(200);
    const bad = ['bad id.sh', 'a:b.sh', `${longId}.sh`, '..sh'];
    const textOf = (name: string): string =>
      `export ${ctx.marker}=1; touch ${JSON.stringify(path.join(workdir, 'ran-' + bad.indexOf(name)))}`;
    // Two are there before the server starts, two arrive while it serves.
    for (const name of bad.slice(0, 2)) fs.writeFileSync(path.join(cmd, name), textOf(name), { mode: 0o600 });
    const server = await serve(relayDir, workdir);
    for (const name of bad.slice(2)) fs.writeFileSync(path.join(cmd, name), textOf(name), { mode: 0o600 });

    const valid = await run(relayDir, [`export ${ctx.marker}=1; echo valid-ran`]);
    expect(valid.stdout.toString()).toBe('valid-ran\n');
    expect(valid.code).toBe(0);

    // Several rescans later, still exactly one mention each.
    await waitForServerTicks(relayDir, 4);
    const second = await run(relayDir, [`export ${ctx.marker}=1; echo valid-again`]);
    expect(second.stdout.toString()).toBe('valid-again\n');
    await waitForServerTicks(relayDir, 2);

    const lines = server.stderr().split('\n');
    for (const name of bad) {
      expect(readIf(path.join(cmd, name)), `cmd/${name} left alone`).toBe(textOf(name));
      const shown = name.slice(0, 32);
      const mentions = lines.filter((line) => line.includes(shown));
      expect(mentions, `server log lines mentioning cmd/${shown}`).toHaveLength(1);
    }
    expect(fs.readdirSync(workdir).filter((n) => n.startsWith('ran-'))).toEqual([]);
    expect(server.child.exitCode).toBeNull();
  });
});

describe('command texts', () => {
  let relayDir: string;
  let workdir: string;

  beforeEach(async () => {
    ({ relayDir, workdir } = await servedRelay());
  });

  it('an empty command exits 0 with no output', async () => {
    const result = await run(relayDir, ['']);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);

    const fromFile = await run(relayDir, [], ['--file', commandFile('')]);
    expect(fromFile.stdout.length).toBe(0);
    expect(fromFile.code).toBe(0);
  });

  it('a 1 MB command text runs', async () => {
    const text = `export ${ctx.marker}=1; : '${'x'.repeat(1 << 20)}'; echo done`;
    expect(text.length).toBeGreaterThan(1 << 20);
    const result = await finish(
      launch(['run', '--relay-dir', relayDir, '--file', commandFile(text)]),
      30_000,
      'relay-dap run --file (1 MB)',
    );
    expect(result.stdout.toString()).toBe('done\n');
    expect(result.code).toBe(0);
  });

  it('a command text holding a byte that is not UTF-8 reaches bash byte for byte', async () => {
    const text = Buffer.concat([
      Buffer.from(`export ${ctx.marker}=1; printf '%s' 'caf`),
      Buffer.from([0xe9]),
      Buffer.from(`'; printf '|%s' 'x`),
      Buffer.from([0xff, 0xc3]),
      Buffer.from(`'`),
    ]);
    const result = await finish(
      launch(['run', '--relay-dir', relayDir, '--file', commandFile(text)]),
      30_000,
      'relay-dap run --file (latin-1)',
    );
    expect(result.stdout).toEqual(
      Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from('|x'), Buffer.from([0xff, 0xc3])]),
    );
    expect(result.code).toBe(0);
  });

  it('a command text holding a NUL byte is not run: exit 126 and a clear message', async () => {
    const flag = path.join(workdir, 'nul-ran');
    const text = Buffer.concat([
      Buffer.from(`export ${ctx.marker}=1; touch ${flag}; echo a`),
      Buffer.from([0]),
      Buffer.from('b'),
    ]);
    const result = await finish(
      launch(['run', '--relay-dir', relayDir, '--file', commandFile(text)]),
      30_000,
      'relay-dap run --file (NUL)',
    );
    expect(result.code).toBe(126);
    expect(result.stdout.toString()).toMatch(/NUL/);
    expect(fs.existsSync(flag)).toBe(false);
  });

  it('output that is not UTF-8 arrives byte for byte', async () => {
    const result = await run(relayDir, [`export ${ctx.marker}=1; printf '\\xff\\xfe\\x00\\x80abc'`]);
    expect(result.stdout).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x61, 0x62, 0x63]));
    expect(result.code).toBe(0);
  });

  it('2 MB of random binary output arrives byte for byte', async () => {
    const result = await run(relayDir, [
      `export ${ctx.marker}=1; head -c 2000000 /dev/urandom > out.bin && cat out.bin`,
    ]);
    expect(result.code).toBe(0);
    const expected = fs.readFileSync(path.join(workdir, 'out.bin'));
    expect(expected.length).toBe(2_000_000);
    expect(result.stdout.equals(expected)).toBe(true);
  });
});

describe('output loses nothing', () => {
  // Many short commands from many clients at once load the machine, which is when a client's
  // first look for a log (before the server created it) and the command's .exit can cross.
  // A race: when this test was written, about 1 client in 100 lost its output on a 2-core machine.
  it('many short commands at once: every client prints its own output', async () => {
    const { relayDir, workdir } = relayDirs();
    await serve(relayDir, workdir);
    const lost: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const clients = Array.from({ length: 40 }, (_, i) => ({
        word: `out-${batch}-${i}`,
        client: launch([
          'run',
          '--relay-dir',
          relayDir,
          '--',
          'printf',
          '%s\\n',
          `out-${batch}-${i}`,
          ctx.marker,
        ]),
      }));
      for (const { word, client } of clients) {
        const result = await finish(client, 60_000, `relay-dap run (${word})`);
        const expected = `${word}\n${ctx.marker}\n`;
        if (result.code !== 0 || result.stdout.toString() !== expected) {
          lost.push(`${word}: exit ${result.code}, stdout ${JSON.stringify(result.stdout.toString())}`);
        }
      }
    }
    expect(lost, 'clients whose output did not arrive').toEqual([]);
  }, 180_000);
});

describe('leading dash and argument boundaries', () => {
  let relayDir: string;

  beforeEach(async () => {
    ({ relayDir } = await servedRelay());
  });

  it('run -- -x reaches bash as a command name (command not found, exit 127)', async () => {
    const result = await run(relayDir, ['-x']);
    expect(result.stdout.toString()).toMatch(/-x: command not found/);
    expect(result.code).toBe(127);

    const long = await run(relayDir, ['--version']);
    expect(long.stdout.toString()).toMatch(/--version: command not found/);
    expect(long.code).toBe(127);
  });

  it("several words keep their boundaries: run -- printf '[%s]\\n' 'a   b' '-n'", async () => {
    const result = await run(relayDir, ['printf', '[%s]\\n', 'a   b', '-n']);
    expect(result.stdout.toString()).toBe('[a   b]\n[-n]\n');
    expect(result.code).toBe(0);

    const tricky = ["it's", '$HOME', '`id`', 'a\nb', '', '*', '-e'];
    const words = await run(relayDir, ['printf', '<%s>', ...tricky]);
    expect(words.stdout.toString()).toBe(tricky.map((w) => `<${w}>`).join(''));
  });

  it('a single word is shell text: pipes work', async () => {
    const result = await run(relayDir, [`export ${ctx.marker}=1; echo hello | tr a-z A-Z`]);
    expect(result.stdout.toString()).toBe('HELLO\n');
    expect(result.code).toBe(0);
  });
});

describe('two clients cancelling at once', () => {
  // Two cancelling processes never start in a guaranteed order: if the running command died
  // at once, the server could start the queued one before the second canceller's node had
  // even started, and no relay could prevent that. So the running command ignores SIGTERM and
  // lasts the grace period (2 s, then SIGKILL): both cancels land while it runs and the other
  // command is queued, and then neither may be lost.
  const RUNNING_TEXT = (marker: string): string =>
    `export ${marker}=1; trap '' TERM; echo A-started; while :; do sleep 0.1; done`;

  /** Both cancellers (of the running A, of the queued B) exit 0 and the relay is idle again. */
  async function expectCancellersDone(
    relayDir: string,
    round: number,
    [cancelA, idA]: [Spawned, string],
    [cancelB, idB]: [Spawned, string],
  ): Promise<void> {
    const [ca, cb] = await Promise.all([
      finish(cancelA, 10_000, `round ${round}: relay-dap cancel ${idA} (running)`),
      finish(cancelB, 10_000, `round ${round}: relay-dap cancel ${idB} (queued)`),
    ]);
    expect({ round, cancelA: ca.code, cancelB: cb.code }).toEqual({ round, cancelA: 0, cancelB: 0 });
    await waitUntil(() => runningId(relayDir) === undefined, `round ${round}: running to be removed`);
  }

  it('relay-dap run clients: the running and the queued command both end with 130; the queued one never runs', async () => {
    const { relayDir, workdir } = relayDirs();
    await serve(relayDir, workdir, ['--grace', '2']);
    // Which cancel lands first varies: several rounds give each order a chance.
    for (let round = 0; round < 5; round++) {
      const flag = path.join(workdir, `queued-ran-${round}`);
      const runA = launch(['run', '--relay-dir', relayDir, '--', RUNNING_TEXT(ctx.marker)]);
      const idA = await commandStarted(relayDir, runA, 'A-started');
      const runB = launch([
        'run',
        '--relay-dir',
        relayDir,
        '--',
        `export ${ctx.marker}=1; touch ${flag}; echo B-ran`,
      ]);
      await waitUntil(() => queuedIds(relayDir).length === 1, `round ${round}: B to be queued`);
      const idB = queuedIds(relayDir)[0]!;
      expect(idB).not.toBe(idA);

      // Both cancellers start in the same tick.
      const cancelA = launch(['cancel', '--relay-dir', relayDir, idA]);
      const cancelB = launch(['cancel', '--relay-dir', relayDir, idB]);

      const [a, b] = await Promise.all([finish(runA, 20_000, 'run A'), finish(runB, 20_000, 'run B')]);
      expect({ round, a: a.code, b: b.code, bRan: fs.existsSync(flag) }).toEqual({
        round,
        a: 130,
        b: 130,
        bRan: false,
      });
      expect(b.stdout.toString()).not.toContain('B-ran');
      // The cancellers themselves must learn that their command ended, though its own client
      // consumed (deleted) the result files at once.
      await expectCancellersDone(relayDir, round, [cancelA, idA], [cancelB, idB]);
    }
  }, 180_000);

  it('commands without a client: both .exit files say 130; the queued one never runs', async () => {
    const { relayDir, workdir } = relayDirs();
    await serve(relayDir, workdir, ['--grace', '2']);
    for (let round = 0; round < 5; round++) {
      const flag = path.join(workdir, `queued-ran-${round}`);
      const idA = partAId();
      queueCommandFile(relayDir, idA, RUNNING_TEXT(ctx.marker));
      await waitUntil(() => runningId(relayDir) === idA, `round ${round}: A to start`);
      const idB = partAId();
      queueCommandFile(relayDir, idB, `export ${ctx.marker}=1; touch ${flag}; echo B-ran`);

      const cancelA = launch(['cancel', '--relay-dir', relayDir, idA]);
      const cancelB = launch(['cancel', '--relay-dir', relayDir, idB]);

      const exitOf = (id: string): string | undefined => readIf(path.join(relayDir, 'result', `${id}.exit`));
      await waitUntil(
        () => exitOf(idA) !== undefined && exitOf(idB) !== undefined,
        `round ${round}: both .exit files`,
      );
      expect({ round, a: exitOf(idA), b: exitOf(idB), bRan: fs.existsSync(flag) }).toEqual({
        round,
        a: '130\n',
        b: '130\n',
        bRan: false,
      });
      expect(readIf(path.join(relayDir, 'result', `${idB}.log`))).not.toContain('B-ran');
      await expectCancellersDone(relayDir, round, [cancelA, idA], [cancelB, idB]);
    }
  }, 180_000);
});

describe('a result file deleted by its client mid-run', () => {
  it('the server goes on: writes .exit, and the next command runs normally', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = await serve(relayDir, workdir);
    const id = partAId();
    const go = path.join(workdir, 'go');
    queueCommandFile(
      relayDir,
      id,
      heldCommand(`export ${ctx.marker}=1; echo before`, go, `echo after; exit 7`),
    );
    const log = path.join(relayDir, 'result', `${id}.log`);
    await waitUntil(
      () => runningId(relayDir) === id && (readIf(log) ?? '').includes('before'),
      'the command to run',
    );
    fs.unlinkSync(log);
    fs.writeFileSync(go, '');
    await waitUntil(() => readIf(path.join(relayDir, 'result', `${id}.exit`)) !== undefined, '.exit');
    expect(readIf(path.join(relayDir, 'result', `${id}.exit`))).toBe('7\n');
    await waitUntil(() => runningId(relayDir) === undefined, 'running to be removed');
    expect(server.child.exitCode).toBeNull();

    const next = await run(relayDir, [`export ${ctx.marker}=1; echo next`]);
    expect(next.stdout.toString()).toBe('next\n');
    expect(next.code).toBe(0);
    expectNoStack(server.stderr());
  });

  it('a relay-dap run client whose log is deleted mid-run still gets the rest of the output and the exit code', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = await serve(relayDir, workdir);
    const go = path.join(workdir, 'go');
    const client = launch(
      runArgs(relayDir, heldCommand(`export ${ctx.marker}=1; echo before`, go, `echo after; exit 3`)),
    );
    const id = await commandStarted(relayDir, client, 'before');
    fs.unlinkSync(path.join(relayDir, 'result', `${id}.log`));
    fs.writeFileSync(go, '');
    const result = await finish(client, 20_000, 'relay-dap run');
    expect(result.code).toBe(3);
    expect(result.stdout.toString()).toBe('before\nafter\n');

    const next = await run(relayDir, [`export ${ctx.marker}=1; echo next`]);
    expect(next.stdout.toString()).toBe('next\n');
    expect(server.child.exitCode).toBeNull();
  });
});

describe('privacy', () => {
  function secretCommand(secret: string, go: string): string {
    // The secret is in the text but never in the command's output.
    return heldCommand(`export ${ctx.marker}=1; : ${secret}; echo visible-output`, go);
  }

  it('no console shows a command text; relay files are 0600 and directories 0700, while running and after', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = await serve(relayDir, workdir);
    const secret = `SECRET_${randomBytes(8).toString('hex')}`;
    const go = path.join(workdir, 'go');
    const client = launch(['run', '--relay-dir', relayDir, '--lease', '--', secretCommand(secret, go)]);
    await commandStarted(relayDir, client, 'visible-output');
    expectPrivate(relayDir);
    fs.writeFileSync(go, '');
    const result = await finish(client, 20_000, 'relay-dap run');
    expect(result.code).toBe(0);
    expectPrivate(relayDir);

    // A timed-out command's diagnostics name its id, not its text.
    const timedOut = await run(
      relayDir,
      [`export ${ctx.marker}=1; : ${secret}; sleep 30`],
      ['--timeout', '0.5'],
    );
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).not.toBe('');
    expectPrivate(relayDir);

    for (const [what, text] of [
      ['server stderr', server.stderr()],
      ['server stdout', server.stdout().toString()],
      ['client stdout', result.stdout.toString()],
      ['client stderr', result.stderr],
      ['timed-out client stdout', timedOut.stdout.toString()],
      ['timed-out client stderr', timedOut.stderr],
    ]) {
      expect(text, what).not.toContain(secret);
    }
  });

  it('serve --log-commands prints the command text', async () => {
    const { relayDir, workdir } = relayDirs();
    const server = await serve(relayDir, workdir, ['--log-commands']);
    const secret = `SECRET_${randomBytes(8).toString('hex')}`;
    const go = path.join(workdir, 'go');
    fs.writeFileSync(go, '');
    const result = await run(relayDir, [secretCommand(secret, go)]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).not.toContain(secret);
    await waitUntil(() => server.stderr().includes(secret), 'the server to log the command text');
  });
});
