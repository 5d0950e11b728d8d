/**
 * `relay-dap --server=PORT`: DAP over TCP, one fresh session per connection, many at once,
 * bound to 127.0.0.1 unless a host is given. SIGTERM/SIGINT end every session (cancelling
 * their jobs through the relay) and then the server.
 */
import net from 'node:net';
import { hostSession, type HostedSession } from './sessionHost.js';

export interface TcpAdapterOptions {
  port: number;
  host: string;
  log: (line: string) => void;
  /** Told the address once listening (printed on stdout by the command line). */
  listening: (address: { host: string; port: number }) => void;
}

export function runTcpAdapter(options: TcpAdapterOptions): Promise<void> {
  const sessions = new Set<HostedSession>();
  let counter = 0;
  // Half-open: a client that ends its side still hears `exited` and `terminated`, as over stdio.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const label = `session ${++counter} from ${socket.remoteAddress}:${socket.remotePort}`;
    options.log(`[${label}] connected`);
    socket.setNoDelay(true);
    const hosted = hostSession(socket, socket, { label, log: options.log });
    sessions.add(hosted);
    socket.on('error', () => {
      // A reset connection ends its session through the input side; nothing else to do.
    });
    void hosted.done.then(() => {
      sessions.delete(hosted);
      // End, not destroy: bytes the client sent and we did not read would turn a destroy into
      // a reset, and the reset could discard our last message (why the connection closed).
      socket.end();
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === 'EADDRINUSE'
            ? `port ${options.port} on ${options.host} is in use: choose another with --port, or --port 0 for a free one`
            : `cannot listen on ${options.host}:${options.port}: ${error.message}`,
        ),
      );
    });
    server.listen(options.port, options.host, () => {
      const address = server.address() as net.AddressInfo;
      options.listening({ host: address.address, port: address.port });
      let stopping = false;
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
    });
  });
}
