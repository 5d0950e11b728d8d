// Load (reliability suite): a thousand commands from ten client processes at once, twenty
// debug sessions at once on one TCP adapter, and a step that prints a gigabyte through the
// stdio adapter and through a `relay-dap serve` + `relay-dap run` pair. Real processes only;
// each test records what it measured as a row of docs/reliability.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  assertResponsesMatchRequests,
  DEFAULT_CLIENT_CAPS,
  EVENT_TIMEOUT_MS,
  lastRequestSeq,
  launchAndConfigure,
  useAdapterContext,
} from '../support/adapterHarness.js';
import { DapFrameParser, encodeDapFrame } from '../support/dapClient.js';
import {
  reapMarked,
  partAId,
  processesWithMarker,
  queueCommandFile,
  readIf,
  relayDapBin,
  repoRoot,
  startServer,
  tempDir,
  tempRelayDirUntil,
  uniqueMarker,
  waitUntil,
  within,
  type ServerProcess,
} from '../support/relayHarness.js';
import { reliabilityRow } from './report.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** A field of /proc/PID/status in KiB (VmHWM: peak resident memory so far; VmRSS: now). */
function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(
    fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
  );
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

const mib = (kib: number): string => `${(kib / 1024).toFixed(0)} MiB`;

/** sha256 and byte count of a stream, read to its end without keeping it. */
function digest(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.once('end', () => resolve({ sha256: hash.digest('hex'), bytes }));
    stream.once('error', reject);
  });
}

