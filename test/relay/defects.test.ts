/**
 * One test (or a few) per defect of the Part-A implementation (relay-protocol.md, Part B),
 * each showing that ours does not have it. Real servers, real clients, real bash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RelayClient } from '../../src/relay/client.js';
import { heldCommand, runArgs } from '../support/heldRun.js';
import {
  killMarked,
  partA,
  processesWithMarker,
  queueCommandFile,
  readIf,
  relayDap,
  runRelayDap,
  startServer,
  tempRelayDir,
  uniqueMarker,
  waitUntil,
  type ServerProcess,
} from '../support/relayHarness.js';
import { parseRunningMarker } from '../../src/relay/runningMarker.js';

let env: ReturnType<typeof tempRelayDir>;
let marker: string;
const servers: ServerProcess[] = [];
const clients: RelayClient[] = [];

async function server(args: string[] = []): Promise<ServerProcess> {
  const s = await startServer(env.relayDir, ['--workdir', env.workdir, ...args]);
  servers.push(s);
  return s;
}

async function client(): Promise<RelayClient> {
  const c = await RelayClient.open({ relayDir: env.relayDir });
  clients.push(c);
  return c;
}

function collect(stream: NodeJS.ReadableStream): { text: () => string; ended: Promise<void> } {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve) => stream.on('end', () => resolve()));
  return { text: () => Buffer.concat(chunks).toString(), ended };
}

beforeEach(() => {
  env = tempRelayDir();
  marker = uniqueMarker();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  const left = processesWithMarker(marker);
  killMarked(marker);
  env.cleanup();
  expect(left, 'processes outlived their command').toEqual([]);
});

describe('defect 1: polls every second — ours reacts to filesystem events', () => {
  it('runs 20 commands one after another in far less than the 20 s a 1-second poll needs', async () => {
    const s = await server();
    expect(s.stderr()).toMatch(/filesystem events/);
    const c = await client();
    const begin = performance.now();
    for (let i = 0; i < 20; i++) {
      const command = c.submit('true');
      command.output.resume();
      expect((await command.exit).exitCode).toBe(0);
    }
    // A generous bound for a loaded machine; the benchmark measures the real figure.
    expect(performance.now() - begin).toBeLessThan(10_000);
  });

  it('cancels 5 running commands in far less than the 5 s a 1-second poll needs', async () => {
    await server();
    const c = await client();
    const begin = performance.now();
    for (let i = 0; i < 5; i++) {
      const command = c.submit(`export ${marker}=1; echo started; sleep 300`);
      const output = collect(command.output);
      await waitUntil(() => output.text().includes('started'), 'the command to start');
      command.cancel();
      expect((await command.exit).exitCode).toBe(130);
    }
    expect(performance.now() - begin).toBeLessThan(5_000 + 5 * 1000);
  });
});

describe('defect 2: output is not streamed — ours streams it while the command runs', () => {
  it('delivers the first line before the command ends', async () => {
    await server();
    const gate = path.join(env.root, 'gate');
    const run = relayDap(
      runArgs(env.relayDir, heldCommand(`export ${marker}=1; echo first`, gate, `echo second`)),
    );
    await waitUntil(() => run.stdout().toString() === 'first\n', 'the first line on the client stdout');
    fs.writeFileSync(gate, '');
    const done = await run.finished;
    expect(done.code).toBe(0);
    expect(done.stdout.toString()).toBe('first\nsecond\n');
  });
});

describe('defect 3: a cancel kills only the process group — ours kills the whole tree', () => {
  it('leaves no setsid grandchild, double-forked daemon or background job after a cancel', async () => {
    await server(['--grace', '2']);
    const c = await client();
    const command = c.submit(
      `export ${marker}=1
       setsid sleep 301 &
       ( ( sleep 302 & ) & )
       sleep 303 &
       echo started
       sleep 304`,
    );
    const output = collect(command.output);
    await waitUntil(() => output.text().includes('started'), 'the command to start');
    // bash execs the last `sleep` itself, so four processes carry the marker.
    await waitUntil(() => processesWithMarker(marker).length >= 4, 'all four sleeps');
    command.cancel();
    const outcome = await command.exit;
    await output.ended;
    expect(outcome.exitCode).toBe(130);
    expect(output.text()).toBe('started\n[cancelled]\n');
    expect(processesWithMarker(marker)).toEqual([]);
  });

  it('stops background jobs of a command that exits normally, before its result is written', async () => {
    await server();
    const c = await client();
    const command = c.submit(`export ${marker}=1; (sleep 300; echo late) & setsid sleep 301 & echo done`);
    const output = collect(command.output);
    const outcome = await command.exit;
    await output.ended;
    expect(outcome.exitCode).toBe(0);
    expect(outcome.record?.leftoverProcesses).toBeGreaterThanOrEqual(2);
    expect(output.text()).toBe('done\n');
    expect(processesWithMarker(marker)).toEqual([]);
  });
});

/** A server, and `relay-dap run` of a marked `sleep 300` that it runs (`running` written). */
async function serverRunningASleep(): Promise<{ first: ServerProcess; run: ReturnType<typeof relayDap> }> {
  const first = await server();
  const run = relayDap([
    'run',
    '--relay-dir',
    env.relayDir,
    '--',
    `export ${marker}=1; echo started; sleep 300`,
  ]);
  await waitUntil(() => run.stdout().toString().includes('started'), 'the command to start');
  // `running` follows the start by a moment: what is tested is a server that died after writing it.
  await waitUntil(() => fs.existsSync(path.join(env.relayDir, 'running')), 'the running marker');
  return { first, run };
}

