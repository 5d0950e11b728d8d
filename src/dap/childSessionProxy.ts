/**
 * The parent's end of a child session (a `!debug` program, a Python process of a step under the
 * debugger, or one of their subprocesses): debugpy's adapter on the far side (its DAP on a relay
 * channel) joined to the one client connection that opens the child session.
 *
 * That connection arrives on a private Unix socket when the client answers `startDebugging`
 * (a stdio client starts a second adapter process for the child, which cannot reach the
 * parent's channel otherwise: childSessionLink.ts connects it here), or on a loopback TCP
 * port, same-user only as the TCP adapter, for clients that attach by address. Either way
 * the client's `launch`/`attach` becomes debugpy's `attach` to the process, which waits for it
 * (its arguments are ours: the client knows only the child's id), with the far side's working
 * directory mapped to the editor's; everything else passes through as it is.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { selfUid } from '../io/fileOwner.js';
import { lookUpPeerOwner } from '../io/tcpPeerOwner.js';
import { listenPrivately, newPrivateSocketPath } from '../io/unixSocketPath.js';
import type { PathMapping } from './childPathMapping.js';
import { DapConnection } from './dapConnection.js';
import { SeqRenumbering } from './seqRenumbering.js';

/** The key of a child session's configuration: where the child's adapter finds its parent. */
export const CHILD_KEY = '__relayChild';

export interface ChildAddress {
  socket?: string;
  host?: string;
  port?: number;
}

/**
 * The configuration a child session is asked for with (`startDebugging`): the parent's `type`
 * and `debugServer`, so that the client opens it where it opened the parent, and the address
 * its adapter finds the parent at.
 */
export function childConfiguration(
  parent: { adapterType: string; debugServer?: number },
  name: string,
  address: ChildAddress,
): Record<string, unknown> {
  return {
    type: parent.adapterType,
    ...(parent.debugServer !== undefined && { debugServer: parent.debugServer }),
    name,
    request: 'launch',
    [CHILD_KEY]: address,
  };
}

type Message = Record<string, unknown>;

export class ChildSessionProxy {
  private readonly server: net.Server;
  private removeSocket: (() => void) | undefined;
  private client: net.Socket | undefined;
  private toClient: DapConnection | undefined;
  private debugpy: DapConnection | undefined;
  /**
   * How far debugpy's session has come: `attach>` sent to it, `<attach` answered, `<initialized`
   * heard. letGo finishes it from there.
   */
  private readonly said = new Set<string>();
  private lettingGo = false;
  /** Seqs of our own requests to debugpy, far from any the client uses. */
  private ownSeq = 1_000_000;
  /** Requests whose command we rewrote (`launch` → `attach`): their responses are given back theirs. */
  private readonly rewritten = new Map<number, string>();
  /** The client sees debugpy's messages numbered in the order they reach it. */
  private readonly numbering = new SeqRenumbering();
  /** While `terminated` waits for the program's exit code: what debugpy says meanwhile, in order. */
  private held: Promise<void> | undefined;
  readonly address: Promise<ChildAddress>;

  /**
   * `name`: the session's; `exitCode`: a `!debug` program's (debugpy, attached, knows none), told
   * to the client as an `exited` event before `terminated`, as a launch's would be.
   */
  constructor(
    private readonly channel: Duplex,
    private readonly name: string,
    private readonly pathMapping: PathMapping,
    listen: 'unix' | 'tcp',
    private readonly log: (line: string) => void,
    private readonly exitCode?: Promise<number>,
  ) {
    this.server = net.createServer((socket) => void this.accept(socket, listen));
    if (listen === 'unix') {
      // A directory only we can enter: no other user reaches the socket.
      const { file: socket, remove } = newPrivateSocketPath('relay-dap-child-');
      this.removeSocket = remove;
      listenPrivately(this.server, socket);
      this.address = new Promise((resolve) => this.server.once('listening', () => resolve({ socket })));
    } else {
      this.server.listen(0, '127.0.0.1');
      this.address = new Promise((resolve) =>
        this.server.once('listening', () => {
          const { port } = this.server.address() as net.AddressInfo;
          resolve({ host: '127.0.0.1', port });
        }),
      );
    }
  }

  private async accept(socket: net.Socket, listen: 'unix' | 'tcp'): Promise<void> {
    if (this.client) {
      socket.destroy();
      return;
    }
    if (listen === 'tcp' && !(await this.sameUser(socket))) return;
    if (this.client) return void socket.destroy();
    this.client = socket;
    this.toClient = new DapConnection(socket, socket, {
      message: (message) => this.fromClient(message),
      invalid: (problem) => this.log(`child session: ${problem}`),
      // The client is gone: once it said goodbye, debugpy's adapter reads EOF and ends; before
      // that, the process still waits for its session, and is let go.
      inputClosed: () => (this.said.has('disconnect>') ? this.channel.end() : this.letGo()),
    });
    this.connectDebugpy();
  }

