/**
 * The debug session: DAP requests in, events out, and nothing else. The job — its relay,
 * files and processes — is behind the Job API (job/jobSession.ts); the texts a job shows are
 * in the view (jobView.ts).
 *
 * Concurrency model. Messages arrive one at a time from the connection; each request is
 * handled by an async handler that may wait (launch waits for configurationDone and for a
 * relay server; evaluate `!CMD` waits for its command), so several requests can be in
 * flight at once and their responses may come out of order, which DAP allows. Every
 * handler runs inside `handle()` (requestHandling.ts), which guarantees exactly one response per request —
 * an error response if the handler throws — and keeps the request cancellable by `cancel`.
 * The job loop runs beside all this in the JobRunner; the session only reacts to its events.
 *
 * Ending. However the session ends — job finished, terminate, disconnect, the client's
 * connection closing, a signal to the adapter — `finish()` runs once: the job is cancelled
 * through the relay if it still runs, the Job API releases the relay client, the embedded
 * server and its temporary directory, then `exited` and `terminated` are sent — after the
 * response when a disconnect ends the session, so that the client reads its answer.
 */
import { BreakpointEvent, ExitedEvent, InitializedEvent, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXIT_CANCELLED, type JobRunner } from '../job/jobRunner.js';
import { JobSession, type JobRequest } from '../job/jobSession.js';
import type { WorkflowRun } from '../job/workflowRun.js';
import type { ChangedBreakpoint } from '../job/stagedBreakpoints.js';
import { StepTerminals } from '../job/stepTerminal.js';
import { capabilities, wholeStepsOnly } from './capabilities.js';
import { checkRunnable, debugTargetOf, shellTextOf } from './consoleCommands.js';
import { childPathMapping } from './childPathMapping.js';
import type { DebugCommandHost } from './debugCommandHost.js';
import { adapterTypeOf, debugServerOf, runDebugCommand } from './debugConsoleCommand.js';
import { ErrorId, RequestError } from './errors.js';
import { outputKey, THREAD_ID } from './jobEvents.js';
import { JobThreads, type ShownJob } from './jobThreads.js';
import { breakpointOf, isJobSource } from './jobView.js';
import { OutputChannel } from './outputChannel.js';
import { RequestHandlingSession, type Handler } from './requestHandling.js';
import type { SessionHost } from './sessionHost.js';
import { SessionTrace } from './sessionTrace.js';
import { openStepChildSession } from './stepChildSessions.js';
import { asksForTerminal, pasteInstructions, runInTerminalArguments } from './terminalRequest.js';

/** How long a client may take to answer `!debug`'s startDebugging (it answers at once as a rule). */
const START_DEBUGGING_TIMEOUT_MS = 60_000;
export { THREAD_ID };
type Answer = DebugProtocol.Response;
type Request = DebugProtocol.Request;
type Traced = { trace?: boolean | string };
/** How long an editor may take to open a terminal (VS Code starts a shell first). */
const RUN_IN_TERMINAL_TIMEOUT_MS = 30_000;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

interface ActiveJob {
  run: WorkflowRun;
  threads: JobThreads;
  finished: Promise<number>;
}

export class RelayDebugSession extends RequestHandlingSession {
  private clientCaps: DebugProtocol.InitializeRequestArguments = { adapterID: 'relay' };
  private readonly configuration = deferred();
  private readonly jobs: JobSession<DebugProtocol.Source>;
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
  private jobExitCode: number | undefined;
  /** Terminals opened with `!!`: they close when the session ends. */
  private readonly terminals = new StepTerminals();
  /** The launch configuration's `type`: `!debug`'s child session is started with the same. */
  private adapterType = 'relay';
  /** The launch's or attach's `localRoot`: where its `cwd` is on the editor's side. */
  private localRoot: string | undefined;
  /** The launch configuration's `debugServer`, if any: `!debug`'s child session is asked for on it too. */
  private debugServer: number | undefined;

