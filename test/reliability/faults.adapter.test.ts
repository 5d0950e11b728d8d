// Faults on the debug adapter's side, each with real processes and a measured figure for
// docs/reliability.md: the adapter SIGKILLed mid-step (and what attach and the opt-in lease
// do about the orphan it leaves), the client's connection closing at every point of a
// session, counting what a long-lived TCP adapter holds afterwards, and a full relay disk.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertResponsesMatchRequests,
  DEFAULT_CLIENT_CAPS,
  EVENT_TIMEOUT_MS,
  launchAndConfigure,
  outputByCategory,
  waitForExit,
  type AdapterContext,
  type TcpAdapter,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { DapClient } from '../support/dapClient.js';
import { processesWithMarker, readIf, relayDap, runRelayDap, waitUntil } from '../support/relayHarness.js';
import {
  bytesFree,
  childrenOf,
  inotifyWatches,
  isAlive,
  mountSmallDisk,
  openFds,
  rootWithoutDacOverride,
  seconds,
  smallDisk,
} from './faultSupport.js';
import { itNeeds, reliabilityRow } from './report.js';
import { parseRunningMarker } from '../../src/relay/runningMarker.js';

const ctx = useAdapterContext();

function relayDirOf(context: AdapterContext): string {
  return path.join(path.dirname(context.tmp), 'relay');
}

function runningId(relayDir: string): string | undefined {
  const text = readIf(path.join(relayDir, 'running'));
  return text === undefined ? undefined : parseRunningMarker(text).id;
}

interface ResultJson {
  exitCode: number;
  cancelled: boolean;
  cancelReason?: string;
}

function resultJson(relayDir: string, id: string): ResultJson {
  return JSON.parse(readIf(path.join(relayDir, 'result', `${id}.json`)) ?? 'null') as ResultJson;
}

// ---------------------------------------------------------------------------------------