  private connectDebugpy(): DapConnection {
    this.debugpy ??= new DapConnection(this.channel, this.channel, {
      message: (message) => this.fromDebugpy(message),
      invalid: (problem) => this.log(`debugpy: ${problem}`),
      inputClosed: () => this.toClient?.end(),
    });
    // Paused after the adapter's handshake line was read: debugpy's DAP flows from here.
    this.channel.resume();
    return this.debugpy;
  }

  /**
   * Nobody debugs the process (any more): the client refused its session, or left before the
   * end of it. The process waits for a session's configuration (stopping its adapter would
   * leave it waiting for good), so debugpy is given the rest of one that attaches, configures
   * nothing and detaches, as debugpy does itself for a subprocess no client was told of. The
   * process runs on undebugged, and its adapter ends.
   */
  letGo(): void {
    if (this.lettingGo) return;
    this.lettingGo = true;
    this.connectDebugpy();
    this.advanceLettingGo();
  }

  private advanceLettingGo(): void {
    const send = (command: string, args: Message): void => {
      this.said.add(`${command}>`);
      this.debugpy!.send({ seq: this.ownSeq++, type: 'request', command, arguments: args });
    };
    if (!this.said.has('initialize>')) return send('initialize', { adapterID: 'relay-dap' });
    if (!this.said.has('<initialize')) return;
    if (!this.said.has('attach>')) send('attach', this.attachArguments());
    if (this.said.has('<initialized') && !this.said.has('configurationDone>')) send('configurationDone', {});
    if (this.said.has('<attach') && !this.said.has('disconnect>'))
      send('disconnect', { terminateDebuggee: false });
    if (this.said.has('<disconnect')) this.channel.end();
  }

  private async sameUser(socket: net.Socket): Promise<boolean> {
    const owner =
      socket.remoteAddress === undefined || socket.localAddress === undefined
        ? undefined
        : await lookUpPeerOwner({
            peer: { address: socket.remoteAddress, port: socket.remotePort! },
            ours: { address: socket.localAddress, port: socket.localPort! },
          });
    if (owner?.kind === 'uid' && owner.uid === selfUid()) return true;
    this.log(`child session: refused a connection that is not this adapter's own user's`);
    socket.destroy();
    return false;
  }

  private fromClient(received: Message): void {
    if (this.lettingGo) return;
    const message = this.numbering.incoming(received);
    if (message.type === 'request' && (message.command === 'launch' || message.command === 'attach')) {
      this.rewritten.set(message.seq as number, message.command);
      this.said.add('attach>');
      this.debugpy!.send({ ...message, command: 'attach', arguments: this.attachArguments() });
      return;
    }
    if (message.type === 'request') this.said.add(`${message.command as string}>`);
    this.debugpy!.send(message);
  }

  private fromDebugpy(message: Message): void {
    if (message.type === 'response') this.said.add(`<${message.command as string}`);
    if (message.type === 'event' && message.event === 'initialized') this.said.add('<initialized');
    if (this.lettingGo) return this.advanceLettingGo();
    const toClient = this.toClient!;
    if (message.type === 'response') {
      const command = this.rewritten.get(message.request_seq as number);
      if (command !== undefined) {
        this.rewritten.delete(message.request_seq as number);
        message = { ...message, command };
      }
    }
    if (message.type === 'event' && message.event === 'terminated' && this.exitCode && !this.held) {
      this.held = this.exitCode.then(
        (exitCode) =>
          toClient.send(this.numbering.outgoing({ type: 'event', event: 'exited', body: { exitCode } })),
        () => {},
      );
    }
    if (this.held) this.held = this.held.then(() => toClient.send(this.numbering.outgoing(message)));
    else toClient.send(this.numbering.outgoing(message));
  }

  /** debugpy's `attach` to the process, its files mapped to the editor's. */
  private attachArguments(): Message {
    return {
      name: this.name,
      type: 'python',
      request: 'attach',
      // Each of its Python children has a session of its own (pythonProcessHub.ts).
      subProcess: false,
      // Its output is the step's (or the `!debug`'s), shown and masked by the parent as it comes.
      redirectOutput: false,
      justMyCode: true,
      pathMappings: [this.pathMapping],
    };
  }

  close(): void {
    this.server.close();
    this.client?.destroy();
    this.removeSocket?.();
  }
}
