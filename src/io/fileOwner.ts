/**
 * Who a file belongs to and how it is open, in the words every refusal uses: relay
 * directories, the `--socket` directory, trace and log files, the directories above them.
 */
import fs from 'node:fs';

/** This process's effective uid: what the kernel checks. */
export function selfUid(): number {
  return process.geteuid?.() ?? process.getuid?.() ?? 0;
}

let passwd: Map<number, string> | undefined;

/** `uid 1000 (alice)`, or `uid 1000` when /etc/passwd does not name it. */
export function describeUid(uid: number): string {
  if (!passwd) {
    passwd = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name && id !== undefined && /^\d+$/.test(id) && !passwd.has(Number(id)))
          passwd.set(Number(id), name);
      }
    } catch {
      // No passwd file (a minimal container): uids only.
    }
  }
  const name = passwd.get(uid);
  return name === undefined ? `uid ${uid}` : `uid ${uid} (${name})`;
}

/** `mode` as ls-style octal: `0644`. */
export function octalMode(mode: number): string {
  return '0' + (mode & 0o7777).toString(8).padStart(3, '0');
}
