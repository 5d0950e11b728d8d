/**
 * A raw DAP client for tests that drive the adapter as a real process (over stdio) or server (TCP).
 *
 * Unlike @vscode/debugadapter-testsupport it is strict about the wire: every byte the adapter sends
 * must belong to a well-formed `Content-Length` frame (a stray console.log on stdout would corrupt a
 * real client's stream), every message is checked against the DAP schema, and everything sent and
 * received is kept in order so tests can assert on exact transcripts and print them on failure.
 */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { assertValidDapMessage, validateDapMessage } from './dapSchema.js';

// ---------------------------------------------------------------------------------------------
// Typed views of the protocol (names mirror the schema; checked against it in dapClient.test.ts)

interface Command<
  Req extends DebugProtocol.Request,
  Res extends DebugProtocol.Response,
  Args = Req['arguments'],
> {
  request: Req;
  args: Args;
  response: Res;
}

/** Adapter-specific launch/attach settings sit beside the standard ones. */
type OpenArguments<T> = T & Record<string, unknown>;

/** Every DAP request, by command: its request, its `arguments` and its response type. */
export interface DapCommands {
  cancel: Command<DebugProtocol.CancelRequest, DebugProtocol.CancelResponse>;
  runInTerminal: Command<DebugProtocol.RunInTerminalRequest, DebugProtocol.RunInTerminalResponse>;
  startDebugging: Command<DebugProtocol.StartDebuggingRequest, DebugProtocol.StartDebuggingResponse>;
  initialize: Command<DebugProtocol.InitializeRequest, DebugProtocol.InitializeResponse>;
  configurationDone: Command<DebugProtocol.ConfigurationDoneRequest, DebugProtocol.ConfigurationDoneResponse>;
  launch: Command<
    DebugProtocol.LaunchRequest,
    DebugProtocol.LaunchResponse,
    OpenArguments<DebugProtocol.LaunchRequestArguments>
  >;
  attach: Command<
    DebugProtocol.AttachRequest,
    DebugProtocol.AttachResponse,
    OpenArguments<DebugProtocol.AttachRequestArguments>
  >;
  restart: Command<DebugProtocol.RestartRequest, DebugProtocol.RestartResponse>;
  disconnect: Command<DebugProtocol.DisconnectRequest, DebugProtocol.DisconnectResponse>;
  terminate: Command<DebugProtocol.TerminateRequest, DebugProtocol.TerminateResponse>;
  breakpointLocations: Command<
    DebugProtocol.BreakpointLocationsRequest,
    DebugProtocol.BreakpointLocationsResponse
  >;
  setBreakpoints: Command<DebugProtocol.SetBreakpointsRequest, DebugProtocol.SetBreakpointsResponse>;
  setFunctionBreakpoints: Command<
    DebugProtocol.SetFunctionBreakpointsRequest,
    DebugProtocol.SetFunctionBreakpointsResponse
  >;
  setExceptionBreakpoints: Command<
    DebugProtocol.SetExceptionBreakpointsRequest,
    DebugProtocol.SetExceptionBreakpointsResponse
  >;
  dataBreakpointInfo: Command<
    DebugProtocol.DataBreakpointInfoRequest,
    DebugProtocol.DataBreakpointInfoResponse
  >;
  setDataBreakpoints: Command<
    DebugProtocol.SetDataBreakpointsRequest,
    DebugProtocol.SetDataBreakpointsResponse
  >;
  setInstructionBreakpoints: Command<
    DebugProtocol.SetInstructionBreakpointsRequest,
    DebugProtocol.SetInstructionBreakpointsResponse
  >;
  continue: Command<DebugProtocol.ContinueRequest, DebugProtocol.ContinueResponse>;
  next: Command<DebugProtocol.NextRequest, DebugProtocol.NextResponse>;
  stepIn: Command<DebugProtocol.StepInRequest, DebugProtocol.StepInResponse>;
  stepOut: Command<DebugProtocol.StepOutRequest, DebugProtocol.StepOutResponse>;
  stepBack: Command<DebugProtocol.StepBackRequest, DebugProtocol.StepBackResponse>;
  reverseContinue: Command<DebugProtocol.ReverseContinueRequest, DebugProtocol.ReverseContinueResponse>;
  restartFrame: Command<DebugProtocol.RestartFrameRequest, DebugProtocol.RestartFrameResponse>;
  goto: Command<DebugProtocol.GotoRequest, DebugProtocol.GotoResponse>;
  pause: Command<DebugProtocol.PauseRequest, DebugProtocol.PauseResponse>;
  stackTrace: Command<DebugProtocol.StackTraceRequest, DebugProtocol.StackTraceResponse>;
  scopes: Command<DebugProtocol.ScopesRequest, DebugProtocol.ScopesResponse>;
  variables: Command<DebugProtocol.VariablesRequest, DebugProtocol.VariablesResponse>;
  setVariable: Command<DebugProtocol.SetVariableRequest, DebugProtocol.SetVariableResponse>;
  source: Command<DebugProtocol.SourceRequest, DebugProtocol.SourceResponse>;
  threads: Command<DebugProtocol.ThreadsRequest, DebugProtocol.ThreadsResponse>;
  terminateThreads: Command<DebugProtocol.TerminateThreadsRequest, DebugProtocol.TerminateThreadsResponse>;
  modules: Command<DebugProtocol.ModulesRequest, DebugProtocol.ModulesResponse>;
  loadedSources: Command<DebugProtocol.LoadedSourcesRequest, DebugProtocol.LoadedSourcesResponse>;
  evaluate: Command<DebugProtocol.EvaluateRequest, DebugProtocol.EvaluateResponse>;
  setExpression: Command<DebugProtocol.SetExpressionRequest, DebugProtocol.SetExpressionResponse>;
  stepInTargets: Command<DebugProtocol.StepInTargetsRequest, DebugProtocol.StepInTargetsResponse>;
  gotoTargets: Command<DebugProtocol.GotoTargetsRequest, DebugProtocol.GotoTargetsResponse>;
  completions: Command<DebugProtocol.CompletionsRequest, DebugProtocol.CompletionsResponse>;
  exceptionInfo: Command<DebugProtocol.ExceptionInfoRequest, DebugProtocol.ExceptionInfoResponse>;
  readMemory: Command<DebugProtocol.ReadMemoryRequest, DebugProtocol.ReadMemoryResponse>;
  writeMemory: Command<DebugProtocol.WriteMemoryRequest, DebugProtocol.WriteMemoryResponse>;
  disassemble: Command<DebugProtocol.DisassembleRequest, DebugProtocol.DisassembleResponse>;
  locations: Command<DebugProtocol.LocationsRequest, DebugProtocol.LocationsResponse>;
}