describe('defect 4: a SIGKILLed server leaks its markers — ours is seen as gone and is settled', () => {
  it('tells the waiting client within 5 s, reports gone, lets flush through, and a restart settles everything', async () => {
    const { first, run } = await serverRunningASleep();
    const runningId = parseRunningMarker(readIf(path.join(env.relayDir, 'running'))!).id;
    // Two commands queued behind it, each counting its runs in a file.
    const counter = path.join(env.root, 'runs');
    const queued = [`${runningId.slice(0, 19)}1_9`, `${runningId.slice(0, 19)}2_9`];
    for (const id of queued) queueCommandFile(env.relayDir, id, `echo ${id} >> ${counter}`);

    first.child.kill('SIGKILL');
    const killedAt = performance.now();
    const answered = await run.finished;
    expect(performance.now() - killedAt).toBeLessThan(5_000);
    expect(answered.code).toBe(3);
    expect(answered.stderr).toMatch(/is not running|stopped answering/);

    // The markers are still there, but status does not call it healthy.
    expect(fs.existsSync(path.join(env.relayDir, 'server.ready'))).toBe(true);
    const status = await runRelayDap(['status', '--relay-dir', env.relayDir]);
    expect(status.code).toBe(3);
    expect(status.stdout.toString()).toMatch(/^Server: gone /m);
    expect(status.stdout.toString()).toMatch(/^Running: .*stale/m);
    // The orphaned command is still running until a server settles it.
    expect(processesWithMarker(marker).length).toBeGreaterThan(0);

    const second = await server();
    await waitUntil(
      () => fs.existsSync(path.join(env.relayDir, 'result', `${runningId}.exit`)),
      'the settled result',
    );
    expect(readIf(path.join(env.relayDir, 'result', `${runningId}.exit`))).toBe('125\n');
    const log = readIf(path.join(env.relayDir, 'result', `${runningId}.log`))!;
    expect(log).toMatch(
      /started\n\n\[relay\] relay server .* died while this command ran; .*stopped \d+ of its processes/,
    );
    const record = JSON.parse(readIf(path.join(env.relayDir, 'result', `${runningId}.json`))!) as {
      recovered: boolean;
    };
    expect(record.recovered).toBe(true);
    await waitUntil(() => processesWithMarker(marker).length === 0, 'the orphaned tree to be gone');
    await waitUntil(
      () => queued.every((id) => fs.existsSync(path.join(env.relayDir, 'result', `${id}.exit`))),
      'both queued commands to end',
    );
    expect(readIf(counter)).toBe(`${queued[0]}\n${queued[1]}\n`);
    expect(second.stderr()).toMatch(/is not running.*settling what it left/);
    expect(fs.existsSync(path.join(env.relayDir, 'running'))).toBe(false);
  });

  it('lets flush clear a directory whose server died mid-command', async () => {
    const { first, run } = await serverRunningASleep();
    first.child.kill('SIGKILL');
    await run.finished;
    const flush = await runRelayDap(['flush', '--relay-dir', env.relayDir]);
    expect(flush.code).toBe(0);
    expect(flush.stderr).toMatch(/removed the stale running marker/);
    killMarked(marker);
    await waitUntil(() => processesWithMarker(marker).length === 0, 'the orphan to die');
  });
});

