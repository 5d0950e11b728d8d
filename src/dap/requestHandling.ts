/**
 * The request plumbing under the debug session, as delve wraps its handlers: every request
 * gets exactly one response — an error response, with a stable id, if its handler throws —
 * handlers run concurrently and stay cancellable by `cancel`, and every message in or out
 * goes to the session's trace. Errors of the Job API arrive with a kind, mapped to DAP
 * error ids here, in one table.
 */
import { DebugSession, OutputEvent, Response } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { jobErrorKind, type JobErrorKind } from '../job/jobErrors.js';
import { ArgumentError, ErrorId, RequestError } from './errors.js';
import type { OutputChannel } from './outputChannel.js';
import { checkRequestArguments } from './requestArguments.js';
import type { SessionTrace } from './sessionTrace.js';

/** The Job API's error kinds as DAP error ids ('closed': the session has ended, see toRequestError). */
const ERROR_IDS: Record<Exclude<JobErrorKind, 'closed'>, number> = {
  'invalid-job': ErrorId.InvalidJob,
  'relay-unavailable': ErrorId.RelayUnavailable,
  'wrong-state': ErrorId.WrongState,
};

/** Requests that end the session themselves: the end must not wait for them. */
const ENDING_REQUESTS = new Set(['disconnect', 'terminate']);

export type Handler<S> = (
  this: S,
  args: never,
  response: DebugProtocol.Response,
  signal: AbortSignal,
  request: DebugProtocol.Request,
) => Promise<void>;

export abstract class RequestHandlingSession extends DebugSession {
  protected trace: SessionTrace | undefined;
  protected output: OutputChannel | undefined;
  /** Request seqs already answered: a handler that fails after answering must not answer twice. */
  private readonly answered = new Set<number>();
  private readonly inflight = new Map<
    number,
    { command: string; abort: AbortController; settled: Promise<void> }
  >();

  /** Each request's handler, by command. */
  protected abstract readonly handlers: Record<string, Handler<this> | undefined>;
  /** A line for the adapter's own log. */
  protected abstract log(line: string): void;
  /** The error of a request that came after the session ended. */
  protected abstract sessionEnded(): RequestError;
  /** A text the client or a log will show, with the job's secrets masked (none by default). */
  protected mask(text: string): string {
    return text;
  }

  override sendEvent(event: DebugProtocol.Event): void {
    this.trace?.record('to client', event);
    super.sendEvent(event);
  }

  /** Reverse requests sent and not answered yet: their seq, and who waits for the answer. */
  private readonly reverse = new Map<number, (response: DebugProtocol.Response) => void>();

