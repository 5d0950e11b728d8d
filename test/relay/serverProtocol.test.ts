// Our server (`relay-dap serve`, a real process) driven only by plain file operations, exactly
// as Part A of relay-protocol.md describes a client doing it: no client library, no CLI
// client. Every path, format, order and mode asserted here is one a Part-A client relies on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  partAId,
  processesWithMarker,
  queueCommandFile,
  readIf,
  relayDap,
  startServer,
  waitUntil,
  type ServerProcess,
} from '../support/relayHarness.js';
import { useOneRelayDir } from '../support/relayTestContext.js';

const HOST = os.hostname();
const ISO = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)`;

const ctx = useOneRelayDir<ServerProcess>();
const { rel, work } = ctx;

// ---------------------------------------------------------------- helpers

function read(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** A command text that carries the test's marker, so that every process it starts can be found. */
function text(body: string): string {
  return `export ${ctx.marker}=1\n${body}\n`;
}

/** Shell-quoted (single quotes); temp paths hold no quote. */
function q(value: string): string {
  return `'${value}'`;
}

/** Blocks until `file` exists: lets a test observe a command while it is running. */
function waitForFile(file: string): string {
  return `while [ ! -e ${q(file)} ]; do sleep 0.02; done`;
}

async function serve(): Promise<ServerProcess> {
  const server = await startServer(ctx.dirs.relayDir, ['--workdir', ctx.dirs.workdir], {
    env: { [ctx.marker]: '1' },
  });
  ctx.servers.push(server);
  return server;
}

function serverOutput(): string {
  return `--- server stderr ---\n${ctx.servers.map((server) => server.stderr()).join('\n')}`;
}

/** Up to 30 s; a timeout shows what the servers said. */
const waitFor = (condition: () => boolean, what: string, timeoutMs = 30_000) =>
  waitUntil(condition, what, timeoutMs, serverOutput);

function partAStamp(): string {
  // `date -Iseconds`, as a Part-A client writes it.
  return `${HOST}:${process.pid}:${new Date().toISOString().replace(/\.\d+Z$/, '+00:00')}\n`;
}

/** What a Part-A client does before `run`: write client.ready, wait for handshake.done. */
async function handshake(): Promise<void> {
  fs.writeFileSync(rel('client.ready'), partAStamp());
  await waitFor(() => fs.existsSync(rel('handshake.done')), 'handshake.done');
}

/** `cancel` holding `<id>\n`, written atomically (tmp, then rename), as a Part-A client does. */
function writeCancel(id: string): void {
  fs.writeFileSync(rel('cancel.tmp'), `${id}\n`);
  fs.renameSync(rel('cancel.tmp'), rel('cancel'));
}

/** Creates `gate`: the command `id` held on it ends with 0, having printed `log`. */
async function expectReleased(gate: string, id: string, log: string): Promise<void> {
  fs.writeFileSync(gate, '');
  expect(await waitForExit(id)).toBe('0\n');
  expect(read(rel('result', `${id}.log`))).toBe(log);
}

async function waitForExit(id: string): Promise<string> {
  await waitFor(() => fs.existsSync(rel('result', `${id}.exit`)), `result/${id}.exit`);
  return read(rel('result', `${id}.exit`));
}

/** `running` = `<id>:<pgid>\n`, once it names `id`. */
async function waitForRunning(id: string): Promise<number> {
  let content: string | undefined;
  await waitFor(
    () => (content = readIf(rel('running')))?.startsWith(`${id}:`) === true,
    `running to name ${id}`,
  );
  const match = /^(.+):(\d+)\n$/.exec(content ?? '');
  expect(match, `running holds ${JSON.stringify(content)}`).not.toBeNull();
  expect(match?.[1]).toBe(id);
  return Number(match?.[2]);
}

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
}

function procStat(pid: number): ProcStat {
  const stat = read(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
  };
}

interface Finish {
  exitText: string;
  logAtExit: string;
  violations: string[];
}

/**
 * Samples the relay files from the moment a command runs until it is settled, checking the
 * order Part A fixes at every sample: `.json` before `.exit`, `.exit` before `running` is
 * removed, `running` before `cancel` is removed; `.exit` is never seen incomplete, and the log
 * is complete when `.exit` appears. Each check reads the later-written file last, so a race
 * can only hide a violation, never invent one.
 */
async function observeFinish(id: string, options: { cancelWritten?: boolean } = {}): Promise<Finish> {
  const exitFile = rel('result', `${id}.exit`);
  const jsonFile = rel('result', `${id}.json`);
  const violations = new Set<string>();
  let exitText: string | undefined;
  let logAtExit: string | undefined;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const cancel = options.cancelWritten === true && fs.existsSync(rel('cancel'));
    const running = fs.existsSync(rel('running'));
    const exit = fs.existsSync(exitFile);
    const json = fs.existsSync(jsonFile);
    if (options.cancelWritten && !cancel && running)
      violations.add('cancel was removed while running still existed');
    if (!running && !exit) violations.add('running was removed before .exit existed');
    if (exit && !json) violations.add('.exit existed before result/<id>.json');
    if (exit && exitText === undefined) {
      exitText = read(exitFile);
      logAtExit = read(rel('result', `${id}.log`));
    }
    if (exit && !running && !(options.cancelWritten && cancel)) break;
    if (Date.now() > deadline) {
      throw new Error(
        `command ${id} not settled in 30 s (running=${running} exit=${exit} cancel=${cancel})\n--- server stderr ---\n${serverOutput()}`,
      );
    }
    await sleep(1);
  }
  return { exitText: exitText ?? '', logAtExit: logAtExit ?? '', violations: [...violations] };
}

/** Queue `body` (with the marker) as a new command and wait for its `.exit`. */
async function runToExit(body: string): Promise<{ id: string; exit: string; log: string }> {
  const id = partAId();
  queueCommandFile(ctx.dirs.relayDir, id, text(body));
  const exit = await waitForExit(id);
  return { id, exit, log: read(rel('result', `${id}.log`)) };
}

// ---------------------------------------------------------------- tests

describe('our server, driven by plain file operations as a Part-A client would', () => {
  it('publishes owner (host:pid:epoch_ns), server.ready (host:pid:ISO) and a heartbeat (host:pid:epoch_ms) that changes; all private', async () => {
    const server = await serve();
    const pid = server.child.pid;

    const owner = read(rel('owner'));
    const ownerMatch = new RegExp(`^${HOST}:${pid}:(\\d{19})\\n$`).exec(owner);
    expect(ownerMatch, `owner holds ${JSON.stringify(owner)}`).not.toBeNull();
    const ownerMs = Number(BigInt(ownerMatch?.[1] ?? '0') / 1_000_000n);
    expect(Math.abs(ownerMs - Date.now())).toBeLessThan(120_000);

    const ready = read(rel('server.ready'));
    const readyMatch = new RegExp(`^${HOST}:${pid}:(${ISO})\\n$`).exec(ready);
    expect(readyMatch, `server.ready holds ${JSON.stringify(ready)}`).not.toBeNull();
    expect(Number.isNaN(Date.parse(readyMatch?.[1] ?? ''))).toBe(false);

    const heartbeatPattern = new RegExp(`^${HOST}:${pid}:(\\d{13})\\n$`);
    const first = read(rel('heartbeat'));
    const firstMatch = heartbeatPattern.exec(first);
    expect(firstMatch, `heartbeat holds ${JSON.stringify(first)}`).not.toBeNull();
    expect(Math.abs(Number(firstMatch?.[1]) - Date.now())).toBeLessThan(120_000);
    let next: string | undefined = first;
    await waitFor(
      () => (next = readIf(rel('heartbeat'))) !== first && next !== undefined,
      'the heartbeat to change',
      2_500,
    );
    const nextMatch = heartbeatPattern.exec(next ?? '');
    expect(nextMatch, `heartbeat holds ${JSON.stringify(next)}`).not.toBeNull();
    expect(Number(nextMatch?.[1])).toBeGreaterThan(Number(firstMatch?.[1]));

    for (const dir of ['', 'cmd', 'result']) expect(mode(rel(dir)), `mode of ${rel(dir)}`).toBe(0o700);
    for (const file of ['owner', 'server.ready', 'heartbeat'])
      expect(mode(rel(file)), `mode of ${file}`).toBe(0o600);
  });

  it('on SIGTERM removes server.ready, owner and heartbeat and exits 0', async () => {
    const server = await serve();
    for (const file of ['server.ready', 'owner', 'heartbeat']) expect(fs.existsSync(rel(file))).toBe(true);
    const finished = await server.stop();
    expect(finished.signal, finished.stderr).toBeNull();
    expect(finished.code, finished.stderr).toBe(0);
    for (const file of ['server.ready', 'owner', 'heartbeat'])
      expect(fs.existsSync(rel(file)), file).toBe(false);
    expect(fs.existsSync(rel())).toBe(true); // the directory itself stays
  });

  it('on a SIGTERM that arrives as soon as server.ready appears, still removes its markers and exits 0', async () => {
    // server.ready means "accepting work": from then on a SIGTERM must be a clean shutdown.
    // Three fresh servers, each signalled the moment its server.ready is renamed into place.
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const relayDir = path.join(ctx.dirs.root, `early-${attempt}`);
      fs.mkdirSync(relayDir, { mode: 0o700 });
      const server = relayDap(['serve', '--relay-dir', relayDir, '--workdir', ctx.dirs.workdir], {
        env: { [ctx.marker]: '1' },
      });
      ctx.processes.push(server);
      let signalled = false;
      const terminate = (): void => {
        if (signalled || !fs.existsSync(path.join(relayDir, 'server.ready'))) return;
        signalled = true;
        server.child.kill('SIGTERM');
      };
      const watcher = fs.watch(relayDir, terminate);
      try {
        await waitUntil(() => (terminate(), signalled), `server.ready in ${relayDir}`, 30_000);
      } finally {
        watcher.close();
      }
      // Only the one early SIGTERM: a second one could land while Node itself tears down at
      // exit, when no process can handle signals any more. SIGKILL only if it hangs.
      const hung = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
      const finished = await server.finished;
      clearTimeout(hung);
      const left = ['server.ready', 'owner', 'heartbeat'].filter((name) =>
        fs.existsSync(path.join(relayDir, name)),
      );
      outcomes.push(`code=${finished.code} signal=${finished.signal} left=[${left.join(',')}]`);
    }
    expect(outcomes).toEqual(Array(3).fill('code=0 signal=null left=[]'));
  });

  it('answers client.ready with handshake.done (host:pid:ISO)', async () => {
    const server = await serve();
    expect(fs.existsSync(rel('handshake.done'))).toBe(false);
    await handshake();
    const done = read(rel('handshake.done'));
    const match = new RegExp(`^${HOST}:${server.child.pid}:(${ISO})\\n$`).exec(done);
    expect(match, `handshake.done holds ${JSON.stringify(done)}`).not.toBeNull();
    expect(Number.isNaN(Date.parse(match?.[1] ?? ''))).toBe(false);
    expect(mode(rel('handshake.done'))).toBe(0o600);
  });

  it('runs a renamed cmd/<id>.sh: deletes it, publishes running with its own group and session, streams the log, writes .json and .exit before removing running', async () => {
    const server = await serve();
    await handshake();
    const id = partAId();
    const gate = work('gate');
    queueCommandFile(ctx.dirs.relayDir, id, text(`echo first\n${waitForFile(gate)}\necho second\nexit 3`));

    const pgid = await waitForRunning(id);
    expect(
      fs.existsSync(rel('cmd', `${id}.sh`)),
      'the command file is deleted before the command starts',
    ).toBe(false);
    expect(mode(rel('running'))).toBe(0o600);

    // The pgid is the command's bash, leader of its own process group and of its own session.
    const stat = procStat(pgid);
    expect(stat.pgrp, 'process group of the command').toBe(pgid);
    expect(stat.session, 'session of the command').toBe(pgid);
    const serverPid = server.child.pid ?? -1;
    expect(procStat(serverPid).session).not.toBe(pgid);
    expect(procStat(serverPid).pgrp).not.toBe(pgid);
    expect(read(`/proc/${pgid}/cmdline`).split('\0')[0]).toMatch(/(^|\/)bash$/);
    expect(read(`/proc/${pgid}/environ`).split('\0')).toContain(`RELAY_CMD_ID=${id}`);

    // The log grows while the command runs.
    await waitFor(() => readIf(rel('result', `${id}.log`)) === 'first\n', 'the first line in the log');
    expect(fs.existsSync(rel('result', `${id}.exit`))).toBe(false);
    expect(readIf(rel('running'))).toBe(`${id}:${pgid}\n`);
    expect(mode(rel('result', `${id}.log`))).toBe(0o600);

    fs.writeFileSync(gate, '');
    const finish = await observeFinish(id);
    expect(finish.violations).toEqual([]);
    expect(finish.exitText).toBe('3\n');
    expect(finish.logAtExit).toBe('first\nsecond\n');
    expect(read(rel('result', `${id}.log`))).toBe('first\nsecond\n');

    const record = JSON.parse(read(rel('result', `${id}.json`))) as Record<string, unknown>;
    expect(record).toMatchObject({ id, pid: pgid, exitCode: 3, signal: null, cancelled: false });
    const startedAt = Date.parse(String(record.startedAt));
    const endedAt = Date.parse(String(record.endedAt));
    expect(Number.isNaN(startedAt)).toBe(false);
    expect(Number.isNaN(endedAt)).toBe(false);
    expect(endedAt).toBeGreaterThanOrEqual(startedAt);
    for (const suffix of ['.log', '.exit', '.json'])
      expect(mode(rel('result', id + suffix)), suffix).toBe(0o600);
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
  });

  it('runs several queued commands one at a time, in lexicographic id order, each exactly once', async () => {
    await serve();
    await handshake();
    const order = work('order');
    const appendTwice = (id: string): string =>
      `echo ${id} >> ${q(order)}\nsleep 0.2\necho ${id} >> ${q(order)}`;

    // A first command holds the server while the others are queued, so that all of them are
    // there at once when it ends.
    const blocker = partAId();
    const gate = work('gate');
    queueCommandFile(
      ctx.dirs.relayDir,
      blocker,
      text(`echo ${blocker} >> ${q(order)}\n${waitForFile(gate)}\necho ${blocker} >> ${q(order)}`),
    );
    await waitForRunning(blocker);

    // Lexicographic, not numeric: `<ns>_10` sorts before `<ns>_9`.
    const ns = (): string => partAId().split('_')[0] ?? '';
    const first = ns();
    const ids = [`${first}_10`, `${first}_9`, `${ns()}_1`, `${ns()}_5`];
    expect([...ids].sort()).toEqual(ids);
    const cmd = rel('cmd');
    // Written largest id first, every one as .sh.tmp, then renamed in the same burst.
    for (const id of [...ids].reverse())
      fs.writeFileSync(path.join(cmd, `${id}.sh.tmp`), text(appendTwice(id)));
    for (const id of [...ids].reverse())
      fs.renameSync(path.join(cmd, `${id}.sh.tmp`), path.join(cmd, `${id}.sh`));

    fs.writeFileSync(gate, '');
    for (const id of ids) expect(await waitForExit(id), `.exit of ${id}`).toBe('0\n');
    expect(await waitForExit(blocker)).toBe('0\n');
    await waitFor(() => !fs.existsSync(rel('running')), 'running to be removed');

    const lines = read(order).trimEnd().split('\n');
    expect(lines).toEqual([blocker, blocker, ...ids.flatMap((id) => [id, id])]);
    expect(fs.readdirSync(cmd)).toEqual([]);
  });

  it('runs the text with bash -c in the workdir, stdin /dev/null, RELAY_CMD_ID set, stdout and stderr merged in order', async () => {
    await serve();
    await handshake();
    const { id, exit, log } = await runToExit(
      [
        'echo "zero=$0"',
        'pwd -P',
        'read x; echo "read=$?"',
        'echo "stdin=$(readlink /proc/$$/fd/0)"',
        'echo "id=$RELAY_CMD_ID"',
        'echo out1',
        'echo err1 >&2',
        'echo out2',
        'echo err2 >&2',
      ].join('\n'),
    );
    expect(exit).toBe('0\n');
    expect(log).toBe(
      [
        'zero=bash',
        fs.realpathSync(ctx.dirs.workdir),
        'read=1',
        'stdin=/dev/null',
        `id=${id}`,
        'out1',
        'err1',
        'out2',
        'err2',
        '',
      ].join('\n'),
    );
    // `read` on /dev/null returns at once: the whole command took no time to speak of.
    const record = JSON.parse(read(rel('result', `${id}.json`))) as { durationMs: number };
    expect(record.durationMs).toBeLessThan(10_000);
  });

  it("reports exit codes: 'exit 7' gives 7, 'kill -TERM $$' gives 143", async () => {
    await serve();
    await handshake();
    const seven = await runToExit('exit 7');
    expect(seven.exit).toBe('7\n');

    const killed = await runToExit('kill -TERM $$');
    expect(killed.exit).toBe('143\n');
    const record = JSON.parse(read(rel('result', `${killed.id}.json`))) as Record<string, unknown>;
    expect(record).toMatchObject({ id: killed.id, exitCode: 143, signal: 'SIGTERM', cancelled: false });
  });

  it('cancels the running command named by cancel: [cancelled] last, .exit 130, then running and cancel removed', async () => {
    await serve();
    await handshake();
    const id = partAId();
    queueCommandFile(ctx.dirs.relayDir, id, text('echo started\nsleep 300\necho finished'));
    const pgid = await waitForRunning(id);
    await waitFor(() => readIf(rel('result', `${id}.log`)) === 'started\n', 'the command to start');

    writeCancel(id);
    const finish = await observeFinish(id, { cancelWritten: true });
    expect(finish.violations).toEqual([]);
    expect(finish.exitText).toBe('130\n');
    expect(finish.logAtExit.trimEnd().split('\n').at(-1)).toBe('[cancelled]');
    expect(read(rel('result', `${id}.log`))).toBe('started\n[cancelled]\n');
    expect(fs.existsSync(rel('running'))).toBe(false);
    expect(fs.existsSync(rel('cancel'))).toBe(false);

    const record = JSON.parse(read(rel('result', `${id}.json`))) as Record<string, unknown>;
    expect(record).toMatchObject({ id, pid: pgid, exitCode: 130, cancelled: true });
    // The whole command is gone: only the server still carries the marker.
    const serverPids = ctx.servers.map((server) => server.child.pid);
    await waitFor(
      () => processesWithMarker(ctx.marker).every((pid) => serverPids.includes(pid)),
      'the cancelled command to be gone',
    );
  });

  it('withdraws a queued command named by cancel: .exit 130 and it never runs', async () => {
    await serve();
    await handshake();
    const gate = work('gate');
    const blocker = partAId();
    queueCommandFile(ctx.dirs.relayDir, blocker, text(`echo blocking\n${waitForFile(gate)}`));
    await waitForRunning(blocker);

    const ranFile = work('queued-command-ran');
    const queued = partAId();
    queueCommandFile(ctx.dirs.relayDir, queued, text(`touch ${q(ranFile)}`));
    const after = partAId();
    queueCommandFile(ctx.dirs.relayDir, after, text('echo after'));

    writeCancel(queued);
    expect(await waitForExit(queued)).toBe('130\n');
    expect(fs.existsSync(rel('cmd', `${queued}.sh`))).toBe(false);
    await waitFor(() => !fs.existsSync(rel('cancel')), 'the cancel to be removed');
    // The running command is not the one cancelled.
    expect(readIf(rel('running'))?.startsWith(`${blocker}:`)).toBe(true);
    expect(fs.existsSync(rel('result', `${blocker}.exit`))).toBe(false);

    await expectReleased(gate, blocker, 'blocking\n');
    // `after` sorts after `queued`: once it has run, `queued` would have run before it.
    expect(await waitForExit(after)).toBe('0\n');
    expect(read(rel('result', `${after}.log`))).toBe('after\n');
    expect(fs.existsSync(ranFile), 'the withdrawn command ran').toBe(false);
    expect(read(rel('result', `${queued}.exit`))).toBe('130\n');
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
  });

  it('deletes a cancel that names neither the running nor a queued command, and runs on', async () => {
    await serve();
    await handshake();

    // Idle server.
    writeCancel(partAId());
    await waitFor(() => !fs.existsSync(rel('cancel')), 'a cancel for nothing to be deleted (idle)');

    // While a command runs.
    const gate = work('gate');
    const id = partAId();
    queueCommandFile(ctx.dirs.relayDir, id, text(`echo running\n${waitForFile(gate)}\necho done`));
    await waitForRunning(id);
    const stranger = partAId();
    writeCancel(stranger);
    await waitFor(() => !fs.existsSync(rel('cancel')), 'a cancel for another id to be deleted (busy)');
    expect(readIf(rel('running'))?.startsWith(`${id}:`)).toBe(true);
    expect(fs.existsSync(rel('result', `${stranger}.exit`))).toBe(false);

    await expectReleased(gate, id, 'running\ndone\n');
  });

  it('a stale cancel is gone once the next command starts', async () => {
    // Left over from an earlier session: a cancel for a command that finished long ago.
    fs.mkdirSync(rel('cmd'), { recursive: true });
    fs.mkdirSync(rel('result'), { recursive: true });
    fs.writeFileSync(rel('client.ready'), partAStamp());
    const old = partAId();
    writeCancel(old);
    const id = partAId();
    queueCommandFile(
      ctx.dirs.relayDir,
      id,
      text(`if [ -e ${q(rel('cancel'))} ]; then echo cancel=present; else echo cancel=absent; fi`),
    );

    await serve();
    expect(await waitForExit(id)).toBe('0\n');
    expect(read(rel('result', `${id}.log`))).toBe('cancel=absent\n');
    expect(fs.existsSync(rel('cancel'))).toBe(false);
    expect(fs.existsSync(rel('result', `${old}.exit`))).toBe(false);
  });

  it('never runs cmd/ files that are not *.sh, nor *.sh files whose id is invalid', async () => {
    await serve();
    await handshake();
    const cmd = rel('cmd');
    const strays: Record<string, string> = {
      'x.sh.tmp': work('ran-tmp'),
      README: work('ran-readme'),
      'bad id.sh': work('ran-bad-id'),
      'a:b.sh': work('ran-colon'),
    };
    for (const [name, ranFile] of Object.entries(strays)) {
      fs.writeFileSync(path.join(cmd, name), text(`touch ${q(ranFile)}`));
    }
    // Valid ids that sort after every stray name: had a stray been taken for work, it would
    // have run before these.
    const late = ['zzzz_1', 'zzzz_2'];
    queueCommandFile(ctx.dirs.relayDir, late[0] ?? '', text('echo late'));
    expect(await waitForExit(late[0] ?? '')).toBe('0\n');
    queueCommandFile(ctx.dirs.relayDir, late[1] ?? '', text('echo later'));
    expect(await waitForExit(late[1] ?? '')).toBe('0\n');
    await waitFor(() => !fs.existsSync(rel('running')), 'running to be removed');

    for (const [name, ranFile] of Object.entries(strays)) {
      expect(fs.existsSync(ranFile), `${name} ran`).toBe(false);
      expect(read(path.join(cmd, name)), `${name} is left in place`).toBe(text(`touch ${q(ranFile)}`));
    }
    expect(fs.readdirSync(cmd).sort()).toEqual(Object.keys(strays).sort());
    const results = fs.readdirSync(rel('result')).sort();
    expect(
      results.every((name) => late.some((id) => name.startsWith(`${id}.`))),
      results.join(' '),
    ).toBe(true);
  });
});
