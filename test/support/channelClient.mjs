// A channel client as a process of its own, for tests that measure its memory or kill it:
// it opens a channel with the built relay client (dist/relay/client.js) and prints one JSON
// line per event on stdout. While it runs it samples the bytes under RELAY_DIR/channel and
// its own peak RSS, and reports the largest seen.
//
// usage: node channelClient.mjs RELAY_DIR MODE MB [POLL_MS]
//   echo         the process is `cat`: MB of random bytes go in and come back; reports
//                the sha256 of what was sent and of what came back
//   stall-read   the process writes MB of zeros; this reads nothing for STALL_MS (env, default
//                3000), then reads it all; reports the byte count
//   stall-write  the process reads nothing for STALL_MS, then counts what it got (wc -c);
//                this writes MB without waiting
//   hold         the process is TEXT (env) and this keeps writing to it until killed
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const { RelayClient } = await import(path.join(root, 'dist', 'relay', 'client.js'));
const [relayDir, mode, mbText, pollText] = process.argv.slice(2);
const bytes = Number(mbText) * 1024 * 1024;
const stallMs = Number(process.env.STALL_MS ?? 3000);
const say = (event) => process.stdout.write(JSON.stringify(event) + '\n');

function treeBytes(dir) {
  let total = 0;
  let names;
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const stat = fs.lstatSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) total += treeBytes(file);
    else if (stat?.isFile()) total += stat.size;
  }
  return total;
}
const peakRssKb = () => Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
let maxDirBytes = 0;
const sampler = setInterval(() => {
  maxDirBytes = Math.max(maxDirBytes, treeBytes(path.join(relayDir, 'channel')));
}, 10);

const client = await RelayClient.open({ relayDir, ...(pollText ? { pollMs: Number(pollText) } : {}) });
const text = {
  echo: 'cat',
  'stall-read': `head -c ${bytes} /dev/zero`,
  'stall-write': `sleep ${stallMs / 1000}; wc -c`,
  hold: process.env.TEXT,
}[mode];
let channel;
try {
  channel = await client.openChannel({ text });
} catch (error) {
  say({ event: 'error', message: error.message, code: error.code });
  process.exit(1);
}
channel.on('error', (error) => {
  say({ event: 'error', message: error.message, code: error.code });
  process.exit(3);
});
say({ event: 'open', id: channel.id });

/** Random bytes, made once: eight different MiB in turn, so that a reordered or repeated chunk changes the sha256. */
const blocks = Array.from({ length: 8 }, () => crypto.randomBytes(1024 * 1024));
const block = (index) => blocks[index % blocks.length];

async function writeAll(total, make) {
  for (let index = 0, sent = 0; sent < total; index++) {
    const piece = make(index).subarray(0, Math.min(1024 * 1024, total - sent));
    sent += piece.length;
    if (!channel.write(piece)) await new Promise((resolve) => channel.once('drain', resolve));
  }
}

const received = crypto.createHash('sha256');
let receivedBytes = 0;
let receivedText = '';
const collect = () =>
  channel.on('data', (data) => {
    received.update(data);
    receivedBytes += data.length;
    if (receivedText.length < 1000) receivedText += data.toString('latin1');
  });

if (mode === 'echo') {
  const sent = crypto.createHash('sha256');
  collect();
  await writeAll(bytes, (index) => {
    const data = block(index);
    sent.update(data.subarray(0, Math.min(data.length, bytes - index * data.length)));
    return data;
  });
  channel.end();
  const exit = await channel.exit;
  say({ event: 'done', exit, sent: sent.digest('hex'), received: received.digest('hex'), receivedBytes });
} else if (mode === 'stall-read') {
  channel.pause();
  await new Promise((resolve) => setTimeout(resolve, stallMs));
  say({ event: 'stalled', maxDirBytes, peakRssKb: peakRssKb() });
  collect();
  channel.resume();
  const exit = await channel.exit;
  say({ event: 'done', exit, receivedBytes });
} else if (mode === 'stall-write') {
  collect();
  const zeros = Buffer.alloc(1024 * 1024);
  let blocked = false;
  const writing = writeAll(bytes, () => zeros);
  const watch = setInterval(() => (blocked ||= channel.writableNeedDrain), 5);
  await writing;
  clearInterval(watch);
  channel.end();
  const exit = await channel.exit;
  say({ event: 'done', exit, blocked, output: receivedText.trim() });
} else if (mode === 'hold') {
  channel.resume();
  const data = Buffer.alloc(64 * 1024, 'x');
  for (;;) {
    if (!channel.write(data)) await new Promise((resolve) => channel.once('drain', resolve));
  }
}
clearInterval(sampler);
say({ event: 'measured', maxDirBytes, peakRssKb: peakRssKb() });
await client.close();
