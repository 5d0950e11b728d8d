#!/usr/bin/env node
// Draws images/icon.png (the VS Code extension's icon, 128×128): two panes, the editor's
// side and the far side, joined by a relay arrow. Plain PNG written with zlib, no libraries.
// Run it again after changing the drawing: node scripts/draw-icon.mjs
import fs from 'node:fs';
import zlib from 'node:zlib';

const SIZE = 128;
const pixels = Buffer.alloc(SIZE * SIZE * 4);

function fill(test, [r, g, b, a = 255]) {
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) if (test(x + 0.5, y + 0.5)) pixels.set([r, g, b, a], (y * SIZE + x) * 4);
}

const roundedSquare = (x, y) => {
  const r = 22;
  const cx = Math.min(Math.max(x, r), SIZE - r);
  const cy = Math.min(Math.max(y, r), SIZE - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
fill(roundedSquare, [24, 52, 92]); // background: deep blue
const pane = (left) => (x, y) => x >= left && x <= left + 34 && y >= 30 && y <= 98;
fill(pane(14), [236, 240, 245]); // the editor's side
fill(pane(80), [236, 240, 245]); // the far side
// Lines of a job in each pane.
for (const row of [40, 52, 64, 76, 88]) {
  fill((x, y) => x >= 20 && x <= 42 && y >= row && y <= row + 4, [120, 136, 160]);
  fill((x, y) => x >= 86 && x <= 108 && y >= row && y <= row + 4, [120, 136, 160]);
}
// The relay: an arrow from left to right, amber.
const amber = [255, 183, 3];
fill((x, y) => x >= 50 && x <= 70 && Math.abs(y - 64) <= 4, amber);
fill((x, y) => x >= 68 && x <= 79 && Math.abs(y - 64) <= (79 - x) * 0.9, amber);

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(buffer) {
  let crc = ~0;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0);
header.writeUInt32BE(SIZE, 4);
header.set([8, 6, 0, 0, 0], 8); // 8 bits per channel, RGBA
const rows = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) pixels.copy(rows, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
fs.writeFileSync(new URL('../images/icon.png', import.meta.url), png);
