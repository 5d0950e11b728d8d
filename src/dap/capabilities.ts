/**
 * What relay-dap tells a client in its `initialize` answer. The session's handler table names,
 * for each request, the capability here that lets a client send it; stepping backwards is
 * answered here too, with what to use instead.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXCEPTION_FILTERS } from '../job/exceptionFilters.js';

export function capabilities(): DebugProtocol.Capabilities {
  return {
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
}

const STEPPING_NAMES: Record<string, string> = {
  stepBack: 'Step Back',
  reverseContinue: 'Reverse Continue',
};

/** Why a stepping request finer than a step is refused, and what to use instead. */
export function wholeStepsOnly(command: string): string {
  const what = STEPPING_NAMES[command] ?? command;
  return `${what} is not available: relay-dap steps forward through whole steps. Use Next to run the step about to run and pause before the following one, Continue to run to the next breakpoint, or Restart Frame to run a step again.`;
}