/** Every DAP event, by name. */
/** The requests an adapter sends to its client, by command. */
export type ReverseRequests = { [C in keyof DapCommands]: DapCommands[C]['request'] };

/**
 * Waiting for a message by name (an event's name, a reverse request's command): the names in
 * `Known` get their own message type, any other name the `Base` type.
 */
export interface WaitByName<Known, Base> {
  <K extends keyof Known>(
    name: K,
    predicate?: (message: Known[K]) => boolean,
    timeoutMs?: number,
  ): Promise<Known[K]>;
  (name: string, predicate?: (message: Base) => boolean, timeoutMs?: number): Promise<Base>;
}

export interface DapEvents {
  initialized: DebugProtocol.InitializedEvent;
  stopped: DebugProtocol.StoppedEvent;
  continued: DebugProtocol.ContinuedEvent;
  exited: DebugProtocol.ExitedEvent;
  terminated: DebugProtocol.TerminatedEvent;
  thread: DebugProtocol.ThreadEvent;
  output: DebugProtocol.OutputEvent;
  breakpoint: DebugProtocol.BreakpointEvent;
  module: DebugProtocol.ModuleEvent;
  loadedSource: DebugProtocol.LoadedSourceEvent;
  process: DebugProtocol.ProcessEvent;
  capabilities: DebugProtocol.CapabilitiesEvent;
  progressStart: DebugProtocol.ProgressStartEvent;
  progressUpdate: DebugProtocol.ProgressUpdateEvent;
  progressEnd: DebugProtocol.ProgressEndEvent;
  invalidated: DebugProtocol.InvalidatedEvent;
  memory: DebugProtocol.MemoryEvent;
}

export type DapDirection = 'sent' | 'received';

export interface DapTranscriptEntry {
  direction: DapDirection;
  message: DebugProtocol.ProtocolMessage;
}

