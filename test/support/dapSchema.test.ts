import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  assertValidDapMessage,
  checkDapSchema,
  dapDefinitionFor,
  dapSchemaPath,
  dapSchemaStatus,
  schemaNote,
  validateDapMessage,
} from './dapSchema.js';

describe.skipIf(!dapSchemaStatus.available)(`DAP schema validation${schemaNote}`, () => {
  const initializeResponse = {
    seq: 1,
    type: 'response',
    request_seq: 1,
    command: 'initialize',
    success: true,
    body: { supportsConfigurationDoneRequest: true, supportsTerminateRequest: true },
  };

  it('accepts a valid initialize response', () => {
    expect(dapDefinitionFor(initializeResponse)).toBe('InitializeResponse');
    expect(validateDapMessage(initializeResponse)).toEqual([]);
    expect(() => assertValidDapMessage(initializeResponse)).not.toThrow();
  });

  it('rejects a stopped event without a reason', () => {
    const event = { seq: 2, type: 'event', event: 'stopped', body: { threadId: 1 } };
    expect(dapDefinitionFor(event)).toBe('StoppedEvent');
    const errors = validateDapMessage(event);
    expect(errors).toEqual([expect.stringMatching(/^\[StoppedEvent\] \/body .*required property 'reason'/)]);
    expect(() => assertValidDapMessage(event, 'after launch')).toThrow(
      /^after launch: invalid DAP message \(1 problem\):\n {2}- \[StoppedEvent\].*reason[^]*message: \{/,
    );
  });

  it('rejects an output event whose output is a number', () => {
    const event = { seq: 3, type: 'event', event: 'output', body: { category: 'stdout', output: 42 } };
    expect(validateDapMessage(event)).toEqual(['[OutputEvent] /body/output must be string']);
  });

  it('rejects a successful stackTrace response without a body', () => {
    const response = { seq: 4, type: 'response', request_seq: 3, command: 'stackTrace', success: true };
    expect(dapDefinitionFor(response)).toBe('StackTraceResponse');
    expect(validateDapMessage(response)).toEqual([expect.stringMatching(/required property 'body'/)]);
  });

  it('accepts an error response with a message', () => {
    const response = {
      seq: 5,
      type: 'response',
      request_seq: 4,
      command: 'stackTrace',
      success: false,
      message: 'notStopped',
      body: { error: { id: 1, format: 'the job is still running' } },
    };
    expect(dapDefinitionFor(response)).toBe('ErrorResponse');
    expect(validateDapMessage(response)).toEqual([]);
  });

  it('validates error responses against ErrorResponse, which requires a body', () => {
    // The official schema (and DebugProtocol.ErrorResponse) make `body` mandatory on failures;
    // @vscode/debugadapter's sendErrorResponse always sends one.
    const response = {
      seq: 5,
      type: 'response',
      request_seq: 4,
      command: 'next',
      success: false,
      message: 'x',
    };
    expect(validateDapMessage(response)).toEqual([expect.stringMatching(/^\[ErrorResponse\].*'body'/)]);
    const badError = { ...response, body: { error: { id: 'one', format: 'x' } } };
    expect(validateDapMessage(badError)).toEqual(['[ErrorResponse] /body/error/id must be integer']);
  });

  it('accepts an error response to an unknown command', () => {
    const response = {
      seq: 6,
      type: 'response',
      request_seq: 5,
      command: 'relayFlush',
      success: false,
      message: 'unrecognized request',
      body: { error: { id: 1014, format: 'unrecognized request', sendTelemetry: true } },
    };
    expect(validateDapMessage(response)).toEqual([]);
  });

  it('validates a successful response to an unknown command as a generic Response', () => {
    const response = {
      seq: 7,
      type: 'response',
      request_seq: 6,
      command: 'relayFlush',
      success: true,
      body: 1,
    };
    expect(dapDefinitionFor(response)).toBe('Response');
    expect(validateDapMessage(response)).toEqual([]);
    expect(validateDapMessage({ ...response, request_seq: 0 })).toEqual([
      '[Response] /request_seq must be >= 1',
    ]);
  });

  it('accepts an event of unknown name with a body as a generic Event', () => {
    const event = { seq: 8, type: 'event', event: 'relayStatus', body: { running: true } };
    expect(dapDefinitionFor(event)).toBe('Event');
    expect(validateDapMessage(event)).toEqual([]);
  });

  it('maps names by capitalising the first letter', () => {
    const event = (name: string) => ({ seq: 1, type: 'event', event: name });
    expect(dapDefinitionFor(event('exited'))).toBe('ExitedEvent');
    expect(dapDefinitionFor(event('progressStart'))).toBe('ProgressStartEvent');
    const response = {
      seq: 1,
      type: 'response',
      request_seq: 1,
      success: true,
      command: 'configurationDone',
    };
    expect(dapDefinitionFor(response)).toBe('ConfigurationDoneResponse');
    expect(dapDefinitionFor({ seq: 1, type: 'request', command: 'runInTerminal' })).toBe(
      'RunInTerminalRequest',
    );
    expect(dapDefinitionFor({ seq: 1, type: 'request', command: 'relayFlush' })).toBe('Request');
    // Names that capitalise onto a definition that is not a message of that kind fall back to the base.
    expect(dapDefinitionFor({ seq: 1, type: 'request', command: 'source' })).toBe('SourceRequest');
    expect(dapDefinitionFor({ seq: 1, type: 'event', event: 'protocolMessage' })).toBe('Event');
    expect(dapDefinitionFor({ seq: 1, type: 'event', event: 'error' })).toBe('Event');
  });

  it('validates requests, including their arguments', () => {
    const launch = { seq: 1, type: 'request', command: 'launch' };
    expect(validateDapMessage(launch)).toEqual([expect.stringMatching(/required property 'arguments'/)]);
    expect(validateDapMessage({ ...launch, arguments: { program: 'x', noDebug: true } })).toEqual([]);
    const runInTerminal = {
      seq: 2,
      type: 'request',
      command: 'runInTerminal',
      arguments: { cwd: '/tmp', args: ['bash'], env: { A: 'x', B: null, C: 3 } },
    };
    expect(validateDapMessage(runInTerminal)).toEqual([
      '[RunInTerminalRequest] /arguments/env/C must be string,null',
    ]);
  });

  it('checks the integer formats as ranges', () => {
    const stackTrace = {
      seq: 9,
      type: 'response',
      request_seq: 8,
      command: 'stackTrace',
      success: true,
      body: { stackFrames: [{ id: 1, name: 'main', line: -1, column: 0 }] },
    };
    expect(validateDapMessage(stackTrace)).toEqual([
      '[StackTraceResponse] /body/stackFrames/0/line must match format "uint64"',
    ]);
    const frames = [{ id: 1, name: 'main', line: 1, column: 0 }];
    expect(validateDapMessage({ ...stackTrace, seq: 2 ** 31, body: { stackFrames: frames } })).toEqual([
      '[StackTraceResponse] /seq must match format "int32"',
    ]);
  });

  it('accepts a restart request carrying launch arguments (oneOf patched to anyOf)', () => {
    const restart = {
      seq: 3,
      type: 'request',
      command: 'restart',
      arguments: { arguments: { program: 'x' } },
    };
    expect(validateDapMessage(restart)).toEqual([]);
    expect(validateDapMessage({ ...restart, arguments: { arguments: 7 } })).not.toEqual([]);
  });

  it('reports messages that are not DAP messages at all', () => {
    expect(validateDapMessage('hello')).toEqual(['a DAP message must be a JSON object, got string "hello"']);
    expect(validateDapMessage({ seq: 1, type: 'notification' })).toEqual([
      '/type must be "request", "response" or "event", got string "notification"',
    ]);
    expect(validateDapMessage({ seq: 1, type: 'response', command: 'x', request_seq: 1 })).toEqual([
      "[Response] (message) must have required property 'success'",
    ]);
    expect(validateDapMessage({ type: 'event', event: 'initialized' })).toEqual([
      "[InitializedEvent] (message) must have required property 'seq'",
    ]);
  });

  it('compiles every definition of the schema', () => {
    const schema = JSON.parse(readFileSync(dapSchemaPath, 'utf8')) as {
      definitions: Record<string, unknown>;
    };
    const names = Object.keys(schema.definitions);
    expect(names.length).toBeGreaterThan(150);
    for (const name of names.filter((n) => /(Request|Event)$/.test(n) && !['Request', 'Event'].includes(n))) {
      const message = name.endsWith('Request')
        ? { seq: 1, type: 'request', command: name[0]!.toLowerCase() + name.slice(1, -'Request'.length) }
        : { seq: 1, type: 'event', event: name[0]!.toLowerCase() + name.slice(1, -'Event'.length) };
      expect(dapDefinitionFor(message), name).toBe(name);
      expect(() => validateDapMessage(message), name).not.toThrow();
    }
  });

  it('only puts annotations next to $ref, so draft-04 and Ajv 8 sibling semantics agree', () => {
    // Draft-04 ignores keywords beside $ref; Ajv 8 applies them. Only harmless ones may appear.
    const schema: unknown = JSON.parse(readFileSync(dapSchemaPath, 'utf8'));
    const siblings = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        const record = node as Record<string, unknown>;
        if ('$ref' in record) Object.keys(record).forEach((key) => key !== '$ref' && siblings.add(key));
        Object.values(record).forEach(walk);
      }
    };
    walk(schema);
    expect([...siblings]).toEqual(['description']);
  });
});

describe('DAP schema loading', () => {
  it('reports a missing schema file by path', () => {
    const missing = '/nonexistent/shared/dap/debugAdapterProtocol.json';
    const status = checkDapSchema(missing);
    expect(status.available).toBe(false);
    expect(status.available ? '' : status.reason).toMatch(
      /^DAP schema \/nonexistent\/shared\/dap\/debugAdapterProtocol\.json is missing/,
    );
  });

  it('reports a file that is not the schema', () => {
    const notJson = fileURLToPath(import.meta.url);
    const status = checkDapSchema(notJson);
    expect(status.available ? '' : status.reason).toContain(`DAP schema ${notJson} is not valid JSON`);
  });
});

describe.runIf(!dapSchemaStatus.available)('DAP schema unavailable', () => {
  it('says why and refuses to validate', () => {
    expect(dapSchemaStatus.available ? '' : dapSchemaStatus.reason).toContain(dapSchemaPath);
    expect(() => validateDapMessage({})).toThrow(/cannot validate DAP messages/);
  });
});
