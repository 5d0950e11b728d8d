// Part A interoperability, both directions, with real processes: the Part-A fixture client
// (test/fixtures/part-a/relay.sh) against our server, and our client (`relay-dap run`, as a
// process, and the RelayClient library) against the fixture server.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RelayClient } from '../../src/relay/client.js';
import {
  partA,
  readIf,
  relayDap,
  startServer,
  waitUntil,
  type Finished,
  type Spawned,
  isRunning,
  stopProcess,
  partAId,
} from '../support/relayHarness.js';
import { useOneRelayDir } from '../support/relayTestContext.js';
import { inotifyWatchedInodes, procStat } from '../reliability/faultSupport.js';
import { OTHER_UID, otherUser, startAsOtherUser } from '../support/otherUser.js';
import { parseRunningMarker } from '../../src/relay/runningMarker.js';

const HOST = os.hostname();
const ID = /^\d{19}_\d+$/;

interface Stoppable {
  name: string;
  output: () => string;
  stop: () => Promise<unknown>;
}

const ctx = useOneRelayDir<Stoppable>();
const { rel, work } = ctx;

// ---------------------------------------------------------------- helpers

/** A command text that carries the test's marker, so that every process it starts can be found. */
function text(body: string): string {
  return `export ${ctx.marker}=1; ${body}`;
}

function markerEnv(): NodeJS.ProcessEnv {
  return { [ctx.marker]: '1', RELAY_DIR: '' };
}

function serverOutput(): string {
  return ctx.servers.map((server) => `--- ${server.name} ---\n${server.output()}`).join('\n');
}

/** Up to 30 s; a timeout shows what the servers said. */
const waitFor = (condition: () => boolean, what: string, timeoutMs = 30_000) =>
  waitUntil(condition, what, timeoutMs, serverOutput);

/** Our server, `relay-dap serve`, as a real process. */
async function serveOurs(): Promise<number> {
  const server = await startServer(ctx.dirs.relayDir, ['--workdir', ctx.dirs.workdir], { env: markerEnv() });
  ctx.servers.push({
    name: 'relay-dap serve',
    output: () => server.stderr(),
    stop: () => server.stop(15_000),
  });
  return server.child.pid ?? -1;
}

/** The fixture server, `relay.sh serve`, polling every 0.1 s; resolved once server.ready exists. */
async function serveFixture(): Promise<Spawned> {
  const server = partA(['--relay-dir', ctx.dirs.relayDir, '--workdir', ctx.dirs.workdir, 'serve'], {
    env: { ...markerEnv(), PARTA_POLL_SECONDS: '0.1' },
  });
  ctx.servers.push({
    name: 'relay.sh serve',
    output: () => server.stdout().toString() + server.stderr(),
    stop: () => stopProcess(server),
  });
  await waitFor(() => {
    if (!isRunning(server)) throw new Error(`relay.sh serve exited early:\n${server.stderr()}`);
    // The fixture writes server.ready non-atomically (Part B, defect 11): wait for the whole line.
    return /^[^:]+:\d+:.+\n$/.test(readIf(rel('server.ready')) ?? '');
  }, 'relay.sh serve to write server.ready');
  return server;
}

/** `relay.sh --relay-dir R ARGS…` (the fixture client). */
function fixture(...args: string[]): Spawned {
  const spawned = partA(['--relay-dir', ctx.dirs.relayDir, ...args], { env: markerEnv() });
  ctx.processes.push(spawned);
  return spawned;
}

/** `relay-dap SUBCOMMAND --relay-dir R ARGS…` (our client, as a process). */
function ours(subcommand: string, ...args: string[]): Spawned {
  const spawned = relayDap([subcommand, '--relay-dir', ctx.dirs.relayDir, ...args], { env: markerEnv() });
  ctx.processes.push(spawned);
  return spawned;
}

function out(finished: Finished): string {
  return finished.stdout.toString('utf8');
}

function lines(finished: Finished): string[] {
  return out(finished)
    .split('\n')
    .filter((line) => line !== '');
}