/** What `bash -c TEXT` prints when run directly: the reference a relayed run must equal. */
async function directDigest(text: string): Promise<{ sha256: string; bytes: number }> {
  const child = spawn('bash', ['-c', text], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [result] = await Promise.all([
    digest(child.stdout),
    new Promise((resolve) => child.once('close', resolve)),
  ]);
  return result;
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Things to undo after each test, last first; processes marked with `markers` must be gone. */
interface Cleanup {
  markers: string[];
  children: ChildProcess[];
  servers: ServerProcess[];
  undo: Array<() => void>;
}
let cleanup: Cleanup;

beforeEach(() => {
  cleanup = { markers: [], children: [], servers: [], undo: [] };
});

afterEach(async () => {
  for (const child of cleanup.children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const server of cleanup.servers) await server.stop(15_000);
  const survivors: string[] = [];
  for (const marker of cleanup.markers) {
    for (const survivor of await reapMarked(marker, 15_000)) survivors.push(`${marker}: ${survivor}`);
  }
  for (const undo of cleanup.undo.reverse()) undo();
  expect(survivors, 'marked processes that outlived the test').toEqual([]);
});

const relayDirs = () => tempRelayDirUntil(cleanup.undo);

function markerEnv(): { marker: string; env: NodeJS.ProcessEnv } {
  const marker = uniqueMarker();
  cleanup.markers.push(marker);
  const env: NodeJS.ProcessEnv = { ...process.env, [marker]: '1' };
  delete env.RELAY_DIR;
  return { marker, env };
}

// ---------------------------------------------------------------------------------------------

describe('load: the relay', () => {
  const CLIENTS = 10;
  const PER_CLIENT = 100;
  const TOTAL = CLIENTS * PER_CLIENT;

  interface ClientReport {
    client: number;
    pid: number;
    ms: number;
    results: Array<{ j: number; id: string; exitCode: number; output: string }>;
    failures: Array<{ j: number; id: string; error: string }>;
  }

  it('10 client processes submit 1,000 commands at once: each runs exactly once, in id order, with its own output and exit code', async () => {
    const row = reliabilityRow(
      'load',
      '10 client processes (RelayClient) submit 100 commands each at once to one `relay-dap serve`',
    );
    const { relayDir, workdir } = relayDirs();
    const { marker, env } = markerEnv();
    const server = await startServer(relayDir, ['--workdir', workdir], { env });
    cleanup.servers.push(server);

    // A gate holds the server until all 1,000 are queued: commands submitted while the queue is
    // empty would run in arrival order, which only equals id order when every client's clock
    // and scheduling agree. Held, the queue must drain strictly in id order.
    const go = path.join(workdir, 'go');
    const gateId = partAId();
    queueCommandFile(relayDir, gateId, `export ${marker}=1; while [ ! -e go ]; do sleep 0.02; done`);
    await waitUntil(
      () => readIf(path.join(relayDir, 'running'))?.startsWith(`${gateId}:`) === true,
      'the gate',
    );

    const shared = path.join(workdir, 'ids.txt');
    const script = path.join(repoRoot, 'test', 'reliability', 'loadClient.mjs');
    const submitStart = performance.now();
    const clients = Array.from({ length: CLIENTS }, (_, k) => {
      const child = spawn(
        process.execPath,
        [script, relayDir, String(k), String(PER_CLIENT), shared, marker],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      cleanup.children.push(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      return {
        child,
        done: exitOf(child).then((exit) => ({ exit, stdout: () => stdout, stderr: () => stderr })),
      };
    });
    const queued = (): number =>
      fs.readdirSync(path.join(relayDir, 'cmd')).filter((name) => name.endsWith('.sh')).length;
    await waitUntil(() => queued() >= TOTAL, `all ${TOTAL} commands to be queued`, 120_000);
    const submitMs = performance.now() - submitStart;
    expect(queued()).toBe(TOTAL);
    expect(fs.existsSync(shared), 'nothing ran before the gate opened').toBe(false);

    const drainStart = performance.now();
    fs.writeFileSync(go, '');
    const finished = await within(
      Promise.all(clients.map((c) => c.done)),
      180_000,
      'all 10 clients to finish',
    );
    const drainMs = performance.now() - drainStart;
    const timing =
      `1,000 commands queued in ${(submitMs / 1000).toFixed(1)} s, drained in ${(drainMs / 1000).toFixed(1)} s ` +
      `(${(drainMs / TOTAL).toFixed(1)} ms each)`;
    row.figure = timing;

    const reports: ClientReport[] = finished.map((f, k) => {
      expect(f.exit, `client ${k} exit; stderr: ${f.stderr()}`).toEqual({ code: 0, signal: null });
      return JSON.parse(f.stdout()) as ClientReport;
    });

    // Every client got exactly its own output and exit code for each of its commands.
    const wrong: string[] = [];
    const allIds: string[] = [];
    for (const report of reports) {
      expect(report.failures, `client ${report.client} commands that failed`).toEqual([]);
      expect(report.results).toHaveLength(PER_CLIENT);
      for (const { j, id, exitCode, output } of report.results) {
        allIds.push(id);
        const n = report.client * PER_CLIENT + j;
        const expected = `client ${report.client} command ${j} id ${id}\n`;
        if (!id.endsWith(`_${report.pid}`))
          wrong.push(`client ${report.client} #${j}: id ${id} is not its own`);
        if (output !== expected)
          wrong.push(`client ${report.client} #${j}: output ${JSON.stringify(output)}`);
        if (exitCode !== n % 256)
          wrong.push(`client ${report.client} #${j}: exit ${exitCode}, not ${n % 256}`);
      }
    }
    row.figure = `${timing}; commands whose client saw the wrong output or exit code: ${wrong.length} (${wrong.slice(0, 3).join('; ')})`;
    expect(wrong, 'commands whose client saw the wrong output or exit code').toEqual([]);

    // Each ran exactly once, and in id order.
    const ran = fs.readFileSync(shared, 'utf8').trimEnd().split('\n');
    expect(ran).toHaveLength(TOTAL);
    expect(new Set(ran).size, 'ids that ran more than once').toBe(TOTAL);
    expect([...ran].sort()).toEqual([...allIds].sort());
    const outOfOrder = ran.findIndex((id, i) => i > 0 && id < ran[i - 1]!);
    expect(outOfOrder, `first command that ran before a smaller id (${ran[outOfOrder] ?? ''})`).toBe(-1);

    // The clients took their results; only the gate's (which no client waits for) remain.
    await waitUntil(() => !fs.existsSync(path.join(relayDir, 'running')), 'running to be removed');
    expect(fs.readdirSync(path.join(relayDir, 'result')).filter((n) => !n.startsWith(gateId))).toEqual([]);
    expect(server.child.exitCode).toBeNull();

    row.figure = `${timing}: each ran once, in id order; 1,000 of 1,000 outputs and exit codes right`;
  }, 300_000);
});

// ---------------------------------------------------------------------------------------------

describe('load: the debug adapter', () => {
  const ctx = useAdapterContext();

  const SESSIONS = 20;

  it('20 concurrent sessions on one TCP adapter, each with a !CMD, a cancelled !CMD and a terminate: all end right, none sees another’s output', async () => {
    const row = reliabilityRow(
      'load',
      '20 DAP sessions at once on one `relay-dap --server=0`: each a job, `!echo`, a cancelled `!CMD`, a running step, terminate',
    );
    const adapter = await ctx.spawnTcp();
    const sessions = Array.from({ length: SESSIONS }, (_, index) => ({
      index,
      marker: ctx.newMarker(),
      token: `tok${index}x${randomBytes(5).toString('hex')}`,
    }));
    const begin = performance.now();
    const runs = await Promise.all(
      sessions.map(async ({ index, marker, token }) => {
        const client = await adapter.connect();
        await launchAndConfigure(client, {
          command: ctx.mark(`echo step-${token}; sleep 300`, marker),
          stopOnEntry: true,
          env: { SESSION_TOKEN: token },
        });
        await client.waitForEvent('stopped', (e) => e.body.reason === 'entry', EVENT_TIMEOUT_MS);

        const echo = await client.request(
          'evaluate',
          { expression: `!echo console-$SESSION_TOKEN`, context: 'repl' },
          EVENT_TIMEOUT_MS,
        );
        expect(echo.success, `session ${index}: ${echo.message}`).toBe(true);
        expect(echo.body.result).toBe('exit 0');

        // A console command that would run for five minutes, cancelled by the DAP `cancel` request.
        const long = client.request(
          'evaluate',
          { expression: `!${ctx.mark(`echo long-${token}; sleep 300`, marker)}`, context: 'repl' },
          EVENT_TIMEOUT_MS * 2,
        );
        const longSeq = lastRequestSeq(client);
        await client.waitForEvent('output', (e) => e.body.output.includes(`long-${token}`), EVENT_TIMEOUT_MS);
        const cancel = await client.request('cancel', { requestId: longSeq });
        expect(cancel.success).toBe(true);
        const cancelled = await long;
        expect(cancelled.success, `session ${index}: the cancelled !CMD`).toBe(false);
        await waitUntil(
          () => processesWithMarker(marker).length === 0,
          `session ${index}: the cancelled !CMD to end`,
          EVENT_TIMEOUT_MS,
        );

        expect((await client.request('continue', { threadId: 1 })).success).toBe(true);
        await client.waitForEvent('output', (e) => e.body.output.includes(`step-${token}`), EVENT_TIMEOUT_MS);
        await waitUntil(
          () => processesWithMarker(marker).length > 0,
          `session ${index}: the step`,
          EVENT_TIMEOUT_MS,
        );

        const terminateAt = performance.now();
        expect((await client.request('terminate', {})).success).toBe(true);
        const exited = await client.waitForEvent('exited', undefined, EVENT_TIMEOUT_MS);
        const terminateMs = performance.now() - terminateAt;
        expect(exited.body.exitCode, `session ${index}`).toBe(130);
        await client.waitForEvent('terminated', undefined, EVENT_TIMEOUT_MS);
        await client.request('disconnect', {});
        await within(client.closed, EVENT_TIMEOUT_MS, `session ${index} to close`);
        return { client, terminateMs };
      }),
    );
    const totalMs = performance.now() - begin;

    const crossTalk: string[] = [];
    runs.forEach(({ client }, index) => {
      const text = client.output();
      const own = sessions[index]!.token;
      for (const what of [`console-${own}`, `long-${own}`, `step-${own}`]) {
        if (!text.includes(what)) crossTalk.push(`session ${index} never saw its own ${what}`);
      }
      for (const other of sessions) {
        if (other.index !== index && text.includes(other.token))
          crossTalk.push(`session ${index} saw session ${other.index}'s output`);
      }
      assertResponsesMatchRequests(client);
      client.assertClean();
    });
    expect(crossTalk).toEqual([]);
    for (const { marker } of sessions) expect(processesWithMarker(marker), marker).toEqual([]);
    await waitUntil(() => ctx.embeddedRelayDirs().length === 0, 'every embedded relay directory to go');
    expect(adapter.hasExited).toBe(false);

    const times = runs.map((r) => r.terminateMs);
    row.figure =
      `20 of 20 sessions ended exited 130 + terminated, ${(totalMs / 1000).toFixed(1)} s in all; terminate → exited ` +
      `p50 ${percentile(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms; no output crossed sessions; no process left`;
  }, 240_000);
});

// ---------------------------------------------------------------------------------------------

/**
 * A DAP client that keeps nothing: output events are hashed and dropped, so that a gigabyte of
 * output does not fill the test's own memory (DapClient keeps a transcript). Framing is still
 * checked: anything on the adapter's stdout that is not a DAP frame is recorded as a problem.
 */
class LeanDapClient {
  readonly problems: string[] = [];
  readonly stdout = createHash('sha256');
  stdoutBytes = 0;
  private readonly parser = new DapFrameParser();
  private seq = 1;
  private readonly pending = new Map<number, (response: DebugProtocol.Response) => void>();
  private readonly waiters = new Set<{ match: (m: DebugProtocol.Event) => boolean; resolve: () => void }>();
  private readonly seen: DebugProtocol.Event[] = [];

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    input.on('data', (chunk: Buffer) => {
      for (const item of this.parser.push(chunk)) {
        if (item.kind === 'violation') this.problems.push(`${item.reason} at byte ${item.offset}`);
        else this.receive(item.message as DebugProtocol.ProtocolMessage);
      }
    });
  }

  private receive(message: DebugProtocol.ProtocolMessage): void {
    if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      this.pending.get(response.request_seq)?.(response);
      this.pending.delete(response.request_seq);
      return;
    }
    if (message.type !== 'event') return;
    const event = message as DebugProtocol.Event;
    if (event.event === 'output') {
      const body = (event as DebugProtocol.OutputEvent).body;
      if (body.category === 'stdout') {
        const bytes = Buffer.from(body.output, 'utf8');
        this.stdoutBytes += bytes.length;
        this.stdout.update(bytes);
        return;
      }
    }
    this.seen.push(event);
    for (const waiter of this.waiters) {
      if (waiter.match(event)) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  request(command: string, args?: unknown): Promise<DebugProtocol.Response> {
    const seq = this.seq++;
    this.output.write(encodeDapFrame({ seq, type: 'request', command, arguments: args }));
    return new Promise((resolve) => this.pending.set(seq, resolve));
  }

  event(name: string): Promise<void> {
    const match = (e: DebugProtocol.Event): boolean => e.event === name;
    if (this.seen.some(match)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add({ match, resolve }));
  }

  exitCode(): number | undefined {
    return (this.seen.find((e) => e.event === 'exited') as DebugProtocol.ExitedEvent | undefined)?.body
      .exitCode;
  }
}

describe('load: a step that prints 1 GiB', () => {
  const TEXT = `yes 'relay-dap reliability: one gibibyte, line after line, 0123456789' | head -c ${GiB}`;
  let expected: Promise<{ sha256: string; bytes: number }> | undefined;
  const reference = (): Promise<{ sha256: string; bytes: number }> => (expected ??= directDigest(TEXT));

  it('through the stdio adapter (embedded relay): adapter memory stays flat, the output arrives whole', async () => {
    const row = reliabilityRow(
      'load',
      'a step printing 1 GiB (`yes | head -c 1G`) through the stdio adapter and its embedded relay',
    );
    const direct = await reference();
    expect(direct.bytes).toBe(GiB);
    const { marker, env } = markerEnv();
    const tmp = tempDir('relay-reliability-tmp-');
    cleanup.undo.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const adapter = spawn(process.execPath, [relayDapBin], {
      cwd: tmp,
      env: { ...env, TMPDIR: tmp },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    cleanup.children.push(adapter);
    let stderr = '';
    adapter.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const dap = new LeanDapClient(adapter.stdout, adapter.stdin);
    const pid = adapter.pid!;

    const init = await within(dap.request('initialize', DEFAULT_CLIENT_CAPS), EVENT_TIMEOUT_MS, 'initialize');
    expect(init.success).toBe(true);
    const launching = dap.request('launch', { command: `export ${marker}=1; ${TEXT}`, stopOnEntry: true });
    expect((await dap.request('configurationDone')).success).toBe(true);
    expect((await within(launching, 60_000, 'launch')).success).toBe(true);
    await within(dap.event('stopped'), EVENT_TIMEOUT_MS, 'the entry stop');
    // Idle: the adapter with a launched job and its embedded relay server, before any output.
    const idle = statusKiB(pid, 'VmHWM');

    const begin = performance.now();
    expect((await dap.request('continue', { threadId: 1 })).success).toBe(true);
    await within(dap.event('terminated'), 200_000, 'the 1 GiB step to end');
    const seconds = (performance.now() - begin) / 1000;
    const peak = statusKiB(pid, 'VmHWM');
    expect(dap.exitCode()).toBe(0);
    expect((await dap.request('disconnect', {})).success).toBe(true);
    adapter.stdin.end();
    expect(await within(exitOf(adapter), EVENT_TIMEOUT_MS, 'the adapter to exit')).toEqual({
      code: 0,
      signal: null,
    });

    expect(dap.problems, 'bytes on the adapter’s stdout that are not DAP').toEqual([]);
    expect(dap.stdoutBytes).toBe(GiB);
    const sha256 = dap.stdout.digest('hex');
    expect(sha256, 'sha256 of the output events against the command run directly').toBe(direct.sha256);
    expect(stderr).not.toMatch(/\n\s+at |internal error/);
    // Flat: growth far below the gigabyte that passed through (it would be ≥ 1,024 MiB if kept).
    expect(peak - idle, `adapter idle ${mib(idle)}, peak ${mib(peak)}`).toBeLessThan(256 * 1024);
    expect(fs.readdirSync(tmp).filter((name) => name.startsWith('relay-dap-'))).toEqual([]);

    row.figure =
      `adapter peak RSS ${mib(peak)} (idle ${mib(idle)}, +${mib(peak - idle)}); ` +
      `1 GiB in ${seconds.toFixed(1)} s (${(GiB / MiB / seconds).toFixed(0)} MiB/s); sha256 equal to the command run directly`;
  }, 300_000);

  it('through relay-dap serve and relay-dap run: server and client memory stay flat, the output arrives whole', async () => {
    const row = reliabilityRow(
      'load',
      'a command printing 1 GiB (`yes | head -c 1G`) through `relay-dap serve` and `relay-dap run`',
    );
    const direct = await reference();
    const { relayDir, workdir, root } = relayDirs();
    const { marker, env } = markerEnv();
    const server = await startServer(relayDir, ['--workdir', workdir], { env });
    cleanup.servers.push(server);

    // `relay-dap run` exits when it is done, so its peak is read from inside: a preloaded hook
    // records the process's own peak resident memory (getrusage's maxrss) as it exits.
    const preload = path.join(root, 'peak.cjs');
    fs.writeFileSync(
      preload,
      "process.on('exit', () => require('fs').writeFileSync(process.env.RELIABILITY_PEAK_FILE, String(process.resourceUsage().maxRSS)));\n",
    );
    const runClient = async (
      text: string,
      label: string,
    ): Promise<{
      code: number | null;
      peakKiB: number;
      out: { sha256: string; bytes: number };
      stderr: string;
    }> => {
      const peakFile = path.join(root, `peak-${label}`);
      const child = spawn(
        process.execPath,
        ['--require', preload, relayDapBin, 'run', '--relay-dir', relayDir, '--', text],
        { env: { ...env, RELIABILITY_PEAK_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      cleanup.children.push(child);
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const [out, exit] = await within(
        Promise.all([digest(child.stdout), exitOf(child)]),
        240_000,
        `relay-dap run (${label})`,
      );
      return { code: exit.code, peakKiB: Number(fs.readFileSync(peakFile, 'utf8')), out, stderr };
    };

    // Idle figures: the server after serving one small command, a `run` of `true`.
    const small = await runClient(`export ${marker}=1; true`, 'idle');
    expect(small.code).toBe(0);
    const serverIdle = statusKiB(server.child.pid!, 'VmHWM');

    const begin = performance.now();
    const big = await runClient(`export ${marker}=1; ${TEXT}`, 'big');
    const seconds = (performance.now() - begin) / 1000;
    const serverPeak = statusKiB(server.child.pid!, 'VmHWM');
    expect(big.code, big.stderr).toBe(0);
    expect(big.out.bytes).toBe(GiB);
    expect(big.out.sha256, 'sha256 of what `run` printed against the command run directly').toBe(
      direct.sha256,
    );
    expect(big.stderr).toBe('');
    expect(fs.readdirSync(path.join(relayDir, 'result')), 'the client took its result files').toEqual([]);
    expect(server.child.exitCode).toBeNull();

    const growth = { server: serverPeak - serverIdle, client: big.peakKiB - small.peakKiB };
    expect(growth.server, `server idle ${mib(serverIdle)}, peak ${mib(serverPeak)}`).toBeLessThan(128 * 1024);
    expect(growth.client, `client idle ${mib(small.peakKiB)}, peak ${mib(big.peakKiB)}`).toBeLessThan(
      256 * 1024,
    );

    row.figure =
      `server peak RSS ${mib(serverPeak)} (idle ${mib(serverIdle)}), run client ${mib(big.peakKiB)} ` +
      `(\`run true\`: ${mib(small.peakKiB)}); 1 GiB in ${seconds.toFixed(1)} s (${(GiB / MiB / seconds).toFixed(0)} MiB/s); ` +
      `sha256 equal to the command run directly`;
  }, 300_000);
});