describe('the debug adapter killed with SIGKILL mid-step', () => {
  it('without a lease: the relay goes on serving, and a new session attaches to the orphan and cancels it', async () => {
    const row = reliabilityRow(
      'fault',
      'debug adapter SIGKILLed mid-step (no lease): the relay keeps serving; a new session attaches and terminates the orphan',
    );
    const relayDir = relayDirOf(ctx);
    const server = await ctx.startRelayServer(relayDir, { args: ['--grace', '1'] });
    const crashed = ctx.spawnStdio();
    await launchAndConfigure(crashed.client, {
      command: ctx.mark('echo orphan-started; sleep 300'),
      relayDir,
      stopOnEntry: false,
    });
    await crashed.client.waitForEvent(
      'output',
      (e) => e.body.output === 'orphan-started\n',
      EVENT_TIMEOUT_MS,
    );
    await waitUntil(() => runningId(relayDir) !== undefined, 'the running marker');
    const orphanId = runningId(relayDir)!;
    crashed.child.kill('SIGKILL');
    expect(await waitForExit(crashed)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(processesWithMarker(ctx.marker).length, 'the orphan runs on').toBeGreaterThan(0);

    // The relay goes on: it answers status, and takes work from others (queued behind the orphan).
    const status = await runRelayDap(['status', '--relay-dir', relayDir]);
    expect(status.code).toBe(0);
    expect(status.stdout.toString()).toMatch(new RegExp(`^Running: ${orphanId}`, 'm'));
    const others = ctx.newMarker();
    const other = ctx.spawnStdio();
    await launchAndConfigure(other.client, {
      command: ctx.mark('echo other-session-ran', others),
      relayDir,
      stopOnEntry: false,
    });
    const third = relayDap(
      ['run', '--relay-dir', relayDir, '--', ctx.mark('echo third-client-ran', others)],
      {
        env: ctx.env,
      },
    );
    await waitUntil(async () => {
      const s = await runRelayDap(['status', '--relay-dir', relayDir]);
      return /^Pending commands: 2$/m.test(s.stdout.toString());
    }, 'two commands queued behind the orphan');

    // A new session attaches: it sees the orphan's output from the start, and Terminate cancels it.
    const attacher = ctx.spawnStdio();
    const { client } = attacher;
    expect((await client.request('initialize', DEFAULT_CLIENT_CAPS)).success).toBe(true);
    const attachAt = performance.now();
    const attaching = client.request('attach', { relayDir }, 60_000);
    await client.waitForEvent('initialized', undefined, EVENT_TIMEOUT_MS);
    expect((await client.request('configurationDone')).success).toBe(true);
    const attach = await attaching;
    expect(attach.success, attach.message).toBe(true);
    await client.waitForEvent('output', (e) => e.body.output.includes('orphan-started'), EVENT_TIMEOUT_MS);
    const attachMs = performance.now() - attachAt;
    const terminateAt = performance.now();
    expect((await client.request('terminate', {})).success).toBe(true);
    const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    expect(exited.body.exitCode).toBe(130);
    await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
    await waitUntil(() => processesWithMarker(ctx.marker).length === 0, 'the orphan to be gone');
    const goneMs = performance.now() - terminateAt;
    const record = resultJson(relayDir, orphanId);
    expect(record).toMatchObject({ exitCode: 130, cancelled: true, cancelReason: 'cancelled by a client' });
    expect(outputByCategory(client).stdout).toBe('orphan-started\n[cancelled]\n');

    // The work queued behind it runs next.
    const otherExit = await other.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
    const queuedMs = performance.now() - terminateAt;
    expect(otherExit.body.exitCode).toBe(0);
    expect(outputByCategory(other.client).stdout).toBe('other-session-ran\n');
    const thirdDone = await third.finished;
    expect(thirdDone.code, thirdDone.stderr).toBe(0);
    expect(thirdDone.stdout.toString()).toBe('third-client-ran\n');
    for (const session of [attacher, other]) {
      expect((await session.client.request('disconnect', {})).success).toBe(true);
      expect(await waitForExit(session)).toEqual({ code: 0, signal: null });
      session.client.assertClean();
    }
    expect(isAlive(server)).toBe(true);
    row.figure =
      `orphan ran on after the kill; status and 2 new clients served meanwhile; attach showed its output in ${seconds(attachMs)}; ` +
      `terminate → orphan gone in ${seconds(goneMs)} (exit 130, "cancelled by a client"); the 2 queued ran next (done ${seconds(queuedMs)} after terminate)`;
  });

  it('with the opt-in lease: the server cancels the command once the lease goes stale, and only then', async () => {
    const row = reliabilityRow(
      'fault',
      'editor crash under the opt-in lease (serve --lease-timeout 2): adapter and relay-dap run --lease SIGKILLed',
    );
    const relayDir = relayDirOf(ctx);
    const server = await ctx.startRelayServer(relayDir, { args: ['--grace', '1', '--lease-timeout', '2'] });
    const exitFile = (id: string): string => path.join(relayDir, 'result', `${id}.exit`);
    const leaseFile = (id: string): string => path.join(relayDir, 'lease', id);

    const adapter = ctx.spawnStdio();
    await launchAndConfigure(adapter.client, {
      command: ctx.mark('echo leased; sleep 300'),
      relayDir,
      stopOnEntry: false,
      lease: true,
    });
    await adapter.client.waitForEvent('output', (e) => e.body.output === 'leased\n', EVENT_TIMEOUT_MS);
    await waitUntil(() => runningId(relayDir) !== undefined, 'the running marker');
    const id = runningId(relayDir)!;
    expect(fs.existsSync(leaseFile(id)), 'the lease file').toBe(true);

    // While the adapter lives it refreshes the lease, and the command runs past the timeout.
    const mtimes = new Set<number>();
    const heldFrom = performance.now();
    await waitUntil(
      () => mtimes.add(fs.statSync(leaseFile(id)).mtimeMs).size >= 5,
      'four refreshes of the lease',
      20_000,
    );
    const heldMs = performance.now() - heldFrom;
    expect(heldMs).toBeGreaterThan(2000);
    expect(fs.existsSync(exitFile(id)), 'cancelled while its client lived').toBe(false);
    expect(processesWithMarker(ctx.marker).length).toBeGreaterThan(0);

    adapter.child.kill('SIGKILL');
    const killedAt = performance.now();
    await waitUntil(() => fs.existsSync(exitFile(id)), 'the server to cancel the command', 30_000);
    const adapterCancelMs = performance.now() - killedAt;
    expect(processesWithMarker(ctx.marker), 'processes left when the result was written').toEqual([]);
    expect(readIf(exitFile(id))).toBe('130\n');
    expect(resultJson(relayDir, id)).toMatchObject({ cancelled: true, exitCode: 130 });
    expect(resultJson(relayDir, id).cancelReason).toMatch(/^lease expired/);
    expect(fs.existsSync(leaseFile(id)), 'the lease file after the cancel').toBe(false);
    expect(server.stderr()).toMatch(
      new RegExp(`\\[${id}\\] lease not refreshed for \\d+\\.\\d s: its client is gone; cancelling`),
    );

    // The same for `relay-dap run --lease`.
    const cli = ctx.newMarker();
    const leased = relayDap(
      ['run', '--relay-dir', relayDir, '--lease', '--', ctx.mark('echo cli-leased; sleep 300', cli)],
      { env: ctx.env },
    );
    await waitUntil(() => leased.stdout().toString().includes('cli-leased'), 'the leased command to start');
    await waitUntil(() => runningId(relayDir) !== undefined, 'the running marker');
    const cliId = runningId(relayDir)!;
    expect(fs.existsSync(leaseFile(cliId))).toBe(true);
    leased.child.kill('SIGKILL');
    const cliKilledAt = performance.now();
    await waitUntil(() => fs.existsSync(exitFile(cliId)), 'the server to cancel the command', 30_000);
    const cliCancelMs = performance.now() - cliKilledAt;
    expect(resultJson(relayDir, cliId).cancelReason).toMatch(/^lease expired/);
    expect(processesWithMarker(cli).filter((pid) => pid !== leased.child.pid)).toEqual([]);

    // Without --lease a SIGKILLed client's command runs on: what the lease is for.
    const unleasedMarker = ctx.newMarker();
    const unleased = relayDap(
      ['run', '--relay-dir', relayDir, '--', ctx.mark('echo unleased; sleep 300', unleasedMarker)],
      { env: ctx.env },
    );
    await waitUntil(() => unleased.stdout().toString().includes('unleased'), 'the unleased command to start');
    await waitUntil(() => runningId(relayDir) !== undefined, 'the running marker');
    const unleasedId = runningId(relayDir)!;
    unleased.child.kill('SIGKILL');
    await unleased.finished;
    // Five heartbeats of the server (each tick also checks leases): more than the 2 s timeout.
    const beats = new Set<string>();
    await waitUntil(
      () => beats.add(readIf(path.join(relayDir, 'heartbeat')) ?? '').size >= 5,
      'five server ticks',
      20_000,
    );
    expect(fs.existsSync(exitFile(unleasedId)), 'an unleased command cancelled').toBe(false);
    expect(processesWithMarker(unleasedMarker).length).toBeGreaterThan(0);
    const cancel = await runRelayDap(['cancel', '--relay-dir', relayDir, unleasedId]);
    expect(cancel.code, cancel.stderr).toBe(0);
    await waitUntil(() => processesWithMarker(unleasedMarker).length === 0, 'the unleased command to end');

    row.figure =
      `live adapter: lease refreshed 4× over ${seconds(heldMs)}, command kept; adapter SIGKILLed → cancelled ${seconds(adapterCancelMs)} later ` +
      `("lease expired…", 0 processes left); relay-dap run --lease SIGKILLed → ${seconds(cliCancelMs)}; ` +
      `without --lease still running after 5 server ticks`;
  });
});

// ---------------------------------------------------------------------------------------

type Point = 'before launch' | 'launch pending' | 'paused at entry' | 'mid-step' | 'mid-!CMD';
const POINTS: Point[] = ['before launch', 'launch pending', 'paused at entry', 'mid-step', 'mid-!CMD'];

interface Holdings {
  watches: number;
  fds: number;
  children: number;
  tmpDirs: number;
}

function connect(adapter: TcpAdapter): Promise<{ socket: net.Socket; client: DapClient }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port: adapter.port, host: adapter.host });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({ socket, client: DapClient.overSocket(socket) });
    });
  });
}

