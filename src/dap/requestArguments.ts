/**
 * The arguments a request must carry before its handler sees it (from the DAP specification):
 * a client that sends none, or the wrong kind, gets an error response naming the field —
 * not an internal error.
 */
import { ErrorId, RequestError } from './errors.js';

type Kind = 'number' | 'string' | 'object' | 'array' | 'boolean';

const REQUIRED: Readonly<Record<string, Readonly<Record<string, Kind>>>> = {
  setBreakpoints: { source: 'object' },
  // `source` or the older top-level `sourceReference`: either way, an arguments object.
  source: {},
  setFunctionBreakpoints: { breakpoints: 'array' },
  setExceptionBreakpoints: { filters: 'array' },
  continue: { threadId: 'number' },
  next: { threadId: 'number' },
  pause: { threadId: 'number' },
  stackTrace: { threadId: 'number' },
  scopes: { frameId: 'number' },
  variables: { variablesReference: 'number' },
  setVariable: { variablesReference: 'number', name: 'string', value: 'string' },
  evaluate: { expression: 'string' },
  exceptionInfo: { threadId: 'number' },
  restartFrame: { frameId: 'number' },
  gotoTargets: { source: 'object', line: 'number' },
  goto: { threadId: 'number', targetId: 'number' },
};

function kindOf(value: unknown): Kind | 'null' | 'undefined' | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const type = typeof value;
  return type === 'number' ||
    type === 'string' ||
    type === 'object' ||
    type === 'boolean' ||
    type === 'undefined'
    ? type
    : 'other';
}

export function checkRequestArguments(command: string, args: unknown): void {
  const required = REQUIRED[command];
  if (!required) return;
  if (kindOf(args) !== 'object') {
    throw new RequestError(
      ErrorId.InvalidArguments,
      `${command} needs arguments (${Object.keys(required).join(', ')})`,
      false,
    );
  }
  for (const [field, kind] of Object.entries(required)) {
    const actual = kindOf((args as Record<string, unknown>)[field]);
    if (actual !== kind) {
      throw new RequestError(
        ErrorId.InvalidArguments,
        `${command}: \`${field}\` must be ${kind === 'array' ? 'an array' : `a ${kind}`}, not ${actual}`,
        false,
      );
    }
  }
}