/** `running` = `<id>:<pgid>`, once a command runs. */
async function waitForRunning(): Promise<string> {
  let content: string | undefined;
  await waitFor(() => (content = readIf(rel('running'))) !== undefined, 'running');
  const id = content?.trim().split(':')[0] ?? '';
  expect(id).toMatch(ID);
  return id;
}

// ---------------------------------------------------------------- the fixture client, our server

describe('the Part-A fixture client against our server', () => {
  it('relay.sh handshake, then relay.sh run echo hello prints hello', async () => {
    await serveOurs();
    const handshake = await fixture('handshake').finished;
    expect(handshake.code, handshake.stderr).toBe(0);
    expect(out(handshake)).toBe('Handshake done\n');
    expect(fs.existsSync(rel('handshake.done'))).toBe(true);

    const run = await fixture('run', text('echo hello')).finished;
    expect(run.code, `${run.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(run)).toBe('hello\n');
    // The fixture client deleted what Part A says it reads; nothing of it is left queued.
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
    expect(fs.readdirSync(rel('result')).filter((name) => /\.(exit|log)$/.test(name))).toEqual([]);
  });

  it('relay.sh run propagates exit codes (7, and 143 for SIGTERM)', async () => {
    await serveOurs();
    expect((await fixture('handshake').finished).code).toBe(0);
    const seven = await fixture('run', text('echo before; exit 7')).finished;
    expect(seven.code, seven.stderr).toBe(7);
    expect(out(seven)).toBe('before\n');
    const killed = await fixture('run', text('kill -TERM $$')).finished;
    expect(killed.code, killed.stderr).toBe(143);
  });

  it('relay.sh status shows Server: running with our pid', async () => {
    const pid = await serveOurs();
    expect((await fixture('handshake').finished).code).toBe(0);
    const status = await fixture('status').finished;
    expect(status.code, status.stderr).toBe(0);
    expect(lines(status)).toEqual([
      `Server: running (${HOST}:${pid})`,
      'Handshake: done',
      'Running: none',
      'Pending commands: 0',
    ]);
  });

  it('relay.sh cancel of a running sleep: relay.sh run exits 130 with [cancelled] as its last line', async () => {
    await serveOurs();
    expect((await fixture('handshake').finished).code).toBe(0);
    const run = fixture('run', text('echo started; sleep 300; echo finished'));
    const id = await waitForRunning();
    expect(id.endsWith(`_${run.child.pid}`)).toBe(true);
    await waitFor(() => readIf(rel('result', `${id}.log`)) === 'started\n', 'the command to start');

    const status = await fixture('status').finished;
    expect(lines(status)[2]).toBe(`Running: ${id}`);

    const cancel = await fixture('cancel').finished;
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(out(cancel)).toBe(`Cancel requested: ${id}\n`);

    const result = await run.finished;
    expect(result.code, `${result.stderr}\n${serverOutput()}`).toBe(130);
    expect(lines(result).at(-1)).toBe('[cancelled]');
    expect(out(result)).toBe('started\n[cancelled]\n');
    await waitFor(
      () => !fs.existsSync(rel('running')) && !fs.existsSync(rel('cancel')),
      'running and cancel to be removed',
    );
  });

  it('relay.sh flush is refused while a command runs and accepted afterwards', async () => {
    await serveOurs();
    expect((await fixture('handshake').finished).code).toBe(0);
    const run = fixture('run', text('sleep 300'));
    await waitForRunning();

    const refused = await fixture('flush').finished;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/running/);
    expect(fs.existsSync(rel('handshake.done'))).toBe(true);
    expect(fs.existsSync(rel('client.ready'))).toBe(true);

    expect((await fixture('cancel').finished).code).toBe(0);
    expect((await run.finished).code).toBe(130);
    await waitFor(() => !fs.existsSync(rel('running')), 'running to be removed');

    const flushed = await fixture('flush').finished;
    expect(flushed.code, flushed.stderr).toBe(0);
    expect(out(flushed)).toMatch(/^Flushed /);
    for (const name of ['client.ready', 'handshake.done']) expect(fs.existsSync(rel(name)), name).toBe(false);
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
    expect(fs.readdirSync(rel('result'))).toEqual([]);
  });
});

// ---------------------------------------------------------------- our client, the fixture server

describe('our client against the Part-A fixture server', () => {
  it('relay-dap run does the handshake by itself and prints hi', async () => {
    const server = await serveFixture();
    expect(fs.existsSync(rel('handshake.done'))).toBe(false);
    const run = await ours('run', '--', text('echo hi')).finished;
    expect(run.code, `${run.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(run)).toBe('hi\n');
    expect(fs.existsSync(rel('client.ready'))).toBe(true);
    expect(fs.existsSync(rel('handshake.done'))).toBe(true);
    expect(server.stdout().toString()).toMatch(/handshake done/);
    // Our client deletes what it has read.
    expect(fs.readdirSync(rel('result'))).toEqual([]);
    expect(fs.readdirSync(rel('cmd'))).toEqual([]);
  });

  it('relay-dap run waits out a server.ready that the fixture server is still writing (Part B, defect 11)', async () => {
    await serveFixture();
    const ready = fs.readFileSync(rel('server.ready'));
    // What a client sees between the fixture's `stamp >server.ready` opening the file and its
    // printf writing the line (a `date` fork in between): the file exists, and is empty.
    fs.writeFileSync(rel('server.ready'), '');
    const run = ours('run', '--', text('echo hi'));
    // The writer takes milliseconds; give the client time to look at the empty file first.
    await Promise.race([run.finished, sleep(500)]);
    fs.writeFileSync(rel('server.ready'), ready);
    const finished = await run.finished;
    expect(finished.code, `${finished.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(finished)).toBe('hi\n');
  });

  it('relay-dap run propagates exit codes (7, and 143 for SIGTERM)', async () => {
    await serveFixture();
    const seven = await ours('run', '--', text('echo before; exit 7')).finished;
    expect(seven.code, `${seven.stderr}\n${serverOutput()}`).toBe(7);
    expect(out(seven)).toBe('before\n');
    const killed = await ours('run', '--', text('kill -TERM $$')).finished;
    expect(killed.code, `${killed.stderr}\n${serverOutput()}`).toBe(143);
  });

  it('relay-dap run streams: the first line arrives before the command ends', async () => {
    await serveFixture();
    const gate = work('gate');
    const run = ours(
      'run',
      '--',
      text(`echo first; while [ ! -e '${gate}' ]; do sleep 0.05; done; echo second`),
    );
    // The command cannot end before the gate exists, and the gate is made only after this.
    await waitFor(() => run.stdout().toString() === 'first\n' || !isRunning(run), 'the first line on stdout');
    expect(isRunning(run), run.stderr()).toBe(true);
    expect(run.stdout().toString()).toBe('first\n');
    fs.writeFileSync(gate, '');
    const finished = await run.finished;
    expect(finished.code, `${finished.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(finished)).toBe('first\nsecond\n');
  });

  it('relay-dap cancel cancels a running command on the fixture server (.exit 130)', async () => {
    const server = await serveFixture();
    const run = ours('run', '--', text('echo started; sleep 300; echo finished'));
    await waitFor(() => run.stdout().toString() === 'started\n', 'the command to start');
    const id = await waitForRunning();
    expect(id.endsWith(`_${run.child.pid}`)).toBe(true);

    const cancel = await ours('cancel').finished;
    expect(cancel.code, `${cancel.stderr}\n${serverOutput()}`).toBe(0);
    // The code is reported when `.exit` was still there to read; `relay-dap run` may have taken it first.
    expect(cancel.stderr).toMatch(new RegExp(`^cancelled ${id}( \\(exit 130\\))?$`, 'm'));

    const result = await run.finished;
    expect(result.code, `${result.stderr}\n${serverOutput()}`).toBe(130);
    expect(out(result)).toBe('started\n[cancelled]\n');
    await waitFor(
      () => server.stdout().toString().includes(`finished ${id}: exit 130`),
      'the fixture server to write .exit 130',
    );
    await waitFor(
      () => !fs.existsSync(rel('running')) && !fs.existsSync(rel('cancel')),
      'running and cancel to be removed',
    );
  });

  it('relay-dap cancel returns once the command has ended, even if its own client took .exit first', async () => {
    const server = await serveFixture();
    const serverPid = server.child.pid ?? -1;
    const run = ours('run', '--', text('echo started; sleep 300'));
    await waitFor(() => run.stdout().toString() === 'started\n', 'the command to start');
    const id = await waitForRunning();

    // Hold the server while the cancel is written, then hold the canceller while the server
    // settles the command and `relay-dap run` reads and deletes .exit (as Part A says it does).
    process.kill(serverPid, 'SIGSTOP');
    let cancel: Spawned;
    try {
      cancel = ours('cancel');
      await waitFor(() => readIf(rel('cancel')) === `${id}\n`, 'relay-dap cancel to write cancel');
      process.kill(cancel.child.pid ?? -1, 'SIGSTOP');
    } finally {
      process.kill(serverPid, 'SIGCONT');
    }
    const result = await run.finished;
    expect(result.code, `${result.stderr}\n${serverOutput()}`).toBe(130);
    expect(fs.existsSync(rel('result', `${id}.exit`))).toBe(false);
    await waitFor(() => !fs.existsSync(rel('running')), 'running to be removed');

    process.kill(cancel.child.pid ?? -1, 'SIGCONT');
    const resumedAt = Date.now();
    const cancelled = await cancel.finished;
    expect(cancelled.code, `${cancelled.stderr}\n${serverOutput()}`).toBe(0);
    expect(cancelled.stderr).toMatch(new RegExp(`^cancelled ${id}$`, 'm'));
    expect(Date.now() - resumedAt).toBeLessThan(10_000);
  });

  it('relay-dap run --timeout 1 exits 124 with the output printed so far, and the command is cancelled (.exit 130)', async () => {
    const server = await serveFixture();
    expect((await ours('handshake').finished).code).toBe(0);
    const startedFlag = work('started');
    const run = await ours(
      'run',
      '--timeout',
      '1',
      '--',
      text(`echo started; touch '${startedFlag}'; sleep 300; echo finished`),
    ).finished;
    expect(run.code, `${run.stderr}\n${serverOutput()}`).toBe(124);
    const id = /command (\d{19}_\d+) timed out/.exec(run.stderr)?.[1] ?? '';
    expect(id, run.stderr).toMatch(ID);
    if (fs.existsSync(startedFlag)) {
      // It ran, printed, and was cancelled by the server: its output is kept, [cancelled] last.
      expect(out(run)).toBe('started\n[cancelled]\n');
      await waitFor(
        () => server.stdout().toString().includes(`finished ${id}: exit 130`),
        'the fixture server to settle the cancelled command',
      );
    } else {
      // A machine too loaded to start it within a second: it was withdrawn from the queue.
      console.warn(`--timeout 1 ran out before ${id} had started; it was withdrawn instead of cancelled`);
      expect(out(run)).toBe('[cancelled]\n');
    }
    await waitFor(() => !fs.existsSync(rel('running')), 'running to be removed');
  });

  it('relay-dap status reports the fixture server as running, with no heartbeat', async () => {
    const server = await serveFixture();
    expect((await ours('handshake').finished).code).toBe(0);
    const status = await ours('status').finished;
    expect(status.code, status.stderr).toBe(0);
    const [serverLine, handshake, running, pending] = lines(status);
    expect(serverLine).toMatch(/^Server: running /);
    expect(serverLine).toContain(`${HOST}:${server.child.pid}`);
    expect(serverLine).toMatch(/no heartbeat/);
    expect(handshake).toBe('Handshake: done');
    expect(running).toBe('Running: none');
    expect(pending).toBe('Pending commands: 0');
  });

  it('the RelayClient library (open, submit, exit, output) works against the fixture server', async () => {
    await serveFixture();
    const client = await RelayClient.open({ relayDir: ctx.dirs.relayDir });
    try {
      const command = client.submit(text('echo lib-out; echo lib-err >&2; exit 5'));
      expect(command.id).toMatch(ID);
      const chunks: Buffer[] = [];
      command.output.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = once(command.output, 'end');
      const outcome = await command.exit;
      await ended;
      expect(outcome).toMatchObject({ id: command.id, exitCode: 5, cancelled: false });
      expect(outcome.record).toBeUndefined(); // a Part-A server writes no result/<id>.json
      expect(Buffer.concat(chunks).toString('utf8')).toBe('lib-out\nlib-err\n');
      expect(fs.existsSync(rel('handshake.done'))).toBe(true);
      expect(fs.existsSync(rel('result', `${command.id}.exit`))).toBe(false);

      // Cancel through the library: the fixture server stops it and reports 130.
      const long = client.submit(text('echo started; sleep 300'));
      const longChunks: Buffer[] = [];
      long.output.on('data', (chunk: Buffer) => longChunks.push(chunk));
      const longEnded = once(long.output, 'end');
      await waitFor(() => Buffer.concat(longChunks).toString() === 'started\n', 'the long command to start');
      long.cancel();
      const cancelled = await long.exit;
      await longEnded;
      expect(cancelled).toMatchObject({ id: long.id, exitCode: 130, cancelled: true });
      expect(Buffer.concat(longChunks).toString('utf8')).toBe('started\n[cancelled]\n');
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------- our server on a Part-A server's directory

/** `relay-dap serve` on the fixture's directory: not awaited, as it may stand by instead of serving. */
function serveOursAlongside(): Spawned {
  const server = relayDap(['serve', '--relay-dir', ctx.dirs.relayDir, '--workdir', ctx.dirs.workdir], {
    env: markerEnv(),
  });
  ctx.servers.push({
    name: 'relay-dap serve',
    output: () => server.stderr(),
    stop: () => stopProcess(server),
  });
  return server;
}

/** Live (non-zombie) members of process group `pgid`. */
/**
 * A dead server left `id` running in `pgid`, which is no longer its: ours, started now, settles
 * the command (exit 125) and leaves that process group (`who`) alone.
 */
async function expectSettledSparing(id: string, pgid: number, who: string): Promise<void> {
  fs.writeFileSync(rel('result', `${id}.log`), '');
  await serveOurs();
  await waitFor(() => fs.existsSync(rel('result', `${id}.exit`)), 'the settled result');
  expect(readIf(rel('result', `${id}.exit`))).toBe('125\n');
  expect(groupMembers(pgid), who).toEqual([pgid]);
}

function groupMembers(pgid: number): number[] {
  return fs
    .readdirSync('/proc')
    .map((name) => procStat(Number(name)))
    .filter((stat) => stat !== undefined && stat.pgid === pgid && stat.state !== 'Z')
    .map((stat) => stat!.pid);
}

function runningPgid(): number {
  return parseRunningMarker(readIf(rel('running')) ?? '').pgid ?? NaN;
}

describe('our server on the directory of a Part-A server', () => {
  it('started while a live Part-A server runs a command: stands by, the client gets the real exit code, nothing runs twice or at once, then takes over', async () => {
    const partAServer = await serveFixture();
    expect((await fixture('handshake').finished).code).toBe(0);
    const journal = work('journal');
    const gate = work('gate');
    const logged = (name: string, body: string): string =>
      text(`echo "+ ${name}" >> '${journal}'; ${body}; echo "- ${name}" >> '${journal}'`);
    const first = fixture(
      'run',
      logged('first', `while [ ! -e '${gate}' ]; do sleep 0.05; done; echo first-out`) + '; exit 7',
    );
    const id = await waitForRunning();

    const ourServer = serveOursAlongside();
    // Before the fix it claimed the directory and, seeing no heartbeat on `running`, settled the
    // command as dead (exit 125) while it ran on. Now it says it leaves it alone.
    await waitFor(() => ourServer.stderr().includes(id), 'our server to name the running command');
    // A command queued now is the Part-A server's to run, after the first (before the fix, ours
    // took it and ran it alongside).
    const second = fixture('run', logged('second', 'echo second-out'));
    await waitFor(
      () =>
        fs.readdirSync(rel('cmd')).some((name) => name.endsWith('.sh')) ||
        (readIf(journal) ?? '').includes('+ second'),
      'the second command to be queued',
    );
    fs.writeFileSync(gate, '');

    const firstResult = await first.finished;
    expect(firstResult.code, `${firstResult.stderr}\n${serverOutput()}`).toBe(7);
    expect(out(firstResult)).toBe('first-out\n');
    const secondResult = await second.finished;
    expect(secondResult.code, `${secondResult.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(secondResult)).toBe('second-out\n');
    expect(readIf(journal)).toBe('+ first\n- first\n+ second\n- second\n');

    const who = `relay server ${HOST}:${partAServer.child.pid}`;
    expect(ourServer.stderr()).toMatch(
      /\(no heartbeat: a Part-A server\) serves .*; .* stands by, running nothing/,
    );
    expect(ourServer.stderr()).toContain(`[${id}] running on ${who} (Part A); this server leaves it alone`);
    await waitFor(() => ourServer.stderr().includes(`[${id}] ended on ${who}`), 'our server to see it end');
    expect(ourServer.stderr()).toMatch(
      new RegExp(`\\[${id}\\] ended on .*: (exit 7, written by that server|its client has taken the result)`),
    );
    expect(ourServer.stderr()).not.toMatch(/settled|\] started|serving /);
    expect(readIf(rel('server.ready'))).toContain(`:${partAServer.child.pid}:`);

    // The Part-A server stops: ours takes the directory over and serves it.
    await stopProcess(partAServer);
    await waitFor(() => /serving /.test(ourServer.stderr()), 'our server to take over');
    expect(ourServer.stderr()).toContain(`${who} (Part A) has stopped; taking over`);
    const after = await ours('run', '--', text('echo after')).finished;
    expect(after.code, `${after.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(after)).toBe('after\n');
    expect(readIf(rel('server.ready'))).toContain(`:${ourServer.child.pid}:`);
  });

  it('a Part-A server SIGKILLed while its command runs: our server kills the recorded process group and settles the command (125), saying what it stopped', async () => {
    const partAServer = await serveFixture();
    expect((await fixture('handshake').finished).code).toBe(0);
    const run = fixture('run', text('echo started; sleep 377'));
    const id = await waitForRunning();
    const pgid = runningPgid();
    await waitFor(() => readIf(rel('result', `${id}.log`)) === 'started\n', 'the command to start');
    await waitFor(() => groupMembers(pgid).length > 0, 'the command group');
    const partAPid = partAServer.child.pid ?? -1;
    partAServer.child.kill('SIGKILL');
    await partAServer.finished;
    // In its own session (setsid), the command outlives its server.
    expect(groupMembers(pgid).length).toBeGreaterThan(0);

    const ourPid = await serveOurs();
    const result = await run.finished;
    expect(result.code, `${result.stderr}\n${serverOutput()}`).toBe(125);
    const stopped = `stopped \\d+ of its processes that were still running \\(its process group ${pgid} and what it started\\)`;
    expect(out(result)).toMatch(
      new RegExp(
        `^started\\n\\n\\[relay\\] relay server ${HOST}:${partAPid} died while this command ran; relay server ${HOST}:${ourPid} ${stopped}\\. Exit code 125`,
      ),
    );
    expect(groupMembers(pgid), 'the command group after the settlement').toEqual([]);
    await waitFor(() => serverOutput().includes(`[${id}] settled after`), 'the settlement log line');
    expect(serverOutput()).toMatch(
      new RegExp(`\\[${id}\\] settled after relay server ${HOST}:${partAPid} died: ${stopped}; exit 125`),
    );
  });

  it("a dead server's running file naming a process group that now belongs to an unrelated process: settled (125), and that process is left alone", async () => {
    fs.mkdirSync(rel('cmd'), { recursive: true });
    fs.mkdirSync(rel('result'));
    // An unrelated group leader whose pid the record names, started after the record was written.
    const unrelated = spawn('sleep', ['300'], { detached: true, stdio: 'ignore', env: markerEnv() });
    const pgid = unrelated.pid ?? -1;
    try {
      const deadPid = spawnSync('true').pid;
      fs.writeFileSync(rel('server.ready'), `${HOST}:${deadPid}:${new Date().toISOString()}\n`);
      fs.writeFileSync(rel('owner'), `${HOST}:${deadPid}:1\n`);
      const id = partAId();
      fs.writeFileSync(rel('running'), `${id}:${pgid}\n`);
      const recordedAt = new Date(Date.now() - 60_000);
      fs.utimesSync(rel('running'), recordedAt, recordedAt);
      await expectSettledSparing(id, pgid, 'the unrelated process group');
      expect(serverOutput()).toMatch(
        new RegExp(
          `\\[${id}\\] settled after relay server ${HOST}:${deadPid} died: none of its processes was still running; ` +
            `process group ${pgid} was left alone: its oldest process started \\d+\\.\\d s after the command was recorded \\(the pid was reused\\); exit 125`,
        ),
      );
    } finally {
      unrelated.kill('SIGKILL');
    }
  });

  it("a dead server's running file naming a live session of another user's (pid reused): settled (125), and that session is left alone", async ({
    skip,
  }) => {
    if (!otherUser.ok) return skip(otherUser.reason);
    fs.mkdirSync(rel('cmd'), { recursive: true });
    fs.mkdirSync(rel('result'));
    // setsid in place (not a group leader when spawned): pid = pgid = sid, as a relayed command's.
    const foreign = startAsOtherUser('setsid', ['sleep', '300'], { env: markerEnv() });
    ctx.processes.push(foreign);
    const pgid = foreign.child.pid ?? -1;
    await waitFor(() => procStat(pgid)?.sid === pgid, "the other user's session");
    const deadPid = spawnSync('true').pid;
    fs.writeFileSync(rel('server.ready'), `${HOST}:${deadPid}:${new Date().toISOString()}\n`);
    const id = partAId();
    // Written now, after that process started: only the user tells them apart.
    fs.writeFileSync(rel('running'), `${id}:${pgid}\n`);
    await expectSettledSparing(id, pgid, "the other user's process group");
    expect(serverOutput()).toContain(
      `process group ${pgid} was left alone: its processes run as uid ${OTHER_UID}, not as uid ${process.getuid?.()} that recorded the command`,
    );
  });

  it('a Part-A flush (cmd/ and result/ removed and created again) under our server: it watches the new cmd/ and serves on', async () => {
    const ourPid = await serveOurs();
    const before = await ours('run', '--', text('echo before')).finished;
    expect(before.code, before.stderr).toBe(0);
    const cmdBefore = fs.statSync(rel('cmd'), { bigint: true });
    expect(inotifyWatchedInodes(ourPid)).toContain(Number(cmdBefore.ino));

    const flushed = await fixture('flush').finished;
    expect(flushed.code, flushed.stderr).toBe(0);
    // A new directory (ext4 may hand the same inode number back: its birth time tells them apart).
    const cmdAfter = fs.statSync(rel('cmd'), { bigint: true });
    expect(cmdAfter.birthtimeNs).not.toBe(cmdBefore.birthtimeNs);
    // The kernel drops a watch when its directory is deleted. Before the fix none was set on
    // the new one: events never came again, and every command waited for the one-second rescan.
    // The message first: ext4 may give the new cmd/ the old inode number, and the kernel may
    // still list the dropped watch for a moment, so the inode alone could be seen too early.
    const replaced = new RegExp(
      `${rel('cmd')} was replaced \\(removed and created again, as a Part-A flush does\\); watching the new one|is usable again; serving`,
    );
    await waitFor(() => replaced.test(serverOutput()), 'the server saying it watches the new cmd/');
    await waitFor(
      () => inotifyWatchedInodes(ourPid).includes(Number(cmdAfter.ino)),
      'a watch on the new cmd/',
    );

    const after = await ours('run', '--', text('echo after')).finished;
    expect(after.code, `${after.stderr}\n${serverOutput()}`).toBe(0);
    expect(out(after)).toBe('after\n');
  });
});
