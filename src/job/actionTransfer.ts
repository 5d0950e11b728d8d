/**
 * Brings a cached remote action (a directory on the editor's side) to where the steps run. The
 * relay carries only command texts, so the files travel inside them, base64 in bounded chunks
 * (a Part-A server runs `bash -c TEXT`, and one argument is limited to 128 KiB): this works
 * whether or not the two sides share a filesystem, through the relay directory itself. Only
 * regular files are copied (an action's `.git` is left out); executable bits are kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FarSide } from './jobFolder.js';
import { shellQuote } from '../workflow/shellQuote.js';

/** Raw bytes per chunk: 48 KiB becomes 64 KiB of base64, well under the 128 KiB of one argument. */
const CHUNK_BYTES = 48 * 1024;
/** An action bigger than this is refused (a wrong cache path must not send a home directory). */
const MAX_ACTION_BYTES = 64 * 1024 * 1024;

interface ActionFile {
  relative: string;
  absolute: string;
  executable: boolean;
}

async function listFiles(root: string): Promise<ActionFile[]> {
  const files: ActionFile[] = [];
  let total = 0;
  const walk = async (directory: string): Promise<void> => {
    for (const entry of await fs.promises.readdir(directory, { withFileTypes: true })) {
      const absolute = path.join(directory, entry.name);
      if (entry.isDirectory() && entry.name !== '.git') await walk(absolute);
      if (!entry.isFile()) continue;
      const stat = await fs.promises.stat(absolute);
      total += stat.size;
      if (total > MAX_ACTION_BYTES) {
        throw new Error(
          `the cached action ${root} holds more than ${MAX_ACTION_BYTES / 1024 / 1024} MiB: relay-dap copies at most that; check the actions cache path`,
        );
      }
      files.push({
        relative: path.relative(root, absolute).split(path.sep).join('/'),
        absolute,
        executable: (stat.mode & 0o111) !== 0,
      });
    }
  };
  await walk(root);
  return files;
}

/** Copies the directory `from` (editor's side) to `to` (the far side), replacing what is there. */
export async function copyToFarSide(from: string, to: string, farSide: FarSide): Promise<void> {
  const commands: string[] = [`rm -rf -- ${shellQuote(to)} && mkdir -p -- ${shellQuote(to)} || exit 1`];
  for (const file of await listFiles(from)) {
    const target = `${to}/${file.relative}`;
    const bytes = await fs.promises.readFile(file.absolute);
    commands.push(
      `mkdir -p -- ${shellQuote(path.posix.dirname(target))} && : > ${shellQuote(target)} || exit 1`,
    );
    for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) {
      const chunk = bytes.subarray(offset, offset + CHUNK_BYTES).toString('base64');
      commands.push(`printf '%s' '${chunk}' | base64 -d >> ${shellQuote(target)} || exit 1`);
    }
    if (file.executable) commands.push(`chmod +x -- ${shellQuote(target)} || exit 1`);
  }
  // As few relay commands as fit: lines joined up to one chunk's worth of text each.
  const batches: string[] = [];
  for (const command of commands) {
    const last = batches.at(-1);
    if (last !== undefined && last.length + command.length < 2 * CHUNK_BYTES)
      batches[batches.length - 1] = `${last}\n${command}`;
    else batches.push(command);
  }
  for (const batch of batches) {
    const done = await farSide.captureCommand(batch);
    if (done.exitCode !== 0) {
      throw new Error(
        `could not copy the cached action ${from} to ${to} on the relay server's side: ${done.output.toString('utf8').trim() || `exit code ${done.exitCode}`}`,
      );
    }
  }
}
