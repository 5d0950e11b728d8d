/**
 * The parent's end of a `!debug` child session: debugpy's adapter on the far side (its DAP on
 * a relay channel) joined to the one client connection that opens the child session.
 *
 * That connection arrives on a private Unix socket when the client answers `startDebugging`
 * (a stdio client starts a second adapter process for the child, which cannot reach the
 * parent's channel otherwise: childSessionLink.ts connects it here), or on a loopback TCP
 * port, same-user only as the TCP adapter, for clients that attach by address. Either way
 * the client's `launch`/`attach` becomes debugpy's `launch` of the program (its arguments
 * are ours: the client knows only the child's id), with the far side's working directory
 * mapped to the editor's; everything else passes through as it is.
 */
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { selfUid } from '../io/fileOwner.js';
import { lookUpPeerOwner } from '../io/tcpPeerOwner.js';
import { listenPrivately, newPrivateSocketPath } from '../io/unixSocketPath.js';
import type { DebugTarget, Handshake } from '../job/debugpyLauncher.js';
import type { PathMapping } from './childPathMapping.js';
import { DapConnection } from './dapConnection.js';
import { SeqRenumbering } from './seqRenumbering.js';

/** The key of a child session's configuration: where the child's adapter finds its parent. */
export const CHILD_KEY = '__relayChild';

/** A Python process of a step under the debugger: debugpy attaches to it (it connects by itself). */
export interface AttachTarget {
  attach: string;
}

/** `!debug`'s program: debugpy launches it, with `env` on top of the far side's environment. */
export type LaunchTarget = DebugTarget & { env?: Record<string, string> };

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
  /** The program's exit code, from debugpy's `exited` event. */
  exitCode: number | undefined;
  private readonly server: net.Server;
  private removeSocket: (() => void) | undefined;
  private client: net.Socket | undefined;
  private debugpy: DapConnection | undefined;
  /** Requests whose command we rewrote (`attach` → `launch`): their responses are given back theirs. */
  private readonly rewritten = new Map<number, string>();
  /** The client sees debugpy's messages numbered in the order they reach it. */
  private readonly numbering = new SeqRenumbering();
  readonly address: Promise<ChildAddress>;

  constructor(
    private readonly channel: Duplex,
    private readonly target: LaunchTarget | AttachTarget,
    private readonly far: Handshake,
    private readonly pathMapping: PathMapping,
    listen: 'unix' | 'tcp',
    private readonly log: (line: string) => void,
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
    const toClient = new DapConnection(socket, socket, {
      message: (message) => this.fromClient(message),
      invalid: (problem) => this.log(`child session: ${problem}`),
      // The client is gone: debugpy's adapter reads EOF and ends (with the program).
      inputClosed: () => this.channel.end(),
    });
    this.debugpy = new DapConnection(this.channel, this.channel, {
      message: (message) => this.fromDebugpy(message, toClient),
      invalid: (problem) => this.log(`debugpy: ${problem}`),
      inputClosed: () => toClient.end(),
    });
    // Paused after the launcher's handshake line was read: debugpy's DAP flows from here.
    this.channel.resume();
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
    const message = this.numbering.incoming(received);
    if (message.type === 'request' && (message.command === 'launch' || message.command === 'attach')) {
      this.rewritten.set(message.seq as number, message.command);
      const start = 'attach' in this.target ? 'attach' : 'launch';
      this.debugpy!.send({ ...message, command: start, arguments: this.startArguments() });
      return;
    }
    this.debugpy!.send(message);
  }

  private fromDebugpy(message: Message, toClient: DapConnection): void {
    if (message.type === 'event' && message.event === 'exited') {
      const code = (message.body as { exitCode?: unknown } | undefined)?.exitCode;
      if (typeof code === 'number') this.exitCode = code;
    }
    if (message.type === 'response') {
      const command = this.rewritten.get(message.request_seq as number);
      if (command !== undefined) {
        this.rewritten.delete(message.request_seq as number);
        return toClient.send(this.numbering.outgoing({ ...message, command }));
      }
    }
    toClient.send(this.numbering.outgoing(message));
  }

  /** debugpy's `launch` (`!debug`) or `attach` (a step's process), its files mapped to the editor's. */
  private startArguments(): Message {
    if ('attach' in this.target)
      return {
        name: this.target.attach,
        type: 'python',
        request: 'attach',
        // Each of its Python children is a process of the step, with a session of its own (pythonProcessHub.ts).
        subProcess: false,
        // Its output is the step's, shown (and masked) by the parent as it comes.
        redirectOutput: false,
        justMyCode: true,
        pathMappings: [this.pathMapping],
      };
    const { target } = this.target;
    return {
      name: `!debug ${'module' in target ? `-m ${target.module}` : target.program}`,
      type: 'python',
      request: 'launch',
      ...('module' in target
        ? { module: target.module }
        : { program: path.posix.resolve(this.far.cwd, target.program) }),
      args: this.target.args,
      cwd: this.far.cwd,
      python: [this.far.python],
      ...(this.target.env ? { env: this.target.env } : {}),
      // debugpy would put its access token on each Python child's command line, which every
      // local user can read; the hub gives each child a session of its own instead.
      subProcess: false,
      console: 'internalConsole',
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
