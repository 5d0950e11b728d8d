/**
 * The debug session: DAP requests in, events out, and nothing else — no files, no child
 * processes. A JobRunner does the work; the relay is reached through a RelayClient.
 *
 * Concurrency model. Messages arrive one at a time from the connection; each request is
 * handled by an async handler that may wait (launch waits for configurationDone and for a
 * relay server; evaluate `!CMD` waits for its command), so several requests can be in
 * flight at once and their responses may come out of order, which DAP allows. Every
 * handler runs inside `handle()`, which guarantees exactly one response per request —
 * an error response if the handler throws — and keeps the request cancellable by `cancel`.
 * The job loop runs beside all this in the JobRunner; the session only reacts to its events.
 *
 * Ending. However the session ends — job finished, terminate, disconnect, the client's
 * connection closing, a signal to the adapter — `finish()` runs once: the job is cancelled
 * through the relay if it still runs, the relay client, the embedded server and its
 * temporary directory are cleaned up, then `exited` and `terminated` are sent — after the
 * response when a disconnect ends the session, so that the client reads its answer.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LoggingDebugSession, logger, Logger, Response, DebugSession } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import {
  Breakpoints,
  EXCEPTION_FILTERS,
  type BreakpointSpec,
  type BreakpointState,
} from '../job/breakpoints.js';
import type { JobDefinition } from '../model/jobModel.js';
import { jobForAttachment } from '../job/jobFromAttach.js';
import { jobFromCommand, jobFromSteps } from '../job/jobFromLaunch.js';
import { JobRunner, type OutputOrigin, type StepPreparer } from '../job/jobRunner.js';
import type { RelayClient } from '../relay/client.js';
import type { EmbeddedRelay } from '../relay/embeddedRelay.js';
import { isRelayError } from '../relay/errors.js';
import { EXIT_CANCELLED } from '../relay/results.js';
import { ArgumentError, ErrorId, RequestError } from './errors.js';
import { JobView, describeResult } from './jobView.js';
import type { LaunchArguments } from './launchSchema.js';
import { OutputChannel } from './outputChannel.js';
import { checkRequestArguments } from './requestArguments.js';
import { SessionTrace } from './sessionTrace.js';

export const THREAD_ID = 1;

/**
 * Where the embedded relay runs commands: the launch's `cwd` if it is a directory here, else
 * the repository of a workflow (the directory holding .github), the directory of a job file,
 * or the adapter's own directory.
 */
function embeddedWorkdir(args: LaunchArguments, job: JobDefinition): string {
  if (
    args.cwd !== undefined &&
    path.isAbsolute(args.cwd) &&
    fs.statSync(args.cwd, { throwIfNoEntry: false })?.isDirectory()
  ) {
    return args.cwd;
  }
  if (job.sourcePath !== undefined) {
    const repository = /^(.*)[/\\]\.github[/\\]workflows[/\\][^/\\]+$/.exec(job.sourcePath);
    return repository ? repository[1]! : path.dirname(job.sourcePath);
  }
  return process.cwd();
}
/** Requests that end the session themselves: finish() must not wait for them. */
const ENDING_REQUESTS = new Set(['disconnect', 'terminate']);

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const JOB_SOURCE_REFERENCE = 1;

// @vscode/debugadapter's logger is one per process and, until set up, queues every message
// it is given, forever. Sessions here keep their own trace (SessionTrace); the shared logger
// is silenced once so that nothing accumulates in it.
logger.init(() => {}, undefined, false);
logger.setup(Logger.LogLevel.Stop, false);

export interface SessionHost {
  /** A line for the adapter's own log (stderr), already labelled with the session. */
  log(line: string): void;
  /** Where `trace: true` writes: the adapter's stderr, and its log file if it has one. */
  trace(line: string): void;
  /** Whether the peer reads slower than we write, and a promise for when it catches up. */
  readonly congested: boolean;
  drained(): Promise<void>;
  /** Called once the session has ended and cleaned up; the host closes the connection. */
  ended(): void;
}

interface ActiveJob {
  runner: JobRunner;
  view: JobView;
  relay: RelayClient;
  embedded: EmbeddedRelay | undefined;
  finished: Promise<number>;
}

type Handler = (
  request: DebugProtocol.Request,
  response: DebugProtocol.Response,
  signal: AbortSignal,
) => Promise<void>;