/**
 * Something wrong with what the peer sent. `framing`: bytes that are not part of a well-formed frame
 * (fatal: the stream can no longer be trusted); `schema`: a message that fails the DAP schema;
 * `protocol`: a message that breaks a rule the schema cannot express (seq order, duplicate response).
 */
export interface DapViolation {
  kind: 'framing' | 'schema' | 'protocol';
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Framing

export type DapFrameItem =
  | { kind: 'message'; message: unknown }
  | { kind: 'violation'; offset: number; bytes: Buffer; reason: string };

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const LENGTH_MARKER = 'Content-Length:';
/** A header longer than this without its blank line is not a header. */
const MAX_HEADER_BYTES = 1024;
const LENGTH_LINE = /^Content-Length: *(\d{1,15})$/;
const TYPE_LINE = /^Content-Type: *[^\r\n]*$/;

/** Length announced by a complete header block (without its final blank line), or undefined if invalid. */
function parseHeader(text: string): number | undefined {
  let length: number | undefined;
  for (const line of text.split('\r\n')) {
    const match = LENGTH_LINE.exec(line);
    if (match !== null) {
      if (length !== undefined) return undefined;
      length = Number(match[1]);
    } else if (!TYPE_LINE.test(line)) {
      return undefined;
    }
  }
  return length;
}

function isHeaderLine(line: string): boolean {
  return LENGTH_LINE.test(line) || TYPE_LINE.test(line);
}

/** Whether `text` (no blank line yet) can still grow into a valid header block. */
function couldBeHeaderStart(text: string): boolean {
  const lines = text.split('\r\n');
  const last = lines.pop() ?? '';
  if (!lines.every(isHeaderLine)) return false;
  if (last === '') return true;
  if (last === '\r') return lines.length > 0;
  if (last.endsWith('\r')) return isHeaderLine(last.slice(0, -1));
  return (
    LENGTH_MARKER.startsWith(last) ||
    'Content-Type:'.startsWith(last) ||
    /^Content-Length: *\d{0,15}$/.test(last) ||
    TYPE_LINE.test(last)
  );
}

/**
 * Splits a byte stream into DAP frames. Chunks may end anywhere (inside a header, inside a multi-byte
 * UTF-8 character). Bytes that cannot belong to a frame are returned as violations and skipped up to
 * the next `Content-Length:`, so one stray line does not hide the messages after it.
 */
export class DapFrameParser {
  private buffer: Buffer = Buffer.alloc(0);
  /** Stream offset of `buffer[0]`. */
  private offset = 0;
  private header: Buffer | undefined;
  private bodyLength = 0;
  private frameStart = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  push(chunk: Buffer): DapFrameItem[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const items: DapFrameItem[] = [];
    for (;;) {
      if (this.header !== undefined) {
        if (this.buffer.length < this.bodyLength) break;
        const bodyStart = this.offset;
        const body = this.take(this.bodyLength);
        this.header = undefined;
        items.push(this.decode(body, bodyStart));
        continue;
      }
      const end = this.buffer.indexOf(HEADER_END);
      if (end >= 0) {
        const length = parseHeader(this.buffer.toString('latin1', 0, end));
        if (length !== undefined) {
          this.frameStart = this.offset;
          this.header = this.take(end + HEADER_END.length);
          this.bodyLength = length;
          continue;
        }
      } else if (
        this.buffer.length <= MAX_HEADER_BYTES &&
        couldBeHeaderStart(this.buffer.toString('latin1'))
      ) {
        break;
      }
      items.push(this.skipGarbage());
    }
    return items;
  }

  /** Call when the stream ends: anything left over is an incomplete frame. */
  end(): DapFrameItem[] {
    const items: DapFrameItem[] = [];
    if (this.header !== undefined) {
      const reason = `stream ended inside a frame (body has ${this.buffer.length} of ${this.bodyLength} bytes)`;
      items.push({
        kind: 'violation',
        offset: this.frameStart,
        bytes: Buffer.concat([this.header, this.buffer]),
        reason,
      });
    } else if (this.buffer.length > 0) {
      items.push({
        kind: 'violation',
        offset: this.offset,
        bytes: this.buffer,
        reason: 'stream ended inside a header',
      });
    }
    this.header = undefined;
    this.offset += this.buffer.length;
    this.buffer = Buffer.alloc(0);
    return items;
  }