describe('the client connection closing at every point of a session', () => {
  it('leaks no process, temporary directory, inotify watch or descriptor in a long-lived TCP adapter', async () => {
    const row = reliabilityRow(
      'fault',
      'DAP connection closed (FIN, RST) before launch, launch pending, paused, mid-step, mid-!CMD: what a TCP adapter keeps',
    );
    const adapter = await ctx.spawnTcp();
    const pid = adapter.child.pid!;
    const holdings = (): Holdings => ({
      watches: inotifyWatches(pid),
      fds: openFds(pid),
      children: childrenOf(pid).length,
      tmpDirs: ctx.embeddedRelayDirs().length,
    });
    const fdTargets = (): string[] =>
      fs.readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '?';
        }
      });
    const initial = holdings();
    const initialTargets = fdTargets();

    /** Drive one session to `point`; returns what is in flight there. */
    const openAt = async (point: Point, marker: string, step = 'echo step-started; sleep 300') => {
      const { socket, client } = await connect(adapter);
      const pending: Array<Promise<unknown>> = [];
      expect((await client.request('initialize', DEFAULT_CLIENT_CAPS)).success).toBe(true);
      if (point === 'before launch') return { socket, client, pending };
      const stopOnEntry = point !== 'mid-step';
      const launching = client.request('launch', {
        command: ctx.mark(step, marker),
        stopOnEntry,
      });
      pending.push(launching.catch(() => undefined));
      if (point === 'launch pending') {
        // Messages are handled in order: once `threads` is answered, the launch waits for configurationDone.
        expect((await client.request('threads')).success).toBe(true);
        return { socket, client, pending };
      }
      expect((await client.request('configurationDone')).success).toBe(true);
      expect((await launching).success).toBe(true);
      if (point === 'mid-step') {
        await client.waitForEvent('output', (e) => e.body.output === 'step-started\n', EVENT_TIMEOUT_MS);
      } else {
        await client.waitForEvent('stopped', undefined, EVENT_TIMEOUT_MS);
      }
      if (point === 'mid-!CMD') {
        const evaluating = client.request('evaluate', {
          expression: `!${ctx.mark('echo console-started; sleep 300', marker)}`,
          context: 'repl',
        });
        pending.push(evaluating.catch(() => undefined));
        await client.waitForEvent('output', (e) => e.body.output === 'console-started\n', EVENT_TIMEOUT_MS);
      }
      if (point === 'mid-step' || point === 'mid-!CMD') {
        await waitUntil(() => processesWithMarker(marker).length > 0, 'the relayed command to run');
      }
      return { socket, client, pending };
    };

    // A warm-up session, ended properly: whatever the process keeps for its whole life
    // (the event loop's inotify descriptor, created on first use) is there afterwards.
    {
      const warm = ctx.newMarker();
      const { client } = await openAt('paused at entry', warm, 'echo warm-up');
      await client.request('continue', { threadId: 1 });
      await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect((await client.request('disconnect', {})).success).toBe(true);
      await client.closed;
      client.assertClean();
    }
    await waitUntil(
      () => {
        const now = holdings();
        return now.children === 0 && now.tmpDirs === 0 && now.watches === initial.watches;
      },
      'the warm-up session to be released',
      EVENT_TIMEOUT_MS,
    );
    const baseline = holdings();
    const kept = fdTargets().filter((target) => !initialTargets.includes(target));

    const results: string[] = [];
    let peak: Holdings = { ...baseline };
    let slowest = { ms: 0, what: '' };
    for (const close of ['FIN', 'RST'] as const) {
      for (const point of POINTS) {
        const what = `${close} ${point}`;
        const marker = ctx.newMarker();
        const { socket, client, pending } = await openAt(point, marker);
        const during = holdings();
        peak = {
          watches: Math.max(peak.watches, during.watches),
          fds: Math.max(peak.fds, during.fds),
          children: Math.max(peak.children, during.children),
          tmpDirs: Math.max(peak.tmpDirs, during.tmpDirs),
        };
        const closedAt = performance.now();
        if (close === 'FIN') client.end();
        else socket.resetAndDestroy();
        let back: Holdings = during;
        try {
          await waitUntil(
            () => {
              back = holdings();
              return (
                // At or under the baseline: a socket of the warm-up session may still have been
                // closing when the baseline was taken; more than it is a leak.
                back.watches <= baseline.watches &&
                back.fds <= baseline.fds &&
                back.children === 0 &&
                back.tmpDirs === 0 &&
                processesWithMarker(marker).length === 0
              );
            },
            `the adapter to release session "${what}"`,
            EVENT_TIMEOUT_MS,
          );
        } catch (error) {
          throw new Error(
            `${(error as Error).message}: baseline ${JSON.stringify(baseline)}, now ${JSON.stringify(back)}, ` +
              `marked ${processesWithMarker(marker).join(',') || 'none'}; new fds: ${fdTargets()
                .filter((t) => !initialTargets.includes(t))
                .join(', ')}\nadapter stderr:\n${adapter.stderr().slice(-3000)}`,
            { cause: error },
          );
        }
        const ms = performance.now() - closedAt;
        if (ms > slowest.ms) slowest = { ms, what };
        await Promise.all(pending);
        if (close === 'FIN') {
          // A half-closed client still hears the end of the session, and every request is answered.
          await client.closed;
          assertResponsesMatchRequests(client);
          if (point !== 'before launch' && point !== 'launch pending') {
            const ends = client.transcript
              .filter((e) => e.direction === 'received' && e.message.type === 'event')
              .map((e) => (e.message as DebugProtocol.Event).event)
              .filter((event) => event === 'exited' || event === 'terminated');
            expect(ends, `${what}:\n${client.transcriptSummary().slice(-8).join('\n')}`).toEqual([
              'exited',
              'terminated',
            ]);
          }
        }
        client.assertClean();
        expect(adapter.hasExited, `the adapter exited after ${what}`).toBe(false);
        results.push(`${what} ${seconds(ms)}`);
      }
    }
    expect(initial.watches).toBe(0);
    expect(baseline.watches).toBe(0);
    row.figure =
      `10 sessions closed: after each, inotify watches back to ${baseline.watches} (peak ${peak.watches}), fds back to ${baseline.fds} ` +
      `(peak ${peak.fds}), children 0 (peak ${peak.children}), relay-dap-* tmp dirs 0 (peak ${peak.tmpDirs}), marked processes 0; ` +
      `slowest release ${seconds(slowest.ms)} (${slowest.what}); fds ${initial.fds} before the first session, ${baseline.fds} after ` +
      `(kept for the process's life: ${kept.join(', ') || 'none'})`;
  });
});

