/**
 * The child's end of a `!debug` child session. A client answering `startDebugging` starts a
 * new session to this adapter (for a stdio adapter: a new process) whose `launch` carries
 * `__relayChild` — the parent's private socket. From that launch on, this connection is
 * debugpy's: the link hands the client's `initialize` and `launch` to the parent
 * (childSessionProxy.ts), and passes every message through after them.
 *
 * `initialize` was already answered here (the adapter cannot tell a child before its
 * launch), so debugpy's answer to it is given to the client as a `capabilities` event.
 */
import net from 'node:net';
import { CHILD_KEY, type ChildAddress } from './childSessionProxy.js';
import { DapConnection } from './dapConnection.js';

type Message = Record<string, unknown>;

/** The parent's address when `message` is the launch (or attach) of a child session. */
export function childAddressOf(message: Message): ChildAddress | undefined {
  if (message.type !== 'request' || (message.command !== 'launch' && message.command !== 'attach'))
    return undefined;
  const value = (message.arguments as Record<string, unknown> | undefined)?.[CHILD_KEY];
  if (typeof value !== 'object' || value === null) return undefined;
  return value;
}

export class ChildSessionLink {
  private readonly parent: DapConnection;
  private readonly initializeSeq: number | undefined;

  constructor(
    address: ChildAddress,
    initialize: Message | undefined,
    launch: Message,
    private readonly toClient: (message: Message) => void,
    ended: () => void,
  ) {
    const socket =
      address.socket !== undefined
        ? net.connect(address.socket)
        : net.connect(address.port ?? 0, address.host ?? '127.0.0.1');
    socket.on('error', (error) => {
      this.toClient({
        seq: 0,
        type: 'response',
        request_seq: launch.seq,
        command: launch.command,
        success: false,
        message: `cannot reach the parent session of this !debug child (${error.message}): run !debug again from the parent's debug console`,
      });
    });
    this.parent = new DapConnection(socket, socket, {
      message: (message) => this.fromParent(message),
      invalid: () => {},
      inputClosed: ended,
    });
    this.initializeSeq = initialize?.seq as number | undefined;
    if (initialize) this.parent.send(initialize);
    this.parent.send(launch);
  }

  fromClient(message: Message): void {
    this.parent.send(message);
  }

  private fromParent(message: Message): void {
    if (message.type === 'response' && message.request_seq === this.initializeSeq) {
      if (message.success === true)
        this.toClient({
          seq: message.seq,
          type: 'event',
          event: 'capabilities',
          body: { capabilities: message.body ?? {} },
        });
      return;
    }
    this.toClient(message);
  }

  end(): void {
    this.parent.end();
  }
}