  private take(count: number): Buffer {
    const taken = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    this.offset += count;
    return taken;
  }

  private skipGarbage(): DapFrameItem {
    const reason =
      this.buffer.toString('latin1', 0, 8) === 'Content-' ? 'malformed header' : 'bytes outside any frame';
    let cut = this.buffer.indexOf(LENGTH_MARKER, 1, 'latin1');
    if (cut < 0) {
      cut = this.buffer.length;
      // Keep a tail that may be the start of the next header, cut by a chunk boundary.
      for (let keep = Math.min(LENGTH_MARKER.length - 1, this.buffer.length - 1); keep > 0; keep--) {
        if (LENGTH_MARKER.startsWith(this.buffer.toString('latin1', this.buffer.length - keep))) {
          cut = this.buffer.length - keep;
          break;
        }
      }
    }
    const offset = this.offset;
    return { kind: 'violation', offset, bytes: this.take(cut), reason };
  }

  private decode(body: Buffer, offset: number): DapFrameItem {
    let text: string;
    try {
      text = this.utf8.decode(body);
    } catch {
      return { kind: 'violation', offset, bytes: body, reason: 'frame body is not valid UTF-8' };
    }
    try {
      return { kind: 'message', message: JSON.parse(text) };
    } catch (error) {
      return {
        kind: 'violation',
        offset,
        bytes: body,
        reason: `frame body is not JSON (${(error as Error).message})`,
      };
    }
  }
}

/** Encodes one message as a DAP frame. */
export function encodeDapFrame(message: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${json.length}\r\n\r\n`, 'latin1'), json]);
}

// ---------------------------------------------------------------------------------------------
// Summaries

const MAX_SUMMARY_TEXT = 200;

function clip(text: string, max = MAX_SUMMARY_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (+${text.length - max} chars)`;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : (JSON.stringify(value) ?? 'undefined');
}

function eventDetail(event: unknown, body: Record<string, unknown>): string {
  switch (event) {
    case 'output':
      return ` [${text(body.category ?? 'console')}] ${clip(JSON.stringify(body.output) ?? 'undefined')}`;
    case 'stopped':
    case 'breakpoint':
    case 'module':
    case 'loadedSource':
      return ` (${text(body.reason)})`;
    case 'thread':
      return ` (${text(body.reason)} ${text(body.threadId)})`;
    case 'continued':
      return ` (thread ${text(body.threadId)})`;
    case 'exited':
      return ` (exitCode ${text(body.exitCode)})`;
    case 'terminated':
      return body.restart === undefined ? '' : ' (restart)';
    case 'process':
      return ` ${JSON.stringify(body.name) ?? ''}`;
    case 'progressStart':
      return ` ${JSON.stringify(body.title) ?? ''}`;
    default:
      return '';
  }
}

/**
 * One compact line per message: `→ request 3 launch`, `← response 3 launch ok`,
 * `← response 4 next failed "notStopped"`, `← event stopped (entry)`, `← event output [stdout] "hi\n"`.
 * Responses show the seq of their request, so a request and its response carry the same number.
 */
export function summarizeDapMessage(direction: DapDirection, message: DebugProtocol.ProtocolMessage): string {
  const arrow = direction === 'sent' ? '→' : '←';
  const m = asRecord(message);
  switch (m.type) {
    case 'request':
      return `${arrow} request ${text(m.seq)} ${text(m.command)}`;
    case 'response': {
      const outcome = m.success === true ? 'ok' : 'failed';
      const why = m.success !== true && m.message !== undefined ? ` ${clip(JSON.stringify(m.message))}` : '';
      return `${arrow} response ${text(m.request_seq)} ${text(m.command)} ${outcome}${why}`;
    }
    case 'event':
      return `${arrow} event ${text(m.event)}${eventDetail(m.event, asRecord(m.body))}`;
    default:
      return `${arrow} ${text(m.type)} ${clip(JSON.stringify(message))}`;
  }
}

// ---------------------------------------------------------------------------------------------
// The client

interface Transport {
  input: Readable;
  output: Writable;
  description: string;
  stderr?: Readable | null;
  child?: ChildProcess;
  destroy(): void;
}

interface PendingRequest {
  command: string;
  resolve(response: DebugProtocol.Response): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  key: string;
  what: string;
  predicate: (message: DebugProtocol.ProtocolMessage) => boolean;
  resolve(message: DebugProtocol.ProtocolMessage): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const STDERR_KEPT = 16_384;
const CONTEXT_LINES = 20;

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function preview(bytes: Buffer): string {
  return `${clip(JSON.stringify(bytes.toString('utf8')), 300)} (${bytes.length} byte${bytes.length === 1 ? '' : 's'})`;
}

export class DapClient {
  /** Every message sent and received, in the order the client saw them. */
  readonly transcript: DapTranscriptEntry[] = [];
  /** Everything wrong with what the peer sent; `assertClean()` fails when this is not empty. */
  readonly violations: DapViolation[] = [];
  /** Resolves when the peer's side of the connection has ended; never rejects. */
  readonly closed: Promise<void>;