  /**
   * Every request relay-dap answers, with what allows a client to send it: required by DAP,
   * or the capability `initialize` announces (as delve's dispatcher lists them).
   */
  // Methods, called as handler.call(this) by handle().
  /* eslint-disable @typescript-eslint/unbound-method */
  protected readonly handlers: Record<string, Handler<this> | undefined> = {
    initialize: this.onInitialize, // required
    configurationDone: this.onConfigurationDone, // supportsConfigurationDoneRequest
    launch: this.onLaunch, // required
    attach: this.onAttach, // required
    disconnect: this.onDisconnect, // required (supportTerminateDebuggee)
    terminate: this.onTerminate, // supportsTerminateRequest
    setBreakpoints: this.onSetBreakpoints, // required (supportsConditionalBreakpoints, …HitConditional…, LogPoints)
    setFunctionBreakpoints: this.onSetFunctionBreakpoints, // supportsFunctionBreakpoints
    setExceptionBreakpoints: this.onSetExceptionBreakpoints, // exceptionBreakpointFilters
    exceptionInfo: this.onExceptionInfo, // supportsExceptionInfoRequest
    threads: this.onThreads, // required
    stackTrace: this.onStackTrace, // required
    scopes: this.onScopes, // required
    variables: this.onVariables, // required
    setVariable: this.onSetVariable, // supportsSetVariable
    source: this.onSource, // required
    continue: this.onContinue, // required
    next: this.onNext, // required
    pause: this.onPause, // required
    stepIn: this.onStepIn, // required
    stepOut: this.onStepOut, // required
    stepBack: this.onWholeStepsOnly, // supportsStepBack: false (refused)
    reverseContinue: this.onWholeStepsOnly, // supportsStepBack: false (refused)
    restartFrame: this.onRestartFrame, // supportsRestartFrame
    gotoTargets: this.onGotoTargets, // supportsGotoTargetsRequest
    goto: this.onGoto, // supportsGotoTargetsRequest
    evaluate: this.onEvaluate, // required (supportsEvaluateForHovers)
    cancel: this.onCancel, // supportsCancelRequest
  };
  /* eslint-enable @typescript-eslint/unbound-method */

