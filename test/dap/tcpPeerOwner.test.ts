// The owner of a connection's other end, read from /proc/net/tcp{,6} lines: the parser on
// lines as a Linux kernel prints them (taken from this machine), then the real files.
import net from 'node:net';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  addressBytes,
  lookUpPeerOwner,
  parseProcNetTcp,
  peerOwnerFromRows,
} from '../../src/io/tcpPeerOwner.js';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

// A client 127.0.0.1:55738 (uid 1000) connected to an adapter on ::ffff:127.0.0.1:35363 (uid 0).
const TCP4 = [
  HEADER,
  '   4: 0100007F:D9BA 0100007F:8A23 01 00000000:00000000 00:00000000 00000000  1000        0 69054 2 000000003b9081e7 20 0 0 10 -1',
  // The same ports in TIME_WAIT, as the kernel prints it: uid 0, inode 0.
  '   5: 0100007F:D9BB 0100007F:8A23 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000',
].join('\n');
const TCP6 = [
  HEADER,
  '   0: 0000000000000000FFFF00000100007F:8A23 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 69053 1 00000000405096d5 100 0 0 10 0',
  '   1: 0000000000000000FFFF00000100007F:8A23 0000000000000000FFFF00000100007F:D9BA 01 00000000:00000000 00:00000000 00000000     0        0 69055 1 00000000e6774f3a 20 0 0 10 -1',
  // ::1 port 49114 (uid 65534) connected to ::1 port 37081.
  '   2: 00000000000000000000000001000000:BFDA 00000000000000000000000001000000:90D9 01 00000000:00000000 00:00000000 00000000 65534        0 69673 2 00000000d2a54d46 20 0 0 10 -1',
  '   3: 00000000000000000000000001000000:90D9 00000000000000000000000001000000:BFDA 01 00000000:00000000 00:00000000 00000000     0        0 69674 1 000000004c9f7671 20 0 0 10 -1',
  'garbage that is not a row',
].join('\n');

const rows = [...parseProcNetTcp(TCP4, 'LE'), ...parseProcNetTcp(TCP6, 'LE')];

describe('addressBytes', () => {
  it('IPv4 becomes IPv4-mapped IPv6; the mapped and dotted forms agree', () => {
    expect(addressBytes('127.0.0.1')!.toString('hex')).toBe('00000000000000000000ffff7f000001');
    expect(addressBytes('::ffff:127.0.0.1')).toEqual(addressBytes('127.0.0.1'));
    expect(addressBytes('::ffff:7f00:1')).toEqual(addressBytes('127.0.0.1'));
    expect(addressBytes('::1')!.toString('hex')).toBe('00000000000000000000000000000001');
    expect(addressBytes('fe80::1%eth0')!.toString('hex')).toBe('fe800000000000000000000000000001');
    expect(addressBytes('2001:db8::8a2e:370:7334')!.toString('hex')).toBe('20010db80000000000008a2e03707334');
    expect(addressBytes('localhost')).toBeUndefined();
  });
});

describe('parseProcNetTcp', () => {
  it('reads addresses in the machine’s word order, ports, state, uid and inode; skips the rest', () => {
    expect(rows).toHaveLength(6);
    const [client] = rows;
    expect(client).toEqual({
      local: { address: addressBytes('127.0.0.1'), port: 55738 },
      remote: { address: addressBytes('127.0.0.1'), port: 35363 },
      state: 1,
      uid: 1000,
      inode: 69054,
    });
    expect(rows[4]!.local).toEqual({ address: addressBytes('::1'), port: 49114 });
    expect(rows[2]).toMatchObject({ state: 10, local: { address: addressBytes('::ffff:127.0.0.1') } });
  });

  it('on a big-endian machine the same words read in the other order', () => {
    const [row] = parseProcNetTcp(
      `${HEADER}\n   0: 7F000001:D9BA 00000000000000000000000000000001:8A23 01 00000000:00000000 00:00000000 00000000    7        0 1 1 0 20 0 0 10 -1`,
      'BE',
    );
    expect(row!.local.address).toEqual(addressBytes('127.0.0.1'));
    expect(row!.remote.address).toEqual(addressBytes('::1'));
  });
});

describe('peerOwnerFromRows', () => {
  it('finds the peer’s socket, not ours, across tcp and tcp6 (an IPv4 client of a dual-stack socket)', () => {
    expect(
      peerOwnerFromRows(rows, {
        peer: { address: '::ffff:127.0.0.1', port: 55738 },
        ours: { address: '::ffff:127.0.0.1', port: 35363 },
      }),
    ).toEqual({ kind: 'uid', uid: 1000 });
    expect(
      peerOwnerFromRows(rows, {
        peer: { address: '::1', port: 49114 },
        ours: { address: '::1', port: 37081 },
      }),
    ).toEqual({ kind: 'uid', uid: 65534 });
  });

  it('a TIME_WAIT socket (uid printed as 0) is "closed", never root; a missing one is "not local"', () => {
    expect(
      peerOwnerFromRows(rows, {
        peer: { address: '127.0.0.1', port: 55739 },
        ours: { address: '127.0.0.1', port: 35363 },
      }),
    ).toEqual({ kind: 'closed' });
    expect(
      peerOwnerFromRows(rows, {
        peer: { address: '192.0.2.7', port: 55738 },
        ours: { address: '127.0.0.1', port: 35363 },
      }),
    ).toEqual({ kind: 'not local' });
    // The right local end but a different server port is another connection.
    expect(
      peerOwnerFromRows(rows, {
        peer: { address: '127.0.0.1', port: 55738 },
        ours: { address: '127.0.0.1', port: 4711 },
      }),
    ).toEqual({ kind: 'not local' });
  });
});

describe.skipIf(os.platform() !== 'linux')('lookUpPeerOwner on this machine (Linux)', () => {
  it('a real loopback connection, IPv4 and IPv6: the uid of this process', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const server = net.createServer();
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      await new Promise<void>((resolve) => server.listen(0, host, resolve));
      const client = net.connect((server.address() as net.AddressInfo).port, host);
      const socket = await accepted;
      const owner = await lookUpPeerOwner({
        peer: { address: socket.remoteAddress!, port: socket.remotePort! },
        ours: { address: socket.localAddress!, port: socket.localPort! },
      });
      expect(owner, host).toEqual({ kind: 'uid', uid: process.geteuid!() });
      client.destroy();
      socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