// ---------------------------------------------------------------------------------------

describe('a launch whose relayDir is on a full disk', () => {
  let unmount: (() => void) | undefined;
  afterEach(() => {
    unmount?.();
    unmount = undefined;
  });

  it.for([
    { when: "filled by the job's own output", filler: false },
    { when: 'already full when the session starts', filler: true },
  ])(
    'relayDir on a 2 MiB disk $when: the console or the error says the disk is full',
    async ({ when, filler }, { skip }) => {
      if (!smallDisk.ok) return skip(smallDisk.reason);
      const row = reliabilityRow('fault', `DAP launch with relayDir on a 2 MiB tmpfs ${when}`);
      const disk = path.join(path.dirname(ctx.tmp), 'disk');
      unmount = mountSmallDisk(disk, '2m');
      const relayDir = path.join(disk, 'relay');
      const server = await ctx.startRelayServer(relayDir, { args: ['--grace', '1'] });
      const full = `the disk holding relay directory ${relayDir} is full (tmpfs, 0 bytes free)`;
      const adapter = ctx.spawnStdio();
      const { client } = adapter;
      const startedAt = performance.now();
      if (filler) {
        // Someone else's file: nothing of the relay's to free. The session is refused, saying why.
        try {
          fs.writeFileSync(path.join(disk, 'filler'), Buffer.alloc(3 * 1024 * 1024));
        } catch (error) {
          expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
        }
        expect(bytesFree(disk)).toBe(0);
        const { launch } = await launchAndConfigure(
          client,
          { command: ctx.mark('echo never'), relayDir, noDebug: true },
          {},
          { allowLaunchFailure: true },
        );
        const answerMs = performance.now() - startedAt;
        expect(launch.success).toBe(false);
        expect(launch.message).toBe(
          `cannot write client.ready to shake hands with the relay server: ${full}; free space on it (df -h ${relayDir}), then try again.`,
        );
        expect(adapter.stderr()).not.toMatch(/\n\s+at |ENOSPC: no space/);
        row.figure = `launch refused in ${seconds(answerMs)} with "cannot write client.ready …: ${full.replace(relayDir, 'DIR')}; free space on it"; relay server alive: ${isAlive(server)}`;
      } else {
        await launchAndConfigure(client, {
          command: ctx.mark('yes | head -c 5M; sleep 6; exit 7'),
          relayDir,
          noDebug: true,
        });
        const notice = await client.waitForEvent(
          'output',
          (e) => e.body.output.includes('is full'),
          EVENT_TIMEOUT_MS,
        );
        const noticeMs = performance.now() - startedAt;
        expect(notice.body.category).toBe('important');
        expect(notice.body.output).toMatch(
          new RegExp(
            `^relay-dap: ${full.replace(/[()]/g, '\\$&')}: relay server \\S+ is alive but cannot write there`,
          ),
        );
        const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
        expect(exited.body.exitCode).toBe(7);
        await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
        const console = outputByCategory(client).important ?? '';
        expect(console).toMatch(/ended while the disk holding relay directory .* is full/);
        expect(outputByCategory(client).console ?? '').not.toMatch(/stopped answering|RelayClient/);
        await waitUntil(() => bytesFree(disk) > 1.5 * 1024 * 1024, 'the relay to free the disk');
        row.figure = `console said the disk was full ${seconds(noticeMs)} after launch; exited 7 (the command's code); disk free again after`;
      }
      expect(isAlive(server)).toBe(true);
      expect((await client.request('disconnect', {})).success).toBe(true);
      expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
      assertResponsesMatchRequests(client);
    },
  );
});