  constructor(
    private readonly host: SessionHost,
    private readonly label: string,
  ) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.jobs = new JobSession<DebugProtocol.Source>(
      {
        log: (line) => this.log(line),
        console: (line, category) => this.output?.console(line, category),
        output: (chunk, origin) => this.output?.write(outputKey(origin), chunk),
      },
      isJobSource,
    );
  }

  private readonly toClientLine = (line: number): number => this.convertDebuggerLineToClient(line);

  /** The adapter's log (a file, stderr) shows no secret either. */
  protected log(line: string): void {
    this.host.log(this.mask(line));
  }

  protected override mask(text: string): string {
    return this.jobs.masker.mask(text);
  }

  /** The answer to a request that needs a session that has ended. */
  protected sessionEnded(): RequestError {
    return new RequestError(
      ErrorId.SessionEnded,
      `the session has ended (${this.endReason ?? 'it is ending'}): start a new debug session to run the job again`,
    );
  }

  /** The job that runs now (a run of several jobs runs one at a time). */
  private job(): ShownJob {
    const current = this.run().threads.current;
    if (current) return current;
    throw new RequestError(ErrorId.NoJob, 'no job has started yet: wait for the first stop', false);
  }

  private run(): ActiveJob {
    if (this.finishing) throw this.sessionEnded();
    if (this.active) return this.active;
    throw new RequestError(
      ErrorId.NoJob,
      'no job yet: this request needs a launched job (send launch first)',
      false,
    );
  }

  // ---- handlers: starting -----------------------------------------------------------------

  private async onInitialize(args: unknown, _: Answer, __: AbortSignal, request: Request): Promise<void> {
    this.clientCaps = (args as DebugProtocol.InitializeRequestArguments | undefined) ?? {
      adapterID: 'relay',
    };
    this.initializeThroughLibrary(request, this.clientCaps);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = capabilities();
    const host = this.host;
    const transport = {
      sendEvent: (event: DebugProtocol.Event) => this.sendEvent(event),
      get congested() {
        return host.congested;
      },
      drained: () => host.drained(),
    };
    this.output = new OutputChannel(
      transport,
      this.clientCaps.supportsANSIStyling === true,
      this.jobs.masker,
    );
    // No `initialized` yet: it comes with launch or attach (startJob). A connection whose launch
    // carries `__relayChild` becomes a `!debug` child, where debugpy sends its own: one sent
    // here as well would have the client configure twice (VS Code ends a session whose second
    // configurationDone debugpy refuses). Every client sends launch without waiting for it.
    this.sendResponse(response);
  }

  private async onConfigurationDone(_args: unknown, response: Answer): Promise<void> {
    this.configuration.resolve();
    this.sendResponse(response);
  }

  private async onLaunch(args: unknown, response: Answer, _: AbortSignal, request: Request): Promise<void> {
    await this.onStart('launch', args, response, request);
  }

  private async onAttach(args: unknown, response: Answer, _: AbortSignal, request: Request): Promise<void> {
    await this.onStart('attach', args, response, request);
  }

  private async onStart(
    kind: 'launch' | 'attach',
    args: unknown,
    response: Answer,
    request: Request,
  ): Promise<void> {
    // Loaded at the first launch or attach: `initialize` is answered without ajv.
    const { validateLaunchArguments, validateAttachArguments } = await import('./launchSchema.js');
    this.refuseSecondJob(kind === 'launch' ? 'launched' : 'attached');
    this.adapterType = adapterTypeOf(args);
    this.debugServer = debugServerOf(args);
    const start =
      kind === 'launch'
        ? { kind, ...validateLaunchArguments(args) }
        : { kind, ...validateAttachArguments(args) };
    this.localRoot = start.localRoot;
    await this.startJob(request, response, start);
  }

  private refuseSecondJob(verb: 'launched' | 'attached'): void {
    if (this.active || this.starting)
      throw new RequestError(ErrorId.WrongState, `a job is already ${verb} in this session`);
  }

  /** Launch and attach: read the job, wait for configurationDone, open it, answer, run it. */
  private async startJob(request: Request, response: Answer, job: JobRequest & Traced): Promise<void> {
    this.starting = true;
    this.trace ??= SessionTrace.open(job.trace, this.label, this.host, this.jobs.masker);
    this.trace?.record('from client', request);
    // A launch's job is read now, so that breakpoints set before configurationDone are verified at once.
    this.announceBreakpoints(await this.jobs.load(job));
    // Ready for configuration (see initializeRequest): breakpoints set from here on are checked at once.
    this.sendEvent(new InitializedEvent());
    // configurationDone, or the session ending first (finish() resolves `configuration` too).
    await this.configuration.promise;
    const tooLate = `the session ended before ${job.kind === 'launch' ? 'the job started' : 'it attached'}`;
    if (this.finishing) throw new RequestError(ErrorId.Cancelled, tooLate);
    if (this.jobs.skipped !== undefined) {
      // A job-level `if:` that is false: nothing to open or run; the run goes on (exit 0).
      this.sendResponse(response);
      this.output!.console(this.jobs.skipped);
      return this.sendEnd(0);
    }
    const run = await this.jobs.open(job);
    if (this.finishing) {
      await this.jobs.dispose();
      throw new RequestError(ErrorId.Cancelled, tooLate);
    }
    const progressBars = this.clientCaps.supportsProgressReporting === true;
    const send = (event: DebugProtocol.Event): void => this.sendEvent(event);
    const mask = (text: string): string => this.mask(text);
    const threads = new JobThreads(run, this.output!, send, this.toClientLine, progressBars, mask);
    this.wire(run);
    this.active = { run, threads, finished: Promise.resolve(0) };
    this.log(this.jobs.describe(job));
    this.sendResponse(response);
    this.active.finished = run.start();
  }

  /** Breakpoints set before the job was loaded, as they stand now: the client hears of each. */
  private announceBreakpoints(changed: ChangedBreakpoint<DebugProtocol.Source>[]): void {
    for (const { state, source } of changed)
      this.sendEvent(new BreakpointEvent('changed', breakpointOf(state, source, this.toClientLine)));
  }

  /** The session's own part of a run's events: its end ends the session. */
  private wire(run: WorkflowRun): void {
    // Each Python process of a step under the Python debugger: a child session.
    run.on('jobStarted', ({ runner }) =>
      runner.on('debuggedProcess', (process) => {
        void openStepChildSession(process, this.debugCommandHost(runner));
      }),
    );
    run.on('ended', ({ exitCode }) => {
      this.jobExitCode = exitCode;
      // While the session ends, finish() sends these once in-flight requests have settled.
      if (this.finishing) return;
      // The relay is released before `exited`: a client may kill the adapter as soon as it
      // reads `exited` (dap-mode does), and must not cut its cleanup short.
      // A `!CMD` still running (or queued) is let finish first: it needs the relay.
      void this.settleInflight(false)
        .then(() => this.jobs.dispose())
        .then(() => {
          if (!this.finishing) this.sendEnd(exitCode);
        });
    });
  }

  // ---- handlers: breakpoints --------------------------------------------------------------

  private async onSetBreakpoints(
    args: DebugProtocol.SetBreakpointsArguments,
    response: Answer,
  ): Promise<void> {
    const specs = (args.breakpoints ?? args.lines?.map((line) => ({ line })) ?? []).map((bp) => ({
      ...bp,
      line: this.convertClientLineToDebugger(bp.line),
    }));
    const states = this.jobs.breakpoints.setLineBreakpoints(args.source, specs);
    response.body = {
      breakpoints: states.map((state) => breakpointOf(state, args.source, this.toClientLine)),
    };
    this.sendResponse(response);
  }

  private async onSetFunctionBreakpoints(
    args: DebugProtocol.SetFunctionBreakpointsArguments,
    response: Answer,
  ): Promise<void> {
    const states = this.jobs.breakpoints.setFunctionBreakpoints(args.breakpoints ?? []);
    response.body = { breakpoints: states.map((state) => breakpointOf(state, undefined, this.toClientLine)) };
    this.sendResponse(response);
  }

  private async onSetExceptionBreakpoints(
    args: DebugProtocol.SetExceptionBreakpointsArguments,
    response: Answer,
  ): Promise<void> {
    this.jobs.breakpoints.setExceptionFilters(args.filters ?? []);
    this.sendResponse(response);
  }

  private async onExceptionInfo(args: DebugProtocol.ExceptionInfoArguments, response: Answer): Promise<void> {
    response.body = this.run().threads.ofThread(args.threadId).view.exceptionInfo();
    this.sendResponse(response);
  }

  // ---- handlers: inspecting ---------------------------------------------------------------

  private async onThreads(_args: unknown, response: Answer): Promise<void> {
    response.body = { threads: this.active?.threads.threads() ?? [] };
    this.sendResponse(response);
  }

  private async onStackTrace(args: DebugProtocol.StackTraceArguments, response: Answer): Promise<void> {
    const frames = this.run().threads.ofThread(args.threadId).view.stackFrames();
    const start = args.startFrame ?? 0;
    const levels = args.levels || frames.length;
    response.body = { stackFrames: frames.slice(start, start + levels), totalFrames: frames.length };
    this.sendResponse(response);
  }

  private async onScopes(args: DebugProtocol.ScopesArguments, response: Answer): Promise<void> {
    response.body = { scopes: this.run().threads.ofId(args.frameId).view.scopes(args.frameId) };
    this.sendResponse(response);
  }

  private async onVariables(args: DebugProtocol.VariablesArguments, response: Answer): Promise<void> {
    const { view } = this.run().threads.ofId(args.variablesReference);
    response.body = { variables: view.variables(args.variablesReference) };
    this.sendResponse(response);
  }

  private async onSetVariable(args: DebugProtocol.SetVariableArguments, response: Answer): Promise<void> {
    const { view } = this.run().threads.ofId(args.variablesReference);
    response.body = view.setVariable(args.variablesReference, args.name, args.value);
    this.sendResponse(response);
  }

  private async onSource(args: DebugProtocol.SourceArguments, response: Answer): Promise<void> {
    response.body = this.job().view.sourceContent(
      args.source?.sourceReference ?? args.sourceReference,
      args.source?.path,
    );
    this.sendResponse(response);
  }

  // ---- handlers: running ------------------------------------------------------------------

  private async onContinue(_args: unknown, response: Answer): Promise<void> {
    this.job().runner.continue();
    response.body = { allThreadsContinued: true };
    this.sendResponse(response);
  }

  private async onNext(_args: unknown, response: Answer): Promise<void> {
    if (!this.job().runner.next()) {
      throw new RequestError(
        ErrorId.WrongState,
        'the job is not paused: Next runs one step from a pause (use Pause first)',
      );
    }
    this.sendResponse(response);
  }

  private async onPause(_args: unknown, response: Answer): Promise<void> {
    const { runner } = this.job();
    runner.pause();
    this.sendResponse(response);
    if (runner.state === 'running')
      this.output?.console('relay-dap: the job pauses before its next step, once the running step ends');
  }

  /** Step Into: as Next, but into the steps of the action a `uses:` step runs (a composite's). */
  private async onStepIn(_args: unknown, response: Answer): Promise<void> {
    if (!this.job().runner.stepIn()) {
      throw new RequestError(ErrorId.WrongState, 'the job is not paused: Step Into works from a pause');
    }
    this.sendResponse(response);
  }

  /** Step Out: run the rest of the action the job is inside, and pause after it. */
  private async onStepOut(_args: unknown, response: Answer): Promise<void> {
    if (!this.job().runner.stepOut()) {
      throw new RequestError(ErrorId.WrongState, 'the job is not paused: Step Out works from a pause');
    }
    this.sendResponse(response);
  }

  /** Step Back, Reverse Continue: a finished step cannot be undone. */
  private async onWholeStepsOnly(_: unknown, __: Answer, ___: AbortSignal, request: Request): Promise<void> {
    throw new RequestError(ErrorId.Unsupported, wholeStepsOnly(request.command));
  }

  private async onRestartFrame(args: DebugProtocol.RestartFrameArguments, response: Answer): Promise<void> {
    const { runner, view } = this.run().threads.ofId(args.frameId);
    if (!runner.goto(view.stepOfFrame(args.frameId), 'restart')) {
      throw new RequestError(
        ErrorId.WrongState,
        'Restart Frame works while the job is paused (between steps)',
      );
    }
    this.sendResponse(response);
  }

  private async onGotoTargets(args: DebugProtocol.GotoTargetsArguments, response: Answer): Promise<void> {
    const asked = this.convertClientLineToDebugger(args.line);
    // In a run of several jobs, Go To moves within the job that runs now, never into another.
    const current = this.active?.threads.current?.runner.job;
    const step = current
      ? current.steps.find((each) => asked >= each.location.line && asked <= each.location.endLine)
      : this.jobs.breakpoints.stepAtLine(asked);
    const line = step && this.convertDebuggerLineToClient(step.location.line);
    response.body = { targets: step ? [{ id: step.index + 1, label: step.name, line: line! }] : [] };
    this.sendResponse(response);
  }

  private async onGoto(args: DebugProtocol.GotoArguments, response: Answer): Promise<void> {
    if (!this.job().runner.goto(args.targetId - 1, 'goto')) {
      throw new RequestError(
        ErrorId.WrongState,
        `cannot go to target ${args.targetId}: the job must be paused, and the target must come from gotoTargets`,
      );
    }
    this.sendResponse(response);
  }

  private async onEvaluate(args: DebugProtocol.EvaluateArguments, response: Answer, signal: AbortSignal) {
    const shell = shellTextOf(args.expression, args.context);
    if (shell === undefined) {
      const shown = args.frameId === undefined ? this.job() : this.run().threads.ofId(args.frameId);
      response.body = shown.view.evaluate(args.expression, args.frameId);
      return this.sendResponse(response);
    }
    const { runner } = this.job();
    checkRunnable(shell, runner);
    if (asksForTerminal(shell)) return this.openTerminal(runner, response, signal);
    const debugTarget = debugTargetOf(shell);
    if (debugTarget) {
      const outcome = await runDebugCommand(debugTarget, this.debugCommandHost(runner), signal).catch(
        (error: Error) => {
          throw new RequestError(ErrorId.Evaluate, error.message, false);
        },
      );
      if (outcome.cancelled) throw new RequestError(ErrorId.Cancelled, 'cancelled', false);
      response.body = { result: `exit ${outcome.exitCode}`, variablesReference: 0 };
      return this.sendResponse(response);
    }
    if (runner.runningStepIndex !== undefined)
      this.output?.console(
        'relay-dap: queued behind the running step (the relay runs one command at a time)',
      );
    const outcome = await runner.runConsoleCommand(shell, signal);
    if (outcome.cancelled) throw new RequestError(ErrorId.Cancelled, 'cancelled', false);
    response.body = { result: `exit ${outcome.exitCode}`, variablesReference: 0 };
    this.sendResponse(response);
  }

  /**
   * `!!`: a terminal where the next step would run, in the editor (runInTerminal), or the
   * command line to paste where the client cannot open one.
   */
  private async openTerminal(runner: JobRunner, response: Answer, signal: AbortSignal): Promise<void> {
    const cannot = await this.terminals.cannotStart(runner);
    if (cannot !== undefined) {
      this.output?.console(`relay-dap: no terminal: ${cannot}`);
      throw new RequestError(ErrorId.Evaluate, `no terminal: ${cannot}`, false);
    }
    const terminal = this.terminals.open(runner);
    if (this.clientCaps.supportsRunInTerminalRequest !== true) {
      for (const line of pasteInstructions(terminal, (value) => this.mask(value) !== value))
        this.output?.console(line);
      response.body = { result: 'see the command line above', variablesReference: 0 };
      return this.sendResponse(response);
    }
    // The session ending (or a cancel) answers at once; a terminal the editor opens after that
    // finds the session's lease gone and closes.
    const cancelled = new Promise<undefined>((resolve) =>
      signal.addEventListener('abort', () => resolve(undefined), { once: true }),
    );
    const answer = (await Promise.race([
      this.reverseRequest(
        'runInTerminal',
        runInTerminalArguments(terminal, runner.job.name),
        RUN_IN_TERMINAL_TIMEOUT_MS,
      ),
      cancelled,
    ])) as DebugProtocol.RunInTerminalResponse | undefined;
    if (answer === undefined) throw new RequestError(ErrorId.Cancelled, 'cancelled', false);
    if (!answer.success) {
      const reason = answer.message || 'no reason given';
      this.output?.console(
        `relay-dap: the editor did not open the terminal (runInTerminal: ${reason}); run it yourself instead:`,
      );
      for (const line of pasteInstructions(terminal, (value) => this.mask(value) !== value).slice(1))
        this.output?.console(line);
      throw new RequestError(ErrorId.Evaluate, `the editor did not open a terminal: ${reason}`, false);
    }
    const pid = answer.body?.shellProcessId ?? answer.body?.processId;
    response.body = {
      result: `terminal opened${pid !== undefined ? ` (process ${pid})` : ''}: it closes when this session ends`,
      variablesReference: 0,
    };
    this.sendResponse(response);
  }

  /** What `!debug` needs from the session: the relay, the console, `startDebugging`. */
  private debugCommandHost(runner: JobRunner): DebugCommandHost {
    return {
      runProgram: (text, debug, signal) => runner.runConsoleProgram(text, debug, signal),
      openRelayChannel: (request) => runner.openChannel(request),
      mask: (text) => this.mask(text),
      clientCaps: this.clientCaps,
      adapterType: this.adapterType,
      debugServer: this.debugServer,
      console: (line) => this.output?.console(line),
      log: (line) => this.log(line),
      // A client that never answers is taken as a refusal: the process runs on undebugged, nothing waits.
      startDebugging: (args) =>
        this.reverseRequest('startDebugging', args, START_DEBUGGING_TIMEOUT_MS).then(
          (answer) => answer.success,
        ),
      pathMapping: (farCwd, step) =>
        childPathMapping(this.localRoot, farCwd, runner.directoryFromLaunch(step)),
    };
  }

  private async onCancel(args: DebugProtocol.CancelArguments | undefined, response: Answer): Promise<void> {
    const { requestId, progressId } = args ?? {};
    if (requestId !== undefined) this.cancelRequestInFlight(requestId);
    if (progressId !== undefined)
      this.active?.threads.current?.events.cancelProgress(progressId, this.output);
    this.sendResponse(response);
  }

  // ---- ending -----------------------------------------------------------------------------

  private async onTerminate(_args: unknown, response: Answer): Promise<void> {
    this.sendResponse(response);
    await this.finish('terminate request', true);
  }

  private async onDisconnect(
    args: DebugProtocol.DisconnectArguments | undefined,
    response: Answer,
  ): Promise<void> {
    // launch: the job is ours to end; attach: it belongs to whoever started it.
    const attached = this.active?.threads.current?.runner.job.origin === 'attach';
    // The answer comes before `exited`/`terminated`: nvim-dap closes a session when
    // `terminated` arrives and dap-mode kills the adapter on `exited`, so a response sent
    // after them is never read (as delve: response, then terminated).
    this.disconnecting = true;
    await this.finish('disconnect request', args?.terminateDebuggee ?? !attached);
    this.sendResponse(response);
    this.conclude();
    this.host.ended();
  }

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
      if (!active.run.ended) {
        if (terminateJob || this.jobs.embedded) {
          if (!terminateJob)
            this.output?.console(
              'relay-dap: the embedded relay ends with the session, so the job is stopped too',
            );
          await active.run.cancel(reason);
        } else {
          // Detach: the command goes on under its relay server; the session only stops watching.
          this.detached = true;
          await this.jobs.detach();
        }
      }
      await active.finished.catch(() => undefined);
    }
    // Requests still in flight (a `!CMD`) are cancelled through the relay and answered (with
    // their last output) before `exited`/`terminated`, and before the disconnect's response.
    await this.settleInflight(true);
    this.terminals.close();
    // Cleanup before `exited`: a client may kill the adapter as soon as it reads it.
    await this.jobs.dispose();
    this.log(`session ended (${reason})`);
    if (!this.disconnecting) this.conclude();
  }

  private sendEnd(exitCode: number | undefined): void {
    if (this.terminatedSent) return;
    this.terminatedSent = true;
    if (exitCode !== undefined) this.sendEvent(new ExitedEvent(exitCode));
    this.sendEvent(new TerminatedEvent());
  }

  /** The session's last words: `exited`, `terminated` (unless already sent), then the trace closes. */
  private conclude(): void {
    if (this.concluded) return;
    this.concluded = true;
    // A detached session sends `terminated` alone: the job goes on, so it has no exit code.
    if (this.detached) this.sendEnd(undefined);
    else if (this.active) this.sendEnd(this.jobExitCode ?? EXIT_CANCELLED);
    this.trace?.close();
  }
}