  /**
   * A reverse request (runInTerminal), traced as everything else; resolves with the client's
   * answer, or a failed response after `timeoutMs`. Not the library's sendRequest callback:
   * its timer is never cleared, and would hold the adapter's exit back for the whole timeout.
   */
  protected reverseRequest(
    command: string,
    args: object,
    timeoutMs: number,
  ): Promise<DebugProtocol.Response> {
    // The seq the library gives the request it sends next (ProtocolServer._send).
    const seq = (this as unknown as { _sequence: number })._sequence;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.reverse.delete(seq);
        resolve(new Response({ seq, type: 'request', command }, `no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      // A client gone without answering must not keep the adapter alive.
      timer.unref();
      this.reverse.set(seq, (response) => {
        clearTimeout(timer);
        resolve(response);
      });
      this.trace?.record('to client', { seq, type: 'request', command, arguments: args });
      super.sendRequest(command, args, timeoutMs, undefined as unknown as () => void);
    });
  }

  override sendResponse(response: DebugProtocol.Response): void {
    if (this.answered.has(response.request_seq)) return;
    this.answered.add(response.request_seq);
    this.trace?.record('to client', response);
    super.sendResponse(response);
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    this.trace?.record('from client', request);
    const handler = typeof request.command === 'string' ? this.handlers[request.command] : undefined;
    if (!handler) {
      const unsupported = `relay-dap does not support the request ${JSON.stringify(request.command)}`;
      this.fail(new Response(request), new RequestError(ErrorId.Unsupported, unsupported, false));
      return;
    }
    this.handle(request, handler);
  }

  /** Runs a handler: exactly one response, an error response if it throws; cancellable by `cancel`. */
  private handle(request: DebugProtocol.Request, handler: Handler<this>): void {
    const response = new Response(request);
    try {
      checkRequestArguments(request.command, request.arguments);
    } catch (error) {
      this.fail(response, error);
      return;
    }
    const controller = new AbortController();
    const settled = handler
      .call(this, request.arguments as never, response, controller.signal, request)
      .catch((error: unknown) => {
        if (!this.answered.has(request.seq)) this.fail(response, error);
        else
          this.log(
            `${request.command} failed after its response: ${(error as Error).stack ?? String(error)}`,
          );
      })
      .finally(() => {
        this.inflight.delete(request.seq);
        this.answered.delete(request.seq);
      });
    this.inflight.set(request.seq, { command: request.command, abort: controller, settled });
  }

  /**
   * `initialize` goes through DebugSession's own dispatch, which records the client's line and
   * column base (for convertClientLineToDebugger and back) and then calls initializeRequest.
   * A missing pathFormat means 'path' (DAP's default); the library would refuse it.
   */
  protected initializeThroughLibrary(
    request: DebugProtocol.Request,
    args: DebugProtocol.InitializeRequestArguments,
  ): void {
    super.dispatchRequest({ ...request, arguments: { ...args, pathFormat: 'path' } });
  }

  /** `cancel` of a request in flight: its handler's signal is aborted. */
  protected cancelRequestInFlight(requestId: number): void {
    this.inflight.get(requestId)?.abort.abort();
  }

  /** Waits for the requests in flight (but the ending ones) to be answered, cancelling them if asked. */
  protected async settleInflight(cancel: boolean): Promise<void> {
    const others = [...this.inflight.values()].filter((entry) => !ENDING_REQUESTS.has(entry.command));
    if (cancel) others.forEach((entry) => entry.abort.abort());
    await Promise.allSettled(others.map((entry) => entry.settled));
  }

  private fail(response: DebugProtocol.Response, error: unknown): void {
    const { id, message, showUser } = this.toRequestError(response.command, error);
    this.sendErrorResponse(response, { id, format: this.mask(message), showUser });
  }

  private toRequestError(command: string, error: unknown): RequestError {
    if (error instanceof RequestError) return error;
    if (error instanceof ArgumentError) return new RequestError(ErrorId.InvalidArguments, error.message);
    const kind = jobErrorKind(error);
    // The job's relay client closes with the session: a request that reached it afterwards is late.
    if (kind === 'closed') return this.sessionEnded();
    if (kind) return new RequestError(ERROR_IDS[kind], (error as Error).message);
    this.log(`${command} failed: ${(error as Error).stack ?? String(error)}`);
    return new RequestError(
      ErrorId.Internal,
      `relay-dap failed to handle ${command}: ${(error as Error).message}`,
    );
  }

  /** Messages that could not be used at all: the client hears of them on its console. */
  reportInvalidMessage(problem: string): void {
    this.log(`ignored ${problem}`);
    if (this.output) this.output.console(`relay-dap: ignored ${problem}`, 'important');
    else this.sendEvent(new OutputEvent(`relay-dap: ignored ${problem}\n`, 'important'));
  }

  /** Requests that arrive without a command, or not as requests. */
  override handleMessage(message: DebugProtocol.ProtocolMessage): void {
    const candidate = message as Partial<DebugProtocol.Request>;
    if (
      candidate.type === 'request' &&
      (typeof candidate.command !== 'string' || typeof candidate.seq !== 'number')
    ) {
      if (typeof candidate.seq !== 'number') return this.reportInvalidMessage('a request without a seq');
      const request = { ...candidate, command: String(candidate.command ?? '') } as DebugProtocol.Request;
      const problem = 'a request needs a numeric seq and a command';
      return this.fail(new Response(request), new RequestError(ErrorId.InvalidArguments, problem, false));
    }
    if (candidate.type !== 'request' && candidate.type !== 'response') {
      this.reportInvalidMessage(`a message of type ${JSON.stringify(candidate.type)}`);
      return;
    }
    if (candidate.type === 'response') {
      this.trace?.record('from client', message);
      const response = message as DebugProtocol.Response;
      const waiting = this.reverse.get(response.request_seq);
      if (waiting) {
        this.reverse.delete(response.request_seq);
        return waiting(response);
      }
    }
    super.handleMessage(message);
  }
}
