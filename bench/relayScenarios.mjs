// The relay's figures (issue 2): round trip in events and polling mode, cancel latency,
// streaming throughput, and draining a queue of 1,000 commands; and a channel's one-byte
// echo against a local pipe (issue 13).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { RelayClient } from '../dist/relay/client.js';
import { newCommandId } from '../dist/relay/ids.js';
import { ms, percentile, ratio, spawnBash, startServer, tempRelayDir, timed } from './measure.mjs';

const ROUND_TRIPS = 200;
const CANCELS = 30;
const STREAM_BYTES = 200 * 2 ** 20;
const QUEUED = 1000;

async function withRelay(serverArgs, clientOptions, use) {
  const { dir, relayDir } = tempRelayDir('relay-bench-');
  const server = await startServer(relayDir, serverArgs);
  const client = await RelayClient.open({ relayDir, ...clientOptions });
  try {
    return await use(client, relayDir);
  } finally {
    await client.close();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function relayedRoundTrips(client, count) {
  const times = [];
  for (let i = 0; i < count + 10; i++) {
    const { ms: took, value } = await timed(async () => {
      const command = client.submit('true');
      command.output.resume();
      return command.exit;
    });
    if (value.exitCode !== 0) throw new Error(`relayed true exited ${value.exitCode}`);
    if (i >= 10) times.push(took); // the first few warm up the JIT and the page cache
  }
  return times;
}

async function directRoundTrips(count) {
  const times = [];
  for (let i = 0; i < count + 10; i++) {
    const { ms: took } = await timed(() => spawnBash('true'));
    if (i >= 10) times.push(took);
  }
  return times;
}

function roundTripRows(label, relayed, direct, p50Target) {
  const [r50, r95, d50, d95] = [
    percentile(relayed, 50),
    percentile(relayed, 95),
    percentile(direct, 50),
    percentile(direct, 95),
  ];
  return [
    {
      name: `${label}: relayed \`true\`, submit → exit code, p50`,
      value: ms(r50),
      baseline: `${ms(d50)} (bash -c true spawned directly)`,
      ratio: ratio(r50, d50),
      target: p50Target === undefined ? '≤ 5× direct' : `≤ ${p50Target} ms and ≤ 5× direct`,
      met: (p50Target === undefined || r50 <= p50Target) && r50 <= 5 * d50,
    },
    {
      name: `${label}: relayed \`true\`, p95`,
      value: ms(r95),
      baseline: ms(d95),
      ratio: ratio(r95, d95),
      target: '—',
      met: true,
    },
  ];
}

const roundTrip = {
  id: 'relay-round-trip',
  async run() {
    const direct = await directRoundTrips(ROUND_TRIPS);
    const events = await withRelay([], {}, (client) => relayedRoundTrips(client, ROUND_TRIPS));
    const polling = await withRelay(['--poll', '50'], { pollMs: 50 }, (client) =>
      relayedRoundTrips(client, 60),
    );
    return [
      ...roundTripRows('events', events, direct, 15),
      ...roundTripRows('polling at 50 ms', polling, direct, undefined).map((row, i) =>
        i === 0 ? { ...row, target: 'for the record (bounded by the 50 ms poll)', met: true } : row,
      ),
    ];
  },
};

const cancel = {
  id: 'relay-cancel',
  async run() {
    const relayed = await withRelay([], {}, async (client) => {
      const times = [];
      for (let i = 0; i < CANCELS; i++) {
        const command = client.submit('echo started; exec sleep 300');
        await new Promise((resolve) => command.output.once('data', resolve));
        command.output.resume();
        const { ms: took, value } = await timed(() => {
          command.cancel();
          return command.exit;
        });
        if (value.exitCode !== 130) throw new Error(`cancelled command exited ${value.exitCode}`);
        times.push(took);
      }
      return times;
    });
    const direct = [];
    for (let i = 0; i < CANCELS; i++) {
      const child = spawn('sleep', ['300'], { stdio: 'ignore' });
      await new Promise((resolve) => child.once('spawn', resolve));
      const { ms: took } = await timed(
        () =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      );
      direct.push(took);
    }
    const [r50, r95, d50] = [percentile(relayed, 50), percentile(relayed, 95), percentile(direct, 50)];
    return [
      {
        name: 'cancel of a running `sleep` → exit code known, p50',
        value: ms(r50),
        baseline: `${ms(d50)} (SIGTERM to a local child)`,
        ratio: ratio(r50, d50),
        target: '≤ 50 ms',
        met: r50 <= 50,
      },
      { name: 'cancel, p95', value: ms(r95), baseline: '—', ratio: '—', target: '—', met: true },
    ];
  },
};

/** Reads a stream to the end: byte count, sha256 and the time to the last byte. */
function consume(stream) {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    stream.on('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    stream.on('error', reject);
  });
}

const STREAM_COMMAND = `yes 'relay-dap streams this line, byte for byte, 0123456789' | head -c ${STREAM_BYTES}`;

const streaming = {
  id: 'relay-streaming',
  async run() {
    const direct = await timed(async () => {
      const child = spawn('bash', ['-c', STREAM_COMMAND], { stdio: ['ignore', 'pipe', 'ignore'] });
      return consume(child.stdout);
    });
    const relayed = await withRelay([], {}, async (client) =>
      timed(async () => {
        const command = client.submit(STREAM_COMMAND);
        const [received, outcome] = await Promise.all([consume(command.output), command.exit]);
        if (outcome.exitCode !== 0) throw new Error(`streaming command exited ${outcome.exitCode}`);
        return received;
      }),
    );
    const mb = STREAM_BYTES / 2 ** 20;
    const [relayedRate, directRate] = [mb / (relayed.ms / 1000), mb / (direct.ms / 1000)];
    const intact = relayed.value.bytes === STREAM_BYTES && relayed.value.sha256 === direct.value.sha256;
    return [
      {
        name: `client streaming ${mb} MB of output`,
        value: `${relayedRate.toFixed(0)} MB/s${intact ? ', all bytes, same sha256' : ', BYTES LOST'}`,
        baseline: `${directRate.toFixed(0)} MB/s (the same command through a pipe)`,
        ratio: `${(relayedRate / directRate).toFixed(2)}× the pipe's rate`,
        target: '≥ 200 MB/s, no byte lost',
        met: relayedRate >= 200 && intact,
      },
    ];
  },
};

const drain = {
  id: 'relay-drain',
  async run() {
    const { dir, relayDir } = tempRelayDir('relay-bench-');
    const order = path.join(dir, 'order');
    fs.mkdirSync(path.join(relayDir, 'cmd'), { recursive: true, mode: 0o700 });
    const ids = [];
    for (let i = 0; i < QUEUED; i++) {
      const id = newCommandId();
      ids.push(id);
      fs.writeFileSync(path.join(relayDir, 'cmd', `${id}.sh`), `echo ${id} >> ${order}`);
    }
    const { ms: took, value: server } = await timed(async () => {
      const server = await startServer(relayDir);
      const resultDir = path.join(relayDir, 'result');
      for (;;) {
        const exits = fs.readdirSync(resultDir).filter((name) => name.endsWith('.exit')).length;
        if (exits >= QUEUED) return server;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
    await server.stop();
    const ran = fs.readFileSync(order, 'utf8').trim().split('\n');
    const exact = ran.length === QUEUED && ran.every((id, i) => id === ids[i]);
    fs.rmSync(dir, { recursive: true, force: true });
    const direct = await timed(async () => {
      for (let i = 0; i < QUEUED; i++) await spawnBash(`echo ${i} > /dev/null`);
    });
    return [
      {
        name: `drain ${QUEUED} queued commands (server start → last .exit)`,
        value: `${(took / 1000).toFixed(2)} s${exact ? ', each once, in id order' : ', ORDER OR COUNT WRONG'}`,
        baseline: `${(direct.ms / 1000).toFixed(2)} s (${QUEUED} direct spawns)`,
        ratio: ratio(took, direct.ms),
        target: '≤ 10 s, each once, in id order',
        met: took <= 10_000 && exact,
      },
    ];
  },
};

const ECHOES = 200;

/** p50/p95 of `count` one-byte echoes: write a byte to `stream`, wait for it back on `output`. */
async function echoTimes(write, output, count) {
  const times = [];
  for (let i = 0; i < count + 10; i++) {
    const back = new Promise((resolve) => output.once('data', resolve));
    const { ms: took } = await timed(async () => {
      write(Buffer.from([i & 0xff]));
      await back;
    });
    if (i >= 10) times.push(took); // warm-up
  }
  return times;
}

async function channelEchoes(client, count) {
  const channel = await client.openChannel({ text: 'cat' });
  const times = await echoTimes((byte) => channel.write(byte), channel, count);
  channel.end();
  await channel.exit;
  return times;
}

/** The same echo through a local pipe to a local `cat`: what a byte costs with no relay in between. */
async function pipeEchoes(count) {
  const cat = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'] });
  const times = await echoTimes((byte) => cat.stdin.write(byte), cat.stdout, count);
  cat.stdin.end();
  await new Promise((resolve) => cat.on('close', resolve));
  return times;
}

const channelEcho = {
  id: 'relay-channel-echo',
  async run() {
    const events = await withRelay([], {}, (client) => channelEchoes(client, ECHOES));
    const polling = await withRelay(['--poll', '50'], { pollMs: 50 }, (client) =>
      channelEchoes(client, ECHOES),
    );
    const pipe = await pipeEchoes(ECHOES);
    const p50 = percentile(pipe, 50);
    const row = (label, times, limit, target) => ({
      name: `channel (${label}): one byte echoed back by cat, p50 (p95 ${ms(percentile(times, 95))})`,
      value: ms(percentile(times, 50)),
      baseline: `${p50.toFixed(3)} ms (a local pipe to cat)`,
      ratio: ratio(percentile(times, 50), p50),
      target,
      met: percentile(times, 50) < limit,
    });
    return [
      row('filesystem events', events, 10, '< 10 ms'),
      row('polling at 50 ms', polling, 100, '< 100 ms (two poll intervals)'),
    ];
  },
};

export const relayScenarios = [roundTrip, cancel, streaming, drain, channelEcho];