export class RelayDebugSession extends LoggingDebugSession {
  private clientCaps: DebugProtocol.InitializeRequestArguments = { adapterID: 'relay' };
  private output: OutputChannel | undefined;
  private trace: SessionTrace | undefined;
  private readonly configuration = deferred();
  /** Request seqs already answered: a handler that fails after answering must not answer twice. */
  private readonly answered = new Set<number>();
  private active: ActiveJob | undefined;
  private starting = false;
  private finishing: Promise<void> | undefined;
  /** Why the session ended, for requests that come after (see sessionEnded). */
  private endReason: string | undefined;
  private terminatedSent = false;
  /** A disconnect is being answered: it sends `exited`/`terminated` after its response. */
  private disconnecting = false;
  private concluded = false;
  /** The session let go of a running command (attach): it ends with `terminated` alone. */
  private detached = false;
  /** The relay client, embedded server and its directory, released once. */
  private released: Promise<void> | undefined;
  private jobExitCode: number | undefined;
  private readonly inflight = new Map<
    number,
    { command: string; abort: AbortController; settled: Promise<void> }
  >();
  private readonly progressByStep = new Map<number, string>();
  private breakpoints: Breakpoints | undefined;
  /** The job, once read from the launch arguments (before the relay is even connected). */
  private loaded: JobDefinition | undefined;
  /** Breakpoints asked for before the job was loaded: answered unverified, verified by events later. */
  private early: {
    /** Per source (an editor sends one setBreakpoints per file), by path or reference. */
    lines?: Map<string, { source: DebugProtocol.Source; specs: BreakpointSpec[]; ids: number[] }>;
    functions?: { specs: DebugProtocol.FunctionBreakpoint[]; ids: number[] };
    filters?: string[];
  } = {};
  private earlyIds = 100_000;
  private readonly handlers: Record<string, Handler | undefined>;