  private readonly parser = new DapFrameParser();
  private nextSeq = 1;
  private lastReceivedSeq = 0;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly answered = new Set<number>();
  /** Received events, reverse requests and unclaimed responses that no wait has consumed yet. */
  private readonly queues = new Map<string, DebugProtocol.ProtocolMessage[]>();
  private readonly waiters: Waiter[] = [];
  private lastFraming:
    { index: number; end: number; reason: string; offset: number; bytes: Buffer } | undefined;
  private fatal: string | undefined;
  private isClosed = false;
  private resolveClosed!: () => void;
  private stderrText = '';
  private exitDescription: string | undefined;
  private transportError: Error | undefined;

  private constructor(private readonly transport: Transport) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    const { input, output } = transport;
    input.on('data', (chunk: Buffer | string) =>
      this.onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk),
    );
    input.once('end', () => this.onInputClosed());
    input.once('close', () => this.onInputClosed());
    // Errors end the connection; they must not crash the test process as unhandled 'error' events.
    const onError = (error: Error) => (this.transportError ??= error);
    input.on('error', onError);
    output.on('error', onError);
    transport.stderr?.on('data', (chunk: Buffer | string) => {
      this.stderrText = (this.stderrText + chunk.toString()).slice(-STDERR_KEPT);
    });
    transport.child?.once('exit', (code, signal) => {
      this.exitDescription =
        code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`;
    });
  }

  /** Talks DAP over a child process's stdin/stdout (spawn it with `stdio: 'pipe'`); keeps its stderr. */
  static overStdio(child: ChildProcess): DapClient {
    const { stdin, stdout } = child;
    if (stdin === null || stdout === null) {
      throw new Error('DapClient.overStdio needs a child spawned with piped stdin and stdout');
    }
    return new DapClient({
      input: stdout,
      output: stdin,
      stderr: child.stderr,
      child,
      description: `adapter process ${child.pid ?? '(not started)'} over stdio`,
      destroy: () => {
        stdin.destroy();
        stdout.destroy();
      },
    });
  }

  static overSocket(socket: net.Socket, description?: string): DapClient {
    if (socket.remoteAddress !== undefined) socket.setNoDelay(true);
    return new DapClient({
      input: socket,
      output: socket,
      description: description ?? `TCP peer ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      destroy: () => socket.destroy(),
    });
  }

  static connectTcp(port: number, host = '127.0.0.1'): Promise<DapClient> {
    return DapClient.connect({ port, host }, `${host}:${port}`);
  }

  /** Over a Unix domain socket (`relay-dap --socket PATH`). */
  static connectUnix(socketPath: string): Promise<DapClient> {
    return DapClient.connect({ path: socketPath }, socketPath);
  }