describe('defect 5: shutdown sends one SIGTERM — ours escalates to SIGKILL', () => {
  it('leaves nothing of a command that ignores SIGTERM when the server is stopped', async () => {
    const s = await server(['--grace', '1']);
    const c = await client();
    const command = c.submit(`export ${marker}=1; trap '' TERM; sleep 300 & echo started; wait`);
    const output = collect(command.output);
    await waitUntil(() => output.text().includes('started'), 'the command to start');
    const id = command.id;
    const stopped = await s.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/SIGKILL after 1 s/);
    expect(processesWithMarker(marker)).toEqual([]);
    expect(
      readIf(path.join(env.relayDir, 'result', `${id}.exit`)) ?? (await command.exit).exitCode + '\n',
    ).toBe('130\n');
    expect(fs.existsSync(path.join(env.relayDir, 'server.ready'))).toBe(false);
  });
});

describe('defect 6: startup deletes the relay directory — ours keeps everything', () => {
  it('keeps foreign files, old results and queued commands, and runs the queued ones', async () => {
    fs.mkdirSync(path.join(env.relayDir, 'result'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(env.relayDir, 'notes.txt'), 'mine');
    fs.writeFileSync(path.join(env.relayDir, 'result', 'old.log'), 'old');
    const id = `${Date.now()}000000_77`;
    queueCommandFile(env.relayDir, id, 'echo queued before the server started');
    await server();
    await waitUntil(
      () => fs.existsSync(path.join(env.relayDir, 'result', `${id}.exit`)),
      'the queued command',
    );
    expect(readIf(path.join(env.relayDir, 'notes.txt'))).toBe('mine');
    expect(readIf(path.join(env.relayDir, 'result', 'old.log'))).toBe('old');
    expect(readIf(path.join(env.relayDir, 'result', `${id}.log`))).toBe('queued before the server started\n');
  });

  it('does not destroy a live server: a second one takes over after the first finishes its command', async () => {
    const first = await server();
    const gate = path.join(env.root, 'gate');
    const c = await client();
    const command = c.submit(heldCommand(`export ${marker}=1; echo started`, gate, `echo end`));
    const output = collect(command.output);
    await waitUntil(() => output.text().includes('started'), 'the command to start');
    const second = await server();
    expect(second.stderr()).toMatch(/takes it over/);
    await waitUntil(() => /steps down once command/.test(first.stderr()), 'the first server to step down');
    const next = c.submit('echo after the takeover');
    const nextOutput = collect(next.output);
    fs.writeFileSync(gate, '');
    expect((await command.exit).exitCode).toBe(0);
    await output.ended;
    expect(output.text()).toBe('started\nend\n');
    expect((await next.exit).exitCode).toBe(0);
    await nextOutput.ended;
    expect(nextOutput.text()).toBe('after the takeover\n');
    expect((await first.finished).code).toBe(0);
    expect(second.stderr()).toMatch(/started/);
  });
});

describe('defect 7: timeouts count polls and exit 1 — ours uses wall time, exits 124 and keeps the output', () => {
  it('cancels after the wall-clock timeout, prints what came before, exits 124', async () => {
    await server();
    const run = await runRelayDap([
      'run',
      '--relay-dir',
      env.relayDir,
      '--timeout',
      '1',
      '--',
      `export ${marker}=1; echo before; sleep 300`,
    ]);
    expect(run.code).toBe(124);
    expect(run.stdout.toString()).toBe('before\n[cancelled]\n');
    expect(run.stderr).toMatch(/timed out after 1 s/);
    expect(run.ms).toBeLessThan(15_000);
    const failing = await runRelayDap(['run', '--relay-dir', env.relayDir, '--', 'exit 1']);
    expect(failing.code).toBe(1);
  });
});

describe('defect 8: test-then-read races and a shared cancel.tmp — ours has neither', () => {
  it('carries out two cancels written at the same moment by two clients', async () => {
    await server();
    const owner = await client();
    const running = owner.submit(`export ${marker}=1; echo started; sleep 300`);
    const queued = owner.submit(`export ${marker}=1; touch ${env.root}/queued-ran`);
    const output = collect(running.output);
    await waitUntil(() => output.text().includes('started'), 'the command to start');
    // Submitted together, queued together: the second is in cmd/ by the time the first runs.
    expect(owner.status().pending).toEqual([queued.id]);
    const [a, b] = [await client(), await client()];
    await Promise.all([a.cancel(running.id), b.cancel(queued.id)]);
    // The submitting client reads (and deletes) the results; both were cancelled.
    expect((await running.exit).exitCode).toBe(130);
    expect(await queued.exit).toMatchObject({ exitCode: 130, cancelled: true });
    expect(fs.existsSync(path.join(env.root, 'queued-ran'))).toBe(false);
  });

  it('status never fails while markers come and go', async () => {
    await server();
    const c = await client();
    const churn = (async () => {
      for (let i = 0; i < 30; i++) {
        const command = c.submit('true');
        command.output.resume();
        await command.exit;
      }
    })();
    const unexpected: string[] = [];
    for (let i = 0; i < 15; i++) {
      const status = await runRelayDap(['status', '--relay-dir', env.relayDir]);
      if (status.code !== 0 || status.stderr !== '') {
        unexpected.push(`exit ${status.code}: ${status.stdout.toString()}${status.stderr}`);
      }
    }
    await churn;
    expect(unexpected).toEqual([]);
  });
});

describe('defect 9: command texts on both consoles, world-readable results — ours keeps them private', () => {
  it('prints ids, not texts, and writes 0600 files in 0700 directories', async () => {
    const s = await server();
    const secret = `hunter2-${marker}`;
    const gate = path.join(env.root, 'gate');
    const run = relayDap(runArgs(env.relayDir, heldCommand(`SECRET=${secret}; echo started`, gate)));
    await waitUntil(() => run.stdout().toString().includes('started'), 'the command to start');
    const modes: string[] = [];
    const walk = (dir: string): void => {
      for (const name of fs.readdirSync(dir)) {
        const file = path.join(dir, name);
        const stat = fs.lstatSync(file);
        modes.push(`${stat.isDirectory() ? 'dir' : 'file'} ${(stat.mode & 0o777).toString(8)}`);
        if (stat.isDirectory()) walk(file);
      }
    };
    walk(env.relayDir);
    expect((fs.statSync(env.relayDir).mode & 0o777).toString(8)).toBe('700');
    expect(new Set(modes)).toEqual(new Set(['dir 700', 'file 600']));
    fs.writeFileSync(gate, '');
    const done = await run.finished;
    expect(done.code).toBe(0);
    expect(done.stderr).not.toContain(secret);
    expect(s.stderr()).not.toContain(secret);
    expect(s.stderr()).toMatch(/\[\d{19}_\d+\] started/);
  });
});

describe('defect 10: leading "-" parsed as bash options, argument boundaries lost — ours passes the text unchanged', () => {
  it('keeps a leading dash and the boundaries of several words', async () => {
    await server();
    const dash = await runRelayDap(['run', '--relay-dir', env.relayDir, '--', '-x']);
    expect(dash.code).toBe(127);
    expect(dash.stdout.toString()).toMatch(/-x: command not found/);
    const words = await runRelayDap([
      'run',
      '--relay-dir',
      env.relayDir,
      '--',
      'printf',
      '[%s]\\n',
      'a   b',
      '-n',
    ]);
    expect(words.code).toBe(0);
    expect(words.stdout.toString()).toBe('[a   b]\n[-n]\n');
  });
});

describe('defect 11: handshake markers written in place — ours renames complete files into place', () => {
  /** Names whose content changed in place (a 'change' event) rather than arriving by rename. */
  async function writtenInPlace(
    startServerSide: () => Promise<{ stop: () => Promise<unknown> }>,
  ): Promise<string[]> {
    fs.mkdirSync(env.relayDir, { recursive: true, mode: 0o700 });
    const inPlace = new Set<string>();
    const watcher = fs.watch(env.relayDir, (event, name) => {
      if (event === 'change' && name && ['server.ready', 'client.ready', 'handshake.done'].includes(name)) {
        inPlace.add(name);
      }
    });
    const serverSide = await startServerSide();
    const handshake = await runRelayDap(['handshake', '--relay-dir', env.relayDir]);
    expect(handshake.code).toBe(0);
    await serverSide.stop();
    watcher.close();
    return [...inPlace].sort();
  }

  it('shows no in-place write of server.ready, client.ready or handshake.done', async () => {
    expect(await writtenInPlace(() => server())).toEqual([]);
  });

  it('(the check can fail) sees the Part-A server write server.ready in place', async () => {
    const inPlace = await writtenInPlace(async () => {
      const fixture = partA(['--relay-dir', env.relayDir, 'serve']);
      await waitUntil(() => fs.existsSync(path.join(env.relayDir, 'server.ready')), 'the Part-A server');
      return {
        stop: async () => {
          fixture.child.kill('SIGTERM');
          await fixture.finished;
        },
      };
    });
    expect(inPlace).toContain('server.ready');
  });
});
