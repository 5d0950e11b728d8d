/**
 * `relay-dap --server=PORT`: DAP over TCP, one fresh session per connection, many at once,
 * bound to 127.0.0.1 unless a host is given; or the same over a Unix domain socket
 * (`--socket PATH`). SIGTERM/SIGINT end every session (cancelling their jobs through the
 * relay) and then the server.
 *
 * Whoever connects runs commands as this process's user, so over TCP a connection is
 * accepted only from a socket of the same uid (as go-delve's `--only-same-user`), looked up
 * before a byte of it is read; a Unix socket is protected by its private directory.
 */
import net from 'node:net';
import { hostSession, type HostedSession } from './hostedSession.js';
import { describeUid, selfUid } from '../io/fileOwner.js';
import { listenerOwnerUid, lookUpPeerOwner, type PeerOwner } from '../io/tcpPeerOwner.js';
import { claimSocketPath, listenPrivately } from '../io/unixSocketPath.js';

export interface TcpAdapterOptions {
  /** TCP (`port`, `host`), or a Unix domain socket at `socketPath`. */
  listen: { port: number; host: string } | { socketPath: string };
  /**
   * TCP: accept only connections whose peer socket belongs to our own uid (default). False
   * lets anyone who can reach the address in (`--allow-other-users`).
   */
  sameUserOnly?: boolean;
  log: (line: string) => void;
  /** Told the address (`host:port`, or the socket's path) once listening. */
  listening: (address: string) => void;
  /** Stop as on SIGTERM once the last session has ended (a server spawned for one client). */
  exitAfterLastSession?: boolean;
  /** Stop as on SIGTERM when aborted (the process that started the server is gone). */
  stopSignal?: AbortSignal;
}

/** Why a connection is refused, in words for the log; undefined to accept it. */
function refusal(owner: PeerOwner, ourUid: number): string | undefined {
  const optOut = `only this adapter's own user may connect (--allow-other-users lets anyone in, to run commands as uid ${ourUid})`;
  switch (owner.kind) {
    case 'uid':
      return owner.uid === ourUid
        ? undefined
        : `it belongs to another user (uid ${owner.uid}; this adapter runs as uid ${ourUid}): ${optOut}`;
    case 'closed':
      return `its socket was closed before its owner could be checked: ${optOut}`;
    case 'not local':
      return `no socket on this machine is its other end (another host, or a container), so its user cannot be checked: ${optOut}; from another machine, use an SSH tunnel to 127.0.0.1, or --socket`;
    case 'unknown':
      return `its owner cannot be checked: ${owner.reason}: ${optOut}`;
  }
}

export function runTcpAdapter(options: TcpAdapterOptions): Promise<void> {
  const sessions = new Set<HostedSession>();
  let stopServer = (): void => {};
  const sameUserOnly = options.sameUserOnly ?? true;
  const ourUid = selfUid();
  let counter = 0;
  let stopping = false;

  /** Whether the connection may go on; a refused one is destroyed unread, with one log line. */
  const admit = async (socket: net.Socket): Promise<boolean> => {
    if ('socketPath' in options.listen || !sameUserOnly) return true;
    const from = `connection from ${socket.remoteAddress}:${socket.remotePort}`;
    const owner: PeerOwner =
      socket.remoteAddress === undefined || socket.localAddress === undefined
        ? { kind: 'closed' }
        : await lookUpPeerOwner({
            peer: { address: socket.remoteAddress, port: socket.remotePort! },
            ours: { address: socket.localAddress, port: socket.localPort! },
          });
    const why = refusal(owner, ourUid);
    if (why === undefined) return true;
    socket.destroy();
    options.log(`[${from}] refused: ${why}`);
    return false;
  };

  const host = (socket: net.Socket): void => {
    const label =
      socket.remoteAddress === undefined
        ? `session ${++counter} on the socket`
        : `session ${++counter} from ${socket.remoteAddress}:${socket.remotePort}`;
    options.log(`[${label}] connected`);
    if (socket.remoteAddress !== undefined) socket.setNoDelay(true);
    const hosted = hostSession(socket, socket, { label, log: options.log });
    sessions.add(hosted);
    void hosted.done.then(() => {
      sessions.delete(hosted);
      // End, not destroy: bytes the client sent and we did not read would turn a destroy into
      // a reset, and the reset could discard our last message (why the connection closed).
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
      if (options.exitAfterLastSession && sessions.size === 0) stopServer();
    });
    // Paused on connect (nothing is read before the owner check): reading starts now.
    socket.resume();
  };

  // Half-open: a client that ends its side still hears `exited` and `terminated`, as over stdio.
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {
      // A reset connection ends its session through the input side (or is refused while its
      // owner is looked up); nothing else to do.
    });
    void admit(socket).then(
      (admitted) => {
        if (!admitted) return;
        if (stopping) socket.destroy();
        else host(socket);
      },
      (error: unknown) => {
        // Fail closed: a connection whose owner could not be checked is not served.
        socket.destroy();
        options.log(
          `[connection from ${socket.remoteAddress}:${socket.remotePort}] refused: checking its owner failed: ${(error as Error).message}`,
        );
      },
    );
  });
  const where =
    'socketPath' in options.listen
      ? options.listen.socketPath
      : `${options.listen.host}:${options.listen.port}`;
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' || 'socketPath' in options.listen) {
        reject(new Error(`cannot listen on ${where}: ${error.message}`));
        return;
      }
      const { port, host } = options.listen;
      const inUse = `port ${port} on ${host} is in use`;
      const next = 'choose another with --port, or --port 0 for a free one';
      void listenerOwnerUid(port).then((holder) => {
        reject(
          new Error(
            holder === undefined || holder === ourUid
              ? `${inUse}: ${next}`
              : // Not "probably your old adapter": an editor sent there gives away its launches.
                `${inUse} by another user, ${describeUid(holder)}: an editor told to connect to port ${port} would send ` +
                  `their program its launch configurations (env values included), so do not point one at it; ${next}, or use --socket`,
          ),
        );
      });
    });
    server.once('listening', () => {
      const address = server.address();
      options.listening(
        typeof address === 'string'
          ? address
          : address === null
            ? where
            : `${address.address}:${address.port}`,
      );
      const stop = (): void => {
        if (stopping) return;
        stopping = true;
        options.log(`stopping: ending ${sessions.size} session(s)`);
        server.close();
        void Promise.all([...sessions].map((hosted) => hosted.stop('the adapter is shutting down'))).then(
          () => resolve(),
        );
      };
      // SIGHUP: the terminal it was started from (npm start) was closed. `on`, not `once`: a
      // signal often comes twice (to the process group, and forwarded by `npm start`), and a
      // second one with no listener left would kill the adapter in the middle of its cleanup.
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);
      stopServer = stop;
      if (options.stopSignal?.aborted) stop();
      options.stopSignal?.addEventListener('abort', stop, { once: true });
    });
    if ('socketPath' in options.listen) {
      claimSocketPath(options.listen.socketPath, options.log).then(
        (file) => listenPrivately(server, file),
        reject,
      );
    } else {
      server.listen(options.listen.port, options.listen.host);
    }
  });
}