  constructor(
    private readonly host: SessionHost,
    private readonly label: string,
  ) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.handlers = {
      initialize: (req, res) => this.initialize(req as DebugProtocol.InitializeRequest, res),
      configurationDone: async (_req, res) => {
        this.configuration.resolve();
        this.sendResponse(res);
      },
      launch: (req, res) => this.launch(req, res),
      attach: (req, res) => this.attach(req, res),
      setBreakpoints: (req, res) => this.setBreakpoints(req as DebugProtocol.SetBreakpointsRequest, res),
      setFunctionBreakpoints: (req, res) =>
        this.setFunctionBreakpoints(req as DebugProtocol.SetFunctionBreakpointsRequest, res),
      setExceptionBreakpoints: async (req, res) => {
        const filters = (req as DebugProtocol.SetExceptionBreakpointsRequest).arguments.filters ?? [];
        if (this.breakpoints) this.breakpoints.setExceptionFilters(filters);
        else this.early.filters = filters;
        this.sendResponse(res);
      },
      exceptionInfo: (req, res) => this.exceptionInfo(res),
      restartFrame: async (req, res) => {
        const { runner, view } = this.job();
        const index = view.stepOfFrame((req as DebugProtocol.RestartFrameRequest).arguments.frameId);
        if (!runner.goto(index, 'restart')) {
          throw new RequestError(
            ErrorId.WrongState,
            'Restart Frame works while the job is paused (between steps)',
          );
        }
        this.sendResponse(res);
      },
      gotoTargets: async (req, res) => {
        const { line } = (req as DebugProtocol.GotoTargetsRequest).arguments;
        const step = this.breakpoints?.stepAtLine(this.convertClientLineToDebugger(line));
        res.body = {
          targets: step
            ? [
                {
                  id: step.index + 1,
                  label: step.name,
                  line: this.convertDebuggerLineToClient(step.location.line),
                },
              ]
            : [],
        };
        this.sendResponse(res);
      },
      goto: async (req, res) => {
        const { targetId } = (req as DebugProtocol.GotoRequest).arguments;
        if (!this.job().runner.goto(targetId - 1, 'goto')) {
          throw new RequestError(
            ErrorId.WrongState,
            `cannot go to target ${targetId}: the job must be paused, and the target must come from gotoTargets`,
          );
        }
        this.sendResponse(res);
      },
      threads: async (_req, res) => {
        res.body = {
          threads: this.active ? [{ id: THREAD_ID, name: `job: ${this.active.runner.job.name}` }] : [],
        };
        this.sendResponse(res);
      },
      stackTrace: (req, res) => this.stackTrace(req as DebugProtocol.StackTraceRequest, res),
      scopes: async (req, res) => {
        const args = (req as DebugProtocol.ScopesRequest).arguments;
        res.body = { scopes: this.job().view.scopes(args.frameId) };
        this.sendResponse(res);
      },
      variables: async (req, res) => {
        const args = (req as DebugProtocol.VariablesRequest).arguments;
        res.body = { variables: this.job().view.variables(args.variablesReference) };
        this.sendResponse(res);
      },
      setVariable: async (req, res) => {
        const args = (req as DebugProtocol.SetVariableRequest).arguments;
        res.body = this.job().view.setVariable(args.variablesReference, args.name, args.value);
        this.sendResponse(res);
      },
      source: (req, res) => this.source(req as DebugProtocol.SourceRequest, res),
      continue: async (_req, res) => {
        this.job().runner.continue();
        res.body = { allThreadsContinued: true };
        this.sendResponse(res);
      },
      next: async (_req, res) => {
        if (!this.job().runner.next()) {
          throw new RequestError(
            ErrorId.WrongState,
            'the job is not paused: Next runs one step from a pause (use Pause first)',
          );
        }
        this.sendResponse(res);
      },
      pause: async (_req, res) => {
        const { runner } = this.job();
        runner.pause();
        this.sendResponse(res);
        if (runner.state === 'running') {
          this.output?.console('relay-dap: the job pauses before its next step, once the running step ends');
        }
      },
      stepIn: async () => this.refuseStepping('Step Into'),
      stepOut: async () => this.refuseStepping('Step Out'),
      stepBack: async () => this.refuseStepping('Step Back'),
      reverseContinue: async () => this.refuseStepping('Reverse Continue'),
      evaluate: (req, res, signal) => this.evaluate(req as DebugProtocol.EvaluateRequest, res, signal),
      cancel: (req, res) => this.cancelInflight(req, res),
      terminate: async (_req, res) => {
        this.sendResponse(res);
        await this.finish('terminate request', true);
      },
      disconnect: async (req, res) => {
        const args = req.arguments as DebugProtocol.DisconnectArguments | undefined;
        // launch: the job is ours to end; attach: it belongs to whoever started it.
        const attached = this.active?.runner.job.origin === 'attach';
        // The answer comes before `exited`/`terminated`: nvim-dap closes a session when
        // `terminated` arrives and dap-mode kills the adapter on `exited`, so a response sent
        // after them is never read (as delve: response, then terminated).
        this.disconnecting = true;
        await this.finish('disconnect request', args?.terminateDebuggee ?? !attached);
        this.sendResponse(res);
        this.conclude();
        this.host.ended();
      },
    };
  }

  // ---- plumbing ---------------------------------------------------------------------------

  /** Bypasses LoggingDebugSession's global logging (see above); traces per session instead. */
  override sendEvent(event: DebugProtocol.Event): void {
    this.trace?.record('to client', event);
    DebugSession.prototype.sendEvent.call(this, event);
  }

  override sendResponse(response: DebugProtocol.Response): void {
    if (this.answered.has(response.request_seq)) return;
    this.answered.add(response.request_seq);
    this.trace?.record('to client', response);
    DebugSession.prototype.sendResponse.call(this, response);
  }

  protected override dispatchRequest(request: DebugProtocol.Request): void {
    this.trace?.record('from client', request);
    const response = new Response(request);
    const handler = typeof request.command === 'string' ? this.handlers[request.command] : undefined;
    if (!handler) {
      this.fail(
        response,
        new RequestError(
          ErrorId.Unsupported,
          `relay-dap does not support the request ${JSON.stringify(request.command)}`,
          false,
        ),
      );
      return;
    }
    try {
      checkRequestArguments(request.command, request.arguments);
    } catch (error) {
      this.fail(response, error);
      return;
    }
    const controller = new AbortController();
    const settled = handler(request, response, controller.signal)
      .catch((error: unknown) => {
        if (!this.answered.has(request.seq)) this.fail(response, error);
        else
          this.host.log(
            `${request.command} failed after its response: ${(error as Error).stack ?? String(error)}`,
          );
      })
      .finally(() => {
        this.inflight.delete(request.seq);
        this.answered.delete(request.seq);
      });
    this.inflight.set(request.seq, { command: request.command, abort: controller, settled });
  }

  private fail(response: DebugProtocol.Response, error: unknown): void {
    let requestError: RequestError;
    if (error instanceof RequestError) requestError = error;
    else if (error instanceof ArgumentError)
      requestError = new RequestError(ErrorId.InvalidArguments, error.message);
    // The relay client closes with the session: a request that reached it afterwards is late.
    else if (isRelayError(error, 'CLOSED')) requestError = this.sessionEnded();
    else if (isRelayError(error)) requestError = new RequestError(ErrorId.RelayUnavailable, error.message);
    else {
      this.host.log(`${response.command} failed: ${(error as Error).stack ?? String(error)}`);
      requestError = new RequestError(
        ErrorId.Internal,
        `relay-dap failed to handle ${response.command}: ${(error as Error).message}`,
      );
    }
    this.sendErrorResponse(response, {
      id: requestError.id,
      format: requestError.message,
      showUser: requestError.showUser,
    });
  }

  /** Messages that could not be used at all: the client hears of them on its console. */
  reportInvalidMessage(problem: string): void {
    this.host.log(`ignored ${problem}`);
    this.output?.console(`relay-dap: ignored ${problem}`, 'important');
    if (!this.output) {
      this.sendEvent({
        seq: 0,
        type: 'event',
        event: 'output',
        body: { category: 'important', output: `relay-dap: ignored ${problem}\n` },
      });
    }
  }

  /** Requests that arrive without a command, or not as requests. */
  override handleMessage(message: DebugProtocol.ProtocolMessage): void {
    const candidate = message as Partial<DebugProtocol.Request>;
    if (
      candidate.type === 'request' &&
      (typeof candidate.command !== 'string' || typeof candidate.seq !== 'number')
    ) {
      if (typeof candidate.seq === 'number') {
        const response = new Response({
          ...candidate,
          command: String(candidate.command ?? ''),
        } as DebugProtocol.Request);
        this.fail(
          response,
          new RequestError(ErrorId.InvalidArguments, 'a request needs a numeric seq and a command', false),
        );
      } else {
        this.reportInvalidMessage('a request without a seq');
      }
      return;
    }
    if (candidate.type !== 'request' && candidate.type !== 'response') {
      this.reportInvalidMessage(`a message of type ${JSON.stringify(candidate.type)}`);
      return;
    }
    if (candidate.type === 'response') this.trace?.record('from client', message);
    super.handleMessage(message);
  }

  /** The answer to a request that needs a session that has ended. */
  private sessionEnded(): RequestError {
    return new RequestError(
      ErrorId.SessionEnded,
      `the session has ended (${this.endReason ?? 'it is ending'}): start a new debug session to run the job again`,
    );
  }

  private job(): ActiveJob {
    if (this.finishing) throw this.sessionEnded();
    if (!this.active) {
      throw new RequestError(
        ErrorId.NoJob,
        'no job yet: this request needs a launched job (send launch first)',
        false,
      );
    }
    return this.active;
  }

  private refuseStepping(what: string): never {
    throw new RequestError(
      ErrorId.Unsupported,
      `${what} is not available: relay-dap steps through whole steps. Use Next to run the step about to run and pause before the following one, Continue to run to the next breakpoint, or Restart Frame to run a step again.`,
    );
  }

  // ---- handlers ---------------------------------------------------------------------------

  private async initialize(
    request: DebugProtocol.InitializeRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    // A missing pathFormat means 'path' (the default in DAP); the library would refuse it.
    this.clientCaps = request.arguments ?? { adapterID: 'relay' };
    this.setClientLines();
    const body: DebugProtocol.Capabilities = {
      supportsConfigurationDoneRequest: true,
      supportsEvaluateForHovers: true,
      supportsSetVariable: true,
      supportsCancelRequest: true,
      supportsTerminateRequest: true,
      supportTerminateDebuggee: true,
      supportsANSIStyling: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
      supportsLogPoints: true,
      supportsExceptionInfoRequest: true,
      supportsRestartFrame: true,
      supportsGotoTargetsRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((filter) => ({ ...filter })),
      supportsStepBack: false,
      supportsRestartRequest: false,
    };
    response.body = body;
    this.output = new OutputChannel(this.outputTransport(), this.clientCaps.supportsANSIStyling === true);
    this.sendResponse(response);
    this.sendEvent({ seq: 0, type: 'event', event: 'initialized' });
  }

  private outputTransport(): {
    sendEvent: (e: DebugProtocol.Event) => void;
    readonly congested: boolean;
    drained: () => Promise<void>;
  } {
    const host = this.host;
    return {
      sendEvent: (event) => this.sendEvent(event),
      get congested() {
        return host.congested;
      },
      drained: () => host.drained(),
    };
  }

  private setClientLines(): void {
    const args = this.clientCaps;
    // DebugSession's own fields, set the way its initialize handling would have set them.
    const self = this as unknown as { _clientLinesStartAt1: boolean; _clientColumnsStartAt1: boolean };
    if (typeof args.linesStartAt1 === 'boolean') self._clientLinesStartAt1 = args.linesStartAt1;
    if (typeof args.columnsStartAt1 === 'boolean') self._clientColumnsStartAt1 = args.columnsStartAt1;
  }

  private async launch(request: DebugProtocol.Request, response: DebugProtocol.Response): Promise<void> {
    // Loaded at the first launch or attach: `initialize` is answered without ajv.
    const { validateLaunchArguments } = await import('./launchSchema.js');
    if (this.active || this.starting)
      throw new RequestError(ErrorId.WrongState, 'a job is already launched in this session');
    const args = validateLaunchArguments(request.arguments);
    this.starting = true;
    this.trace ??= SessionTrace.open(args.trace, this.label, (line) => this.host.trace(line));
    this.trace?.record('from client', request);
    // The job is read now, so that breakpoints set before configurationDone are verified at once.
    const job = await this.buildJob(args);
    const output = this.output!;
    const preparer: StepPreparer | undefined =
      job.origin === 'workflow'
        ? new (await import('../job/workflowSteps.js')).WorkflowSteps(job, (text) => output.console(text))
        : undefined;
    this.breakpoints = new Breakpoints(
      job,
      () =>
        this.active?.runner.expressionContext() ?? { env: {}, matrix: {}, steps: {}, jobStatus: 'success' },
      (text) => output.console(text),
    );
    this.loaded = job;
    this.applyEarlyBreakpoints(job);
    // configurationDone, or the session ending first (finish() resolves `configuration` too).
    await this.configuration.promise;
    if (this.finishing) throw new RequestError(ErrorId.Cancelled, 'the session ended before the job started');
    const { relay, embedded } = await this.connectRelay(args, job);
    this.hearNotices(relay);
    if (this.finishing) {
      await relay.close();
      await embedded?.dispose();
      throw new RequestError(ErrorId.Cancelled, 'the session ended before the job started');
    }
    const timeout = args.timeout ?? job.workflow?.timeoutSeconds;
    const runner = new JobRunner({
      job,
      relay,
      ...(args.cwd !== undefined ? { cwd: args.cwd } : {}),
      env: args.env ?? {},
      stopOnEntry: args.stopOnEntry ?? true,
      noDebug: args.noDebug ?? false,
      lease: args.lease ?? false,
      ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
      output: (chunk, origin) => this.writeOutput(chunk, origin),
      pausePolicy: this.breakpoints,
      ...(preparer ? { preparer } : {}),
    });
    const source: DebugProtocol.Source = job.sourcePath
      ? { name: path.basename(job.sourcePath), path: job.sourcePath }
      : {
          name: `${job.name}.relay-job.yml`,
          sourceReference: JOB_SOURCE_REFERENCE,
          origin: 'relay-dap job listing',
        };
    const view = new JobView(runner, source, (line) => this.convertDebuggerLineToClient(line));
    this.wire(runner);
    this.active = { runner, view, relay, embedded, finished: Promise.resolve(0) };
    this.host.log(
      `launch: ${job.steps.length} step(s) through ${embedded ? 'an embedded relay' : relay.layout.root}${args.noDebug ? ' (noDebug)' : ''}`,
    );
    this.sendResponse(response);
    this.active.finished = runner.start();
  }

  private async attach(request: DebugProtocol.Request, response: DebugProtocol.Response): Promise<void> {
    // Loaded at the first launch or attach: `initialize` is answered without ajv.
    const { validateAttachArguments } = await import('./launchSchema.js');
    if (this.active || this.starting)
      throw new RequestError(ErrorId.WrongState, 'a job is already attached in this session');
    const args = validateAttachArguments(request.arguments);
    this.starting = true;
    this.trace ??= SessionTrace.open(args.trace, this.label, (line) => this.host.trace(line));
    this.trace?.record('from client', request);
    await this.configuration.promise;
    if (this.finishing) throw new RequestError(ErrorId.Cancelled, 'the session ended before it attached');
    const { RelayClient } = await import('../relay/client.js');
    const relay = await RelayClient.open({
      relayDir: args.relayDir,
      connectTimeoutMs: (args.connectTimeout ?? 10) * 1000,
    });
    this.hearNotices(relay);
    let running: string | undefined;
    try {
      await relay.ensureServer();
      const status = relay.status();
      running = status.running?.id;
      if (running === undefined) {
        throw new RequestError(
          ErrorId.WrongState,
          `nothing is running in ${relay.layout.root}${status.pending.length ? ` (${status.pending.length} queued)` : ''}: ` +
            'attach joins a running command; use launch to start one',
        );
      }
    } catch (error) {
      await relay.close();
      throw error;
    }
    const { job, preparer } = jobForAttachment(relay.layout.root, running);
    const runner = new JobRunner({
      job,
      relay,
      stopOnEntry: false,
      noDebug: false,
      output: (chunk, origin) => this.writeOutput(chunk, origin),
      preparer,
    });
    const source: DebugProtocol.Source = {
      name: 'attached.relay-job.yml',
      sourceReference: JOB_SOURCE_REFERENCE,
    };
    this.wire(runner);
    this.active = {
      runner,
      view: new JobView(runner, source, (line) => this.convertDebuggerLineToClient(line)),
      relay,
      embedded: undefined,
      finished: Promise.resolve(0),
    };
    this.host.log(`attach: following ${running} in ${relay.layout.root}`);
    this.sendResponse(response);
    this.active.finished = runner.start();
  }

  private async buildJob(args: LaunchArguments): Promise<JobDefinition> {
    if (args.command !== undefined) return jobFromCommand(args.command, args.cwd);
    if (args.steps !== undefined) return jobFromSteps(args.steps, args.cwd);
    // The YAML and workflow code loads only for a job file: start-up stays short.
    const { loadProgram } = await import('../job/jobFromProgram.js');
    try {
      return await loadProgram(args.program!, {
        ...(args.job !== undefined ? { job: args.job } : {}),
        ...(args.matrix !== undefined ? { matrix: args.matrix } : {}),
      });
    } catch (error) {
      throw new RequestError(ErrorId.InvalidJob, (error as Error).message);
    }
  }

  private isJobSource(source: DebugProtocol.Source | undefined, job: JobDefinition): boolean {
    if (!source) return false;
    if (job.sourcePath !== undefined)
      return source.path !== undefined && path.resolve(source.path) === job.sourcePath;
    return source.sourceReference === JOB_SOURCE_REFERENCE;
  }

  private async setBreakpoints(
    request: DebugProtocol.SetBreakpointsRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    const { source } = request.arguments;
    const specs: BreakpointSpec[] = (
      request.arguments.breakpoints ??
      request.arguments.lines?.map((line) => ({ line })) ??
      []
    ).map((bp) => ({ ...bp, line: this.convertClientLineToDebugger(bp.line) }));
    const job = this.loaded;
    let states: BreakpointState[];
    if (!job || !this.breakpoints) {
      const ids = specs.map(() => this.earlyIds++);
      this.early.lines ??= new Map();
      this.early.lines.set(source.path ?? `reference:${source.sourceReference ?? source.name ?? ''}`, {
        source,
        specs,
        ids,
      });
      states = specs.map((spec, i) => ({
        id: ids[i]!,
        verified: false,
        line: spec.line,
        message: 'verified once the job is loaded',
      }));
    } else if (!this.isJobSource(source, job)) {
      states = specs.map((spec) => ({
        id: this.earlyIds++,
        verified: false,
        line: spec.line,
        message: this.notInJob(job),
      }));
    } else {
      states = this.breakpoints.setLineBreakpoints(specs);
    }
    response.body = { breakpoints: states.map((state) => this.toBreakpoint(state, source)) };
    this.sendResponse(response);
  }

  private async setFunctionBreakpoints(
    request: DebugProtocol.SetFunctionBreakpointsRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    const specs = request.arguments.breakpoints ?? [];
    let states: BreakpointState[];
    if (!this.breakpoints) {
      const ids = specs.map(() => this.earlyIds++);
      this.early.functions = { specs, ids };
      states = ids.map((id) => ({ id, verified: false, message: 'verified once the job is loaded' }));
    } else {
      states = this.breakpoints.setFunctionBreakpoints(specs);
    }
    response.body = { breakpoints: states.map((state) => this.toBreakpoint(state, undefined)) };
    this.sendResponse(response);
  }

  private notInJob(job: JobDefinition): string {
    return `not in the job's source (${job.sourcePath ?? 'its listing'})`;
  }

  /** Breakpoints set before launch: verify them against the job now and tell the client. */
  private applyEarlyBreakpoints(job: JobDefinition): void {
    const breakpoints = this.breakpoints!;
    if (this.early.filters) breakpoints.setExceptionFilters(this.early.filters);
    const changed: { state: BreakpointState; id: number; source?: DebugProtocol.Source }[] = [];
    for (const lines of this.early.lines?.values() ?? []) {
      if (this.isJobSource(lines.source, job)) {
        breakpoints
          .setLineBreakpoints(lines.specs)
          .forEach((state, i) => changed.push({ state, id: lines.ids[i]!, source: lines.source }));
      } else {
        lines.specs.forEach((spec, i) =>
          changed.push({
            state: { id: lines.ids[i]!, verified: false, line: spec.line, message: this.notInJob(job) },
            id: lines.ids[i]!,
            source: lines.source,
          }),
        );
      }
    }
    const functions = this.early.functions;
    if (functions) {
      breakpoints
        .setFunctionBreakpoints(functions.specs)
        .forEach((state, i) => changed.push({ state, id: functions.ids[i]! }));
    }
    this.early = {};
    for (const { state, id, source } of changed) {
      breakpoints.renumber(state.id, id);
      this.sendEvent({
        seq: 0,
        type: 'event',
        event: 'breakpoint',
        body: { reason: 'changed', breakpoint: this.toBreakpoint({ ...state, id }, source) },
      });
    }
  }

  private toBreakpoint(
    state: BreakpointState,
    source: DebugProtocol.Source | undefined,
  ): DebugProtocol.Breakpoint {
    return {
      id: state.id,
      verified: state.verified,
      ...(state.line !== undefined ? { line: this.convertDebuggerLineToClient(state.line) } : {}),
      ...(state.message !== undefined ? { message: state.message } : {}),
      ...(source ? { source } : {}),
    };
  }

  private async exceptionInfo(response: DebugProtocol.Response): Promise<void> {
    const { runner } = this.job();
    const index = runner.pausedAfterIndex;
    const result = index === undefined ? undefined : runner.results[index];
    if (!result || index === undefined) {
      throw new RequestError(
        ErrorId.WrongState,
        'no step failure to describe: the job is not paused after a failed or cancelled step',
      );
    }
    const step = runner.job.steps[index]!;
    const what =
      result.outcome === 'cancelled'
        ? 'was cancelled'
        : result.timedOut
          ? 'timed out'
          : `failed with exit code ${result.exitCode ?? '?'}`;
    const lastLines = result.outputTail.split('\n').slice(-20).join('\n');
    response.body = {
      exceptionId:
        result.outcome === 'cancelled'
          ? 'cancelled'
          : result.timedOut
            ? 'timed out'
            : `exit ${result.exitCode ?? '?'}`,
      description: `${step.name} ${what}`,
      breakMode: 'always',
      details: {
        message: `${step.name} ${what}. Fix what you need from the console (!CMD), then Restart Frame to run it again, or Continue.`,
        typeName: result.outcome === 'cancelled' ? 'cancelled step' : 'failed step',
        stackTrace: lastLines,
      },
    } satisfies DebugProtocol.ExceptionInfoResponse['body'];
    this.sendResponse(response);
  }

  private async connectRelay(
    args: LaunchArguments,
    job: JobDefinition,
  ): Promise<{ relay: RelayClient; embedded: EmbeddedRelay | undefined }> {
    const { RelayClient } = await import('../relay/client.js');
    if (args.relayDir === undefined) {
      const { startEmbeddedRelay } = await import('../relay/embeddedRelay.js');
      const embedded = await startEmbeddedRelay({
        workdir: embeddedWorkdir(args, job),
        log: (line) => this.host.log(`embedded relay: ${line}`),
      });
      try {
        return { relay: await RelayClient.open({ relayDir: embedded.relayDir }), embedded };
      } catch (error) {
        await embedded.dispose();
        throw error;
      }
    }
    const relay = await RelayClient.open({
      relayDir: args.relayDir,
      connectTimeoutMs: (args.connectTimeout ?? 10) * 1000,
    });
    try {
      await relay.ensureServer();
    } catch (error) {
      await relay.close();
      throw error;
    }
    return { relay, embedded: undefined };
  }

  /** What the relay tells a waiting user (a full disk) goes to the console, as `run` puts it on stderr. */
  private hearNotices(relay: RelayClient): void {
    relay.onNotice((line) => this.output?.console(`relay-dap: ${line}`, 'important'));
  }

  private wire(runner: JobRunner): void {
    const output = this.output!;
    const total = runner.job.steps.length;
    runner.on('stopped', (stop) => {
      this.sendEvent({
        seq: 0,
        type: 'event',
        event: 'stopped',
        body: {
          reason: stop.reason,
          description: stop.description,
          threadId: THREAD_ID,
          allThreadsStopped: true,
          ...(stop.hitBreakpointIds ? { hitBreakpointIds: stop.hitBreakpointIds } : {}),
        },
      });
    });
    runner.on('stepStarted', ({ index, step }) => {
      output.stepHeader(`▶ step ${index + 1}/${total}: ${step.name}`);
      if (this.clientCaps.supportsProgressReporting) {
        const progressId = `step-${index}-${Date.now()}`;
        this.progressByStep.set(index, progressId);
        this.sendEvent({
          seq: 0,
          type: 'event',
          event: 'progressStart',
          body: { progressId, title: `step ${index + 1}/${total}: ${step.name}`, cancellable: true },
        });
      }
    });
    runner.on('stepEnded', (result) => {
      output.end(`step:${result.index}`);
      const step = runner.job.steps[result.index]!;
      output.console(
        `${result.outcome === 'success' ? '✓' : result.outcome === 'skipped' ? '–' : '✗'} ${step.name}: ${describeResult(result)}`,
      );
      const progressId = this.progressByStep.get(result.index);
      if (progressId) {
        this.progressByStep.delete(result.index);
        this.sendEvent({
          seq: 0,
          type: 'event',
          event: 'progressEnd',
          body: { progressId, message: describeResult(result) },
        });
      }
    });
    runner.on('message', (message) => output.console(`relay-dap: ${message}`));
    runner.on('ended', ({ exitCode }) => {
      this.jobExitCode = exitCode;
      // While the session ends, finish() sends these once in-flight requests have settled.
      if (this.finishing) return;
      // The relay is released before `exited`: a client may kill the adapter as soon as it
      // reads `exited` (dap-mode does), and must not cut its cleanup short.
      // A `!CMD` still running (or queued) is let finish first: it needs the relay.
      void this.settleInflight(false)
        .then(() => this.release())
        .then(() => {
          if (!this.finishing) this.sendEnd(exitCode);
        });
    });
  }

  private sendEnd(exitCode: number): void {
    if (this.terminatedSent) return;
    this.terminatedSent = true;
    this.sendEvent({ seq: 0, type: 'event', event: 'exited', body: { exitCode } });
    this.sendEvent({ seq: 0, type: 'event', event: 'terminated' });
  }

  private writeOutput(chunk: Buffer, origin: OutputOrigin): Promise<void> | undefined {
    const key = origin.kind === 'step' ? `step:${origin.index}` : `console:${origin.id}`;
    return this.output?.write(key, chunk);
  }

  private async stackTrace(
    request: DebugProtocol.StackTraceRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    const frames = this.job().view.stackFrames();
    const start = request.arguments.startFrame ?? 0;
    const levels = request.arguments.levels || frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private async source(
    request: DebugProtocol.SourceRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    const { runner } = this.job();
    const reference = request.arguments.source?.sourceReference ?? request.arguments.sourceReference;
    const asked = request.arguments.source?.path;
    if (reference !== JOB_SOURCE_REFERENCE && !(asked && asked === runner.job.sourcePath)) {
      throw new RequestError(
        ErrorId.UnknownReference,
        `no source ${reference ?? asked}: relay-dap serves only the job's own listing`,
      );
    }
    response.body = { content: runner.job.sourceText, mimeType: 'text/yaml' };
    this.sendResponse(response);
  }

  private async evaluate(
    request: DebugProtocol.EvaluateRequest,
    response: DebugProtocol.Response,
    signal: AbortSignal,
  ): Promise<void> {
    const { expression, context, frameId } = request.arguments;
    const shell = /^\s*!/.test(expression) ? expression.replace(/^\s*!/, '') : undefined;
    if (shell !== undefined && (context === 'repl' || context === undefined)) {
      const { runner } = this.job();
      if (runner.state === 'ended')
        throw new RequestError(
          ErrorId.WrongState,
          'the job has ended and its relay is closed: shell commands run while a job lasts; start a new session to run more',
          false,
        );
      if (shell.trim() === '')
        throw new RequestError(ErrorId.Evaluate, 'type a shell command after !, e.g. !ls -la', false);
      if (runner.runningStepIndex !== undefined) {
        this.output?.console(
          'relay-dap: queued behind the running step (the relay runs one command at a time)',
        );
      }
      const outcome = await runner.runConsoleCommand(shell, signal);
      if (outcome.cancelled) throw new RequestError(ErrorId.Cancelled, 'cancelled', false);
      response.body = { result: `exit ${outcome.exitCode}`, variablesReference: 0 };
      this.sendResponse(response);
      return;
    }
    if (shell !== undefined) {
      // Hover and watch evaluate on their own (dap-mode's M-x dap-eval sends `hover`): running
      // shell text from there would run it without the user asking, so it is refused, with where to type it.
      throw new RequestError(
        ErrorId.Evaluate,
        `${expression.trim()}: shell commands run only from the debug console (this came as ${JSON.stringify(context)}): type it there (in Emacs: M-x dap-ui-repl)`,
        false,
      );
    }
    response.body = this.job().view.evaluate(expression, frameId);
    this.sendResponse(response);
  }

  private async cancelInflight(
    request: DebugProtocol.CancelRequest,
    response: DebugProtocol.Response,
  ): Promise<void> {
    const { requestId, progressId } = request.arguments ?? {};
    if (requestId !== undefined) this.inflight.get(requestId)?.abort.abort();
    if (progressId !== undefined && this.active) {
      for (const [index, id] of this.progressByStep) {
        if (id !== progressId) continue;
        this.output?.console(`relay-dap: cancelling step ${index + 1}: its progress was cancelled`);
        this.active.runner.cancelStep();
      }
    }
    this.sendResponse(response);
  }

  // ---- ending -----------------------------------------------------------------------------

  /**
   * End the session once: cancel the job if asked (and if it still runs), release the relay,
   * then send `exited` and `terminated` (a disconnect sends them after its response). Safe to
   * call from any request, the connection closing, or a signal.
   */
  finish(reason: string, terminateJob: boolean): Promise<void> {
    this.endReason ??= reason;
    this.finishing ??= this.doFinish(reason, terminateJob);
    this.configuration.resolve();
    return this.finishing;
  }

  private async doFinish(reason: string, terminateJob: boolean): Promise<void> {
    // Let a launch that is connecting see `finishing` and stop.
    await Promise.resolve();
    const active = this.active;
    if (active) {
      if (active.runner.state !== 'ended') {
        if (terminateJob || active.embedded) {
          if (!terminateJob)
            this.output?.console(
              'relay-dap: the embedded relay ends with the session, so the job is stopped too',
            );
          await active.runner.cancel(reason);
        } else {
          // Detach: the command goes on under its relay server; the session only stops watching.
          this.output?.console(
            `relay-dap: leaving the running command to the relay server in ${active.relay.layout.root}`,
          );
          this.detached = true;
          await active.relay.close();
        }
      }
      await active.finished.catch(() => undefined);
    }
    // Requests still in flight (a `!CMD`) are cancelled through the relay and answered (with
    // their last output) before `exited`/`terminated`, and before the disconnect's response.
    await this.settleInflight(true);
    // Cleanup before `exited`: a client may kill the adapter as soon as it reads it.
    await this.release();
    this.host.log(`session ended (${reason})`);
    if (!this.disconnecting) this.conclude();
  }

  /** Waits for the requests in flight (but the ending ones) to be answered, cancelling them if asked. */
  private async settleInflight(cancel: boolean): Promise<void> {
    const others = [...this.inflight.values()].filter((entry) => !ENDING_REQUESTS.has(entry.command));
    if (cancel) others.forEach((entry) => entry.abort.abort());
    await Promise.allSettled(others.map((entry) => entry.settled));
  }

  /** Closes the relay client and removes the embedded relay, once. */
  private release(): Promise<void> {
    const active = this.active;
    if (!active) return Promise.resolve();
    this.released ??= (async () => {
      await active.relay.close();
      await active.embedded?.dispose();
    })();
    return this.released;
  }

  /** The session's last words: `exited`, `terminated` (unless already sent), then the trace closes. */
  private conclude(): void {
    if (this.concluded) return;
    this.concluded = true;
    if (this.detached && !this.terminatedSent) {
      this.terminatedSent = true;
      this.sendEvent({ seq: 0, type: 'event', event: 'terminated' });
    } else if (this.active) this.sendEnd(this.jobExitCode ?? EXIT_CANCELLED);
    this.trace?.close();
  }
}