// ---------------------------------------------------------------------------------------
// Issue 9, item 5: an EACCES in a relay client's watcher or timer was an uncaught exception
// that took the whole adapter down: every session of a TCP adapter with it. The adapter runs
// as root without CAP_DAC_OVERRIDE, so that chmod 000 bites and its uid stays the test's.

describe('a relay directory made unreadable (chmod 000) under a debug session', () => {
  /** A relayed step that runs until `gate` exists, as a launch on `relayDir`. */
  const gatedStep = (relayDir: string, gate: string, name: string, marker = ctx.marker) => ({
    command: ctx.mark(
      `echo ${name}-started; while [ ! -e ${gate} ]; do sleep 0.05; done; echo ${name}-finished`,
      marker,
    ),
    relayDir,
    stopOnEntry: false,
  });
  /** A `fault` row whose test needs root without CAP_DAC_OVERRIDE (a mode of 0000 must bite). */
  const faultWithoutDacOverride = (
    name: string,
    scenario: string,
    body: Parameters<typeof itNeeds<typeof rootWithoutDacOverride>>[4],
  ): void => itNeeds(rootWithoutDacOverride, name, 'fault', scenario, body);
  const unusable = /relay-dap: relay (result )?directory \S+ is not writable \(EACCES\).*Still waiting/;

  faultWithoutDacOverride(
    'stdio adapter, result/ at 0000 mid-step: the adapter says so in the console, keeps the session, and the step ends with its own code once the mode is back',
    'result/ made unreadable (chmod 000) mid-step under the stdio adapter (adapter as root without CAP_DAC_OVERRIDE)',
    async (row, { prefix }) => {
      const relayDir = relayDirOf(ctx);
      await ctx.startRelayServer(relayDir, { args: ['--grace', '1'] });
      const adapter = ctx.spawnStdio([], { prefix });
      const gate = path.join(ctx.workdir, 'gate');
      await launchAndConfigure(adapter.client, gatedStep(relayDir, gate, 'step'));
      await adapter.client.waitForEvent(
        'output',
        (e) => e.body.output === 'step-started\n',
        EVENT_TIMEOUT_MS,
      );
      const result = path.join(relayDir, 'result');
      const faultAt = performance.now();
      fs.chmodSync(result, 0o000);
      const said = adapter.client.waitForEvent(
        'output',
        (e) => unusable.test(e.body.output),
        EVENT_TIMEOUT_MS,
      );
      await Promise.race([said, adapter.exited]);
      const saidMs = performance.now() - faultAt;
      expect(adapter.hasExited, `the adapter died:\n${adapter.stderr()}`).toBe(false);
      fs.writeFileSync(gate, '');
      await waitUntil(() => processesWithMarker(ctx.marker).length === 0, 'the step to end');
      expect(adapter.hasExited, `the adapter died:\n${adapter.stderr()}`).toBe(false);
      fs.chmodSync(result, 0o700);
      const exited = await adapter.client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
      expect(exited.body.exitCode).toBe(0);
      expect(outputByCategory(adapter.client).stdout).toContain('step-started\nstep-finished\n');
      await adapter.client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect((await adapter.client.request('disconnect', {})).success).toBe(true);
      expect(await waitForExit(adapter)).toEqual({ code: 0, signal: null });
      expect(adapter.stderr()).not.toMatch(/\n\s+at |Uncaught|Unhandled/);
      row.figure = `said so in the console after ${seconds(saidMs)}; the step ended with exit 0 and its whole output once the mode was back; the adapter exited 0`;
    },
  );

  faultWithoutDacOverride(
    'TCP adapter, two sessions: one session’s relay directory goes 0000; the other session runs its job to the end, and the first recovers',
    'TCP adapter with two sessions, one session’s relay directory made unreadable (chmod 000): the other session (adapter as root without CAP_DAC_OVERRIDE)',
    async (row, { prefix }) => {
      const broken = relayDirOf(ctx);
      const healthy = path.join(path.dirname(ctx.tmp), 'relay-healthy');
      await ctx.startRelayServer(broken, { args: ['--grace', '1'] });
      await ctx.startRelayServer(healthy, { args: ['--grace', '1'] });
      const adapter = await ctx.spawnTcp(['--server=0'], { prefix });
      const first = await adapter.connect();
      const firstGate = path.join(ctx.workdir, 'gate-first');
      await launchAndConfigure(first, gatedStep(broken, firstGate, 'first'));
      await first.waitForEvent('output', (e) => e.body.output === 'first-started\n', EVENT_TIMEOUT_MS);

      const faultAt = performance.now();
      fs.chmodSync(broken, 0o000);
      await Promise.race([
        first.waitForEvent('output', (e) => unusable.test(e.body.output), EVENT_TIMEOUT_MS),
        adapter.exited,
      ]);
      const saidMs = performance.now() - faultAt;
      expect(adapter.hasExited, `the adapter died:\n${adapter.stderr()}`).toBe(false);

      // The other session, on a healthy relay, from launch to its end.
      const secondMarker = ctx.newMarker();
      const second = await adapter.connect();
      const secondGate = path.join(ctx.workdir, 'gate-second');
      fs.writeFileSync(secondGate, '');
      const secondAt = performance.now();
      await launchAndConfigure(second, gatedStep(healthy, secondGate, 'second', secondMarker));
      const secondExit = await second.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
      const secondMs = performance.now() - secondAt;
      expect(secondExit.body.exitCode).toBe(0);
      expect(outputByCategory(second).stdout).toContain('second-started\nsecond-finished\n');
      await second.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect((await second.request('disconnect', {})).success).toBe(true);
      expect(adapter.hasExited, `the adapter died:\n${adapter.stderr()}`).toBe(false);

      // The first session comes back with its directory.
      fs.chmodSync(broken, 0o700);
      fs.writeFileSync(firstGate, '');
      const firstExit = await first.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
      expect(firstExit.body.exitCode).toBe(0);
      expect(outputByCategory(first).stdout).toContain('first-started\nfirst-finished\n');
      await first.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
      expect((await first.request('disconnect', {})).success).toBe(true);
      expect(adapter.hasExited).toBe(false);
      expect(adapter.stderr()).not.toMatch(/\n\s+at |Uncaught|Unhandled/);
      row.figure = `the broken session said so after ${seconds(saidMs)}; the other session ran its job to exit 0 in ${seconds(secondMs)}; the broken one ended with exit 0 once the mode was back; the adapter never died`;
    },
  );
});