  private static connect(options: net.NetConnectOpts, where: string): Promise<DapClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(options);
      const onError = (error: Error) =>
        reject(new Error(`cannot connect to the DAP server at ${where}: ${error.message}`));
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(DapClient.overSocket(socket, 'path' in options ? `Unix socket ${where}` : undefined));
      });
    });
  }

  // ---- sending ------------------------------------------------------------------------------

  /**
   * Sends a request and resolves with its response, successful or not (assert on `success`).
   * Rejects when the request fails the schema (nothing is sent), on timeout, when the connection
   * closes first, or when the peer's stream breaks framing.
   */
  request<C extends keyof DapCommands>(
    command: C,
    args?: DapCommands[C]['args'],
    timeoutMs?: number,
  ): Promise<DapCommands[C]['response']>;
  request(command: string, args?: unknown, timeoutMs?: number): Promise<DebugProtocol.Response>;
  request(command: string, args?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DebugProtocol.Response> {
    const refusal = this.refusal(`request '${command}'`);
    if (refusal !== undefined) return Promise.reject(refusal);
    const seq = this.nextSeq;
    const request: DebugProtocol.Request = { seq, type: 'request', command };
    if (args !== undefined) request.arguments = args;
    try {
      this.checkOutgoing(request, `refusing to send request '${command}' (seq ${seq})`);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    this.nextSeq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(this.error(`no response to request '${command}' (seq ${seq}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(seq, { command, resolve, reject, timer });
      this.write(request);
    });
  }

  /** Answers a reverse request (e.g. `runInTerminal`) from the adapter. Throws if the answer fails the schema. */
  respond(request: DebugProtocol.Request, body: unknown, success = true, message?: string): void {
    const refusal = this.refusal(`response to '${request.command}'`);
    if (refusal !== undefined) throw refusal;
    const response: DebugProtocol.Response = {
      seq: this.nextSeq,
      type: 'response',
      request_seq: request.seq,
      command: request.command,
      success,
    };
    if (message !== undefined) response.message = message;
    if (body !== undefined) response.body = body;
    this.checkOutgoing(
      response,
      `refusing to send the response to '${request.command}' (seq ${request.seq})`,
    );
    this.nextSeq++;
    this.write(response);
  }

  /**
   * Writes bytes as they are, unchecked and not recorded in the transcript, for hostile-input tests.
   * Use `encodeDapFrame` and `allocateSeq` to build well-framed but otherwise arbitrary messages.
   */
  sendRaw(bytes: Buffer | string): void {
    if (this.transport.output.writableEnded || this.transport.output.destroyed) {
      throw new Error('cannot sendRaw: the write side of the connection is already closed');
    }
    this.transport.output.write(bytes);
  }

  /** Takes the next seq for a message sent with `sendRaw`, so the client's own seqs stay in order. */
  allocateSeq(): number {
    return this.nextSeq++;
  }

  /** Ends the write side (the adapter sees end of input); incoming messages are still processed. */
  end(): void {
    if (!this.transport.output.writableEnded) this.transport.output.end();
  }

  /**
   * Ends the write side and waits for the peer to close its side. If it does not within `timeoutMs`,
   * tears the connection down and rejects: an adapter should exit when its input ends.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.end();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    const ended = await Promise.race([this.closed.then(() => false), timedOut]);
    clearTimeout(timer);
    if (ended) {
      this.transport.destroy();
      throw this.error(
        `the peer did not close the connection within ${timeoutMs} ms of the client ending its side`,
      );
    }
  }

  // ---- waiting ------------------------------------------------------------------------------

  /**
   * Resolves with the first event of that name (received before or after this call) that matches the
   * predicate and that no earlier wait has taken. Rejects on timeout, listing the events seen.
   */
  readonly waitForEvent = this.waiter<DapEvents, DebugProtocol.Event>('event', (name) => `event '${name}'`);

  /** Like `waitForEvent`, for requests the adapter sends to the client (`runInTerminal`, `startDebugging`). */
  readonly waitForReverseRequest = this.waiter<ReverseRequests, DebugProtocol.Request>(
    'request',
    (name) => `reverse request '${name}'`,
  );

  /** The response to a request sent with `sendRaw` (responses to `request()` go to its promise). */
  waitForResponse(requestSeq: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DebugProtocol.Response> {
    return this.waitFor(
      `response:${requestSeq}`,
      `the response to request seq ${requestSeq}`,
      undefined,
      timeoutMs,
    );
  }

  /** A wait for messages queued under `kind:<name>` (see `WaitByName`), said in errors as `what(name)`. */
  private waiter<Known, Base extends DebugProtocol.ProtocolMessage>(
    kind: 'event' | 'request',
    what: (name: string) => string,
  ): WaitByName<Known, Base> {
    return ((name: string, predicate?: (message: Base) => boolean, timeoutMs = DEFAULT_TIMEOUT_MS) =>
      this.waitFor(`${kind}:${name}`, what(name), predicate, timeoutMs)) as WaitByName<Known, Base>;
  }

  private waitFor<M extends DebugProtocol.ProtocolMessage>(
    key: string,
    what: string,
    predicate: ((message: M) => boolean) | undefined,
    timeoutMs: number,
  ): Promise<M> {
    const refusal = this.refusal(`waiting for ${what}`);
    if (refusal !== undefined) return Promise.reject(refusal);
    const matches = (message: DebugProtocol.ProtocolMessage) =>
      predicate === undefined || predicate(message as M);
    const queue = this.queues.get(key) ?? [];
    let index: number;
    try {
      index = queue.findIndex(matches);
    } catch (error) {
      return Promise.reject(toError(error));
    }
    if (index >= 0) {
      const [message] = queue.splice(index, 1);
      return Promise.resolve(message as M);
    }
    const described = predicate === undefined ? what : `${what} matching the predicate`;
    if (this.isClosed)
      return Promise.reject(this.error(`the connection closed before ${described} arrived`, key));
    return new Promise<M>((resolve, reject) => {
      const waiter: Waiter = {
        key,
        what: described,
        predicate: matches,
        resolve: (message) => resolve(message as M),
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          reject(this.error(`no ${described} within ${timeoutMs} ms`, key));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private removeWaiter(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
    clearTimeout(waiter.timer);
  }

  // ---- inspection ---------------------------------------------------------------------------

  /** One line per transcript entry; see `summarizeDapMessage`. */
  transcriptSummary(): string[] {
    return this.transcript.map((entry) => summarizeDapMessage(entry.direction, entry.message));
  }

  /** The text of received `output` events in order, only of `category` if given (absent means `console`). */
  output(category?: string): string {
    let collected = '';
    for (const { direction, message } of this.transcript) {
      if (direction !== 'received' || message.type !== 'event') continue;
      const event = message as DebugProtocol.Event;
      if (event.event !== 'output') continue;
      const body = asRecord(event.body);
      if (category !== undefined && (body.category ?? 'console') !== category) continue;
      if (typeof body.output === 'string') collected += body.output;
    }
    return collected;
  }

  /** What the adapter process wrote to stderr (last 16 KiB), when driven over stdio. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Throws, listing every violation and the transcript, if the peer sent anything that is not clean DAP. */
  assertClean(): void {
    if (this.violations.length === 0) return;
    const list = this.violations.map((v) => `  - [${v.kind}] ${v.detail}`).join('\n');
    throw this.error(`the DAP peer sent ${this.violations.length} invalid thing(s):\n${list}`);
  }

  // ---- internals ----------------------------------------------------------------------------

  private refusal(action: string): Error | undefined {
    if (this.fatal !== undefined) return this.error(`${action}: ${this.fatal}`);
    if (this.isClosed) return this.error(`${action}: the connection is closed`);
    return undefined;
  }

  private checkOutgoing(message: DebugProtocol.ProtocolMessage, context: string): void {
    assertValidDapMessage(message, context);
  }

  private write(message: DebugProtocol.ProtocolMessage): void {
    this.transcript.push({ direction: 'sent', message });
    this.transport.output.write(encodeDapFrame(message));
  }

  private onData(chunk: Buffer): void {
    for (const item of this.parser.push(chunk)) this.onItem(item);
  }

  private onItem(item: DapFrameItem): void {
    if (item.kind === 'message') this.onMessage(item.message);
    else this.onFramingViolation(item.offset, item.bytes, item.reason);
  }

  private onFramingViolation(offset: number, bytes: Buffer, reason: string): void {
    const last = this.lastFraming;
    if (last !== undefined && last.end === offset && last.reason === reason) {
      // Garbage that arrives in pieces is one violation, not one per chunk.
      last.bytes = Buffer.concat([last.bytes, bytes]);
      last.end += bytes.length;
    } else {
      this.lastFraming = { index: this.violations.length, offset, end: offset + bytes.length, reason, bytes };
      this.violations.push({ kind: 'framing', detail: '' });
    }
    const current = this.lastFraming!;
    const detail = `${current.reason} at byte ${current.offset}: ${preview(current.bytes)}`;
    this.violations[current.index] = { kind: 'framing', detail };
    this.fatal ??= `the DAP stream from the ${this.transport.description} is corrupt (an adapter's output must carry DAP frames only): ${detail}`;
    const error = (what: string) => this.error(`while waiting for ${what}: ${this.fatal}`);
    this.failAll(error);
  }

  private onMessage(value: unknown): void {
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      typeof asRecord(value).type !== 'string'
    ) {
      this.violations.push({ kind: 'protocol', detail: `not a DAP message: ${clip(JSON.stringify(value))}` });
      return;
    }
    const message = value as DebugProtocol.ProtocolMessage;
    this.transcript.push({ direction: 'received', message });
    const line = summarizeDapMessage('received', message);
    const errors = validateDapMessage(message);
    if (errors.length > 0) {
      this.violations.push({ kind: 'schema', detail: `${line}: ${errors.join('; ')}` });
    }
    if (typeof message.seq === 'number') {
      if (message.seq !== this.lastReceivedSeq + 1) {
        this.violations.push({
          kind: 'protocol',
          detail: `${line}: seq ${message.seq} follows seq ${this.lastReceivedSeq} (each message's seq must be 1 more than the previous one's)`,
        });
      }
      this.lastReceivedSeq = message.seq;
    }
    this.route(message, line);
  }

  private route(message: DebugProtocol.ProtocolMessage, line: string): void {
    const m = asRecord(message);
    if (m.type === 'response' && typeof m.request_seq === 'number') {
      const response = message as DebugProtocol.Response;
      if (this.answered.has(response.request_seq)) {
        this.violations.push({
          kind: 'protocol',
          detail: `${line}: a second response to request ${response.request_seq}`,
        });
        return;
      }
      this.answered.add(response.request_seq);
      const pending = this.pending.get(response.request_seq);
      if (pending !== undefined) {
        this.pending.delete(response.request_seq);
        clearTimeout(pending.timer);
        pending.resolve(response);
      } else {
        this.deliver(`response:${response.request_seq}`, message);
      }
    } else if (m.type === 'event' && typeof m.event === 'string') {
      this.deliver(`event:${m.event}`, message);
    } else if (m.type === 'request' && typeof m.command === 'string') {
      this.deliver(`request:${m.command}`, message);
    }
  }

  private deliver(key: string, message: DebugProtocol.ProtocolMessage): void {
    for (const waiter of this.waiters) {
      if (waiter.key !== key) continue;
      let matched: boolean;
      try {
        matched = waiter.predicate(message);
      } catch (error) {
        this.removeWaiter(waiter);
        waiter.reject(toError(error));
        return this.deliver(key, message);
      }
      if (matched) {
        this.removeWaiter(waiter);
        waiter.resolve(message);
        return;
      }
    }
    const queue = this.queues.get(key);
    if (queue === undefined) this.queues.set(key, [message]);
    else queue.push(message);
  }

  private onInputClosed(): void {
    if (this.isClosed) return;
    for (const item of this.parser.end()) this.onItem(item);
    this.isClosed = true;
    this.failAll((what) => this.error(`the connection closed before ${what} arrived`));
    this.resolveClosed();
  }

  private failAll(error: (what: string) => Error): void {
    for (const [seq, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(error(`the response to request '${pending.command}' (seq ${seq})`));
    }
    this.pending.clear();
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error(waiter.what));
    }
  }

  /** An Error whose message ends with what a reader needs to see why: recent traffic, stderr, exit. */
  private error(message: string, waitKey?: string): Error {
    const parts = [message];
    const summary = this.transcriptSummary();
    if (waitKey?.startsWith('event:') === true || waitKey?.startsWith('request:') === true) {
      const kind = waitKey.startsWith('event:') ? '← event ' : '← request ';
      const seen = summary.filter((line) => line.startsWith(kind));
      parts.push(`${kind.slice(2).trim()}s received so far:${seen.length === 0 ? ' none' : ''}`);
      parts.push(...seen.slice(-50).map((line) => `  ${line}`));
    } else {
      parts.push(`transcript (last ${Math.min(CONTEXT_LINES, summary.length)} of ${summary.length}):`);
      parts.push(...summary.slice(-CONTEXT_LINES).map((line) => `  ${line}`));
    }
    if (this.transportError !== undefined) parts.push(`connection error: ${this.transportError.message}`);
    if (this.exitDescription !== undefined) parts.push(`the adapter process ${this.exitDescription}`);
    if (this.stderrText !== '') parts.push(`adapter stderr (tail):\n${this.stderrText.slice(-2000)}`);
    return new Error(parts.join('\n'));
  }
}
