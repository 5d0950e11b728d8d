/**
 * Who owns the other end of a TCP connection made from this machine: the uid column of the
 * peer's own socket in /proc/net/tcp or /proc/net/tcp6 (what go-delve's `--only-same-user`
 * reads). The peer's socket is the row whose local address:port is the connection's remote
 * end as we see it, and whose remote address:port is our end. Parsing is pure (and tested on
 * real-shaped lines); reading the files is the one function at the bottom.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';

export const PROC_NET_TCP_FILES = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/** An endpoint as 16 bytes (IPv4 as IPv4-mapped IPv6) and a port. */
export interface Endpoint {
  address: Buffer;
  port: number;
}

export interface TcpSocketRow {
  local: Endpoint;
  remote: Endpoint;
  /** The kernel's TCP state number (1 ESTABLISHED … 6 TIME_WAIT, 10 LISTEN). */
  state: number;
  uid: number;
  /** 0 when no open file holds the socket any more (closed by its process, TIME_WAIT). */
  inode: number;
}

const TIME_WAIT = 6;
const LISTEN = 10;
const V4_MAPPED_PREFIX = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/**
 * 16 bytes for an address as Node reports it (`127.0.0.1`, `::1`, `::ffff:127.0.0.1`,
 * `fe80::1%eth0`), so that the IPv4 peer of a dual-stack socket compares equal to its
 * IPv4-mapped form. Undefined for what is not an IP address.
 */
export function addressBytes(address: string): Buffer | undefined {
  const text = address.replace(/%.*$/, '');
  if (net.isIPv4(text)) return Buffer.concat([V4_MAPPED_PREFIX, Buffer.from(text.split('.').map(Number))]);
  if (!net.isIPv6(text)) return undefined;
  // An embedded dotted quad (`::ffff:1.2.3.4`) becomes two hex groups first.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let hex = text;
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    hex = text.slice(0, -dotted[1]!.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = hex.split('::') as [string, string | undefined];
  const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const filled =
    tail === undefined
      ? groups(head)
      : [
          ...groups(head),
          ...Array<string>(8 - groups(head).length - groups(tail).length).fill('0'),
          ...groups(tail),
        ];
  const bytes = Buffer.alloc(16);
  filled.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}

/**
 * `/proc/net/tcp*` prints an address as the 32-bit words of the kernel's network-order bytes,
 * each word as a number in the machine's byte order: on little-endian machines 127.0.0.1 is
 * `0100007F` and ::1 is `00000000000000000000000001000000`. Ports are plain hex numbers.
 */
function parseProcEndpoint(text: string, endianness: 'LE' | 'BE'): Endpoint | undefined {
  const match = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(text);
  if (!match) return undefined;
  const hex = match[1]!;
  const raw = Buffer.alloc(hex.length / 2);
  for (let word = 0; word < hex.length / 8; word++) {
    const value = parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    if (endianness === 'LE') raw.writeUInt32LE(value, word * 4);
    else raw.writeUInt32BE(value, word * 4);
  }
  const address = raw.length === 4 ? Buffer.concat([V4_MAPPED_PREFIX, raw]) : raw;
  return { address, port: parseInt(match[2]!, 16) };
}

/** The rows of a /proc/net/tcp or tcp6 text (the header line and malformed lines are skipped). */
export function parseProcNetTcp(text: string, endianness: 'LE' | 'BE' = os.endianness()): TcpSocketRow[] {
  const rows: TcpSocketRow[] = [];
  for (const line of text.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10 || !/^\d+:$/.test(fields[0]!)) continue;
    const local = parseProcEndpoint(fields[1]!, endianness);
    const remote = parseProcEndpoint(fields[2]!, endianness);
    const [state, uid, inode] = [parseInt(fields[3]!, 16), Number(fields[7]), Number(fields[9])];
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    rows.push({ local, remote, state, uid, inode });
  }
  return rows;
}

/** A connection as our accepted socket sees it. */
export interface ConnectionEnds {
  peer: { address: string; port: number };
  ours: { address: string; port: number };
}

export type PeerOwner =
  | { kind: 'uid'; uid: number }
  /** The peer's socket exists but no process holds it any more (its uid is not kept). */
  | { kind: 'closed' }
  /** No socket on this machine is the other end: another host, or another network namespace. */
  | { kind: 'not local' }
  | { kind: 'unknown'; reason: string };

function sameEndpoint(endpoint: Endpoint, address: Buffer, port: number): boolean {
  return endpoint.port === port && endpoint.address.equals(address);
}

/** The owner of the peer's socket among `rows` (all of tcp and tcp6 together). */
export function peerOwnerFromRows(rows: readonly TcpSocketRow[], ends: ConnectionEnds): PeerOwner {
  const peer = addressBytes(ends.peer.address);
  const ours = addressBytes(ends.ours.address);
  if (!peer || !ours) return { kind: 'unknown', reason: 'the connection has no IP addresses' };
  const row = rows.find(
    (candidate) =>
      sameEndpoint(candidate.local, peer, ends.peer.port) &&
      sameEndpoint(candidate.remote, ours, ends.ours.port),
  );
  if (!row) return { kind: 'not local' };
  // A TIME_WAIT row prints uid 0: taking it for root's would let anyone in to a root adapter.
  if (row.state === TIME_WAIT || row.inode === 0) return { kind: 'closed' };
  return { kind: 'uid', uid: row.uid };
}

/**
 * Reads /proc/net/tcp and tcp6 for the peer's socket. A row can be missed while the table
 * changes under a read, so a miss is read again a few times before it counts.
 */
export async function lookUpPeerOwner(ends: ConnectionEnds, attempts = 3): Promise<PeerOwner> {
  let owner: PeerOwner = { kind: 'not local' };
  for (let attempt = 0; attempt < attempts; attempt++) {
    const rows: TcpSocketRow[] = [];
    let readable = 0;
    for (const file of PROC_NET_TCP_FILES) {
      try {
        rows.push(...parseProcNetTcp(await fs.readFile(file, 'utf8')));
        readable++;
      } catch {
        // No IPv6 (tcp6 absent) is fine as long as the other file could be read.
      }
    }
    if (readable === 0)
      return { kind: 'unknown', reason: `cannot read ${PROC_NET_TCP_FILES.join(' or ')} (not Linux?)` };
    owner = peerOwnerFromRows(rows, ends);
    if (owner.kind !== 'not local') return owner;
    await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
  }
  return owner;
}

/**
 * The uid of a socket listening on TCP `port` here (on any address), or undefined when none
 * is found: who holds a port that we could not take. Another user's program on the port an
 * editor is told to connect to would be sent that editor's launch configurations.
 */
export async function listenerOwnerUid(port: number): Promise<number | undefined> {
  for (const file of PROC_NET_TCP_FILES) {
    try {
      const row = parseProcNetTcp(await fs.readFile(file, 'utf8')).find(
        (candidate) => candidate.state === LISTEN && candidate.local.port === port,
      );
      if (row) return row.uid;
    } catch {
      // No such file (no IPv6, not Linux): nothing known.
    }
  }
  return undefined;
}
