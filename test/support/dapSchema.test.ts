import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import {
  assertValidDapMessage,
  checkDapSchema,
  dapDefinitionFor,
  dapSchema,
  dapSchemaPath,
  readOfficialDapSchema,
  validateDapMessage,
} from './dapSchema.js';
import { compareWithOfficial, keywordsBesideRef } from './dapSchemaAgreement.js';
import { generateDapSchema } from './dapSchemaSource.js';

/** A response message to `command`: `fields` add to (or override) seq 1 and request_seq 1. */
function responseTo(command: string, success: boolean, fields: Record<string, unknown> = {}) {
  return { seq: 1, type: 'response', request_seq: 1, command, success, ...fields };
}

describe('DAP schema validation', () => {
  const initializeResponse = responseTo('initialize', true, {
    body: { supportsConfigurationDoneRequest: true, supportsTerminateRequest: true },
  });

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
    const response = responseTo('stackTrace', true, { seq: 4, request_seq: 3 });
    expect(dapDefinitionFor(response)).toBe('StackTraceResponse');
    expect(validateDapMessage(response)).toEqual([expect.stringMatching(/required property 'body'/)]);
  });

  it('accepts an error response with a message', () => {
    const response = responseTo('stackTrace', false, {
      seq: 5,
      request_seq: 4,
      message: 'notStopped',
      body: { error: { id: 1, format: 'the job is still running' } },
    });
    expect(dapDefinitionFor(response)).toBe('ErrorResponse');
    expect(validateDapMessage(response)).toEqual([]);
  });

  it('validates error responses against ErrorResponse, which requires a body', () => {
    // The official schema (and DebugProtocol.ErrorResponse) make `body` mandatory on failures;
    // @vscode/debugadapter's sendErrorResponse always sends one.
    const response = responseTo('next', false, { seq: 5, request_seq: 4, message: 'x' });
    expect(validateDapMessage(response)).toEqual([expect.stringMatching(/^\[ErrorResponse\].*'body'/)]);
    const badError = { ...response, body: { error: { id: 'one', format: 'x' } } };
    expect(validateDapMessage(badError)).toEqual(['[ErrorResponse] /body/error/id must be integer']);
  });

  it('accepts an error response to an unknown command', () => {
    const response = responseTo('relayFlush', false, {
      seq: 6,
      request_seq: 5,
      message: 'unrecognized request',
      body: { error: { id: 1014, format: 'unrecognized request', sendTelemetry: true } },
    });
    expect(validateDapMessage(response)).toEqual([]);
  });

  it('validates a successful response to an unknown command as a generic Response', () => {
    const response = responseTo('relayFlush', true, { seq: 7, request_seq: 6, body: 1 });
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
    const response = responseTo('configurationDone', true);
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
    const stackTrace = responseTo('stackTrace', true, {
      seq: 9,
      request_seq: 8,
      body: { stackFrames: [{ id: 1, name: 'main', line: -1, column: 0 }] },
    });
    expect(validateDapMessage(stackTrace)).toEqual([
      '[StackTraceResponse] /body/stackFrames/0/line must match format "uint64"',
    ]);
    const frames = [{ id: 1, name: 'main', line: 1, column: 0 }];
    expect(validateDapMessage({ ...stackTrace, seq: 2 ** 31, body: { stackFrames: frames } })).toEqual([
      '[StackTraceResponse] /seq must match format "int32"',
    ]);
  });

  it('accepts a restart request carrying launch arguments (either kind: anyOf, not oneOf)', () => {
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
    const names = Object.keys(dapSchema().definitions);
    expect(names.length).toBeGreaterThan(150);
    for (const name of names.filter((n) => /(Request|Event)$/.test(n) && !['Request', 'Event'].includes(n))) {
      const message = name.endsWith('Request')
        ? { seq: 1, type: 'request', command: name[0]!.toLowerCase() + name.slice(1, -'Request'.length) }
        : { seq: 1, type: 'event', event: name[0]!.toLowerCase() + name.slice(1, -'Event'.length) };
      expect(dapDefinitionFor(message), name).toBe(name);
      expect(() => validateDapMessage(message), name).not.toThrow();
    }
  });

  it('puts nothing next to $ref, so no draft’s sibling semantics matter', () => {
    // Draft-04 ignores keywords beside $ref; Ajv 8 applies them.
    expect(keywordsBesideRef(dapSchema())).toEqual([]);
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

describe('DAP schema derivation', () => {
  it('is from the declarations of the @vscode/debugprotocol version installed', () => {
    const schema = dapSchema();
    expect(schema.protocolVersion).toMatch(/^1\.\d+\.\d+$/);
    expect(schema.ancestors.StoppedEvent).toEqual(['Event', 'ProtocolMessage']);
    expect(schema.ancestors.InitializeResponse).toEqual(['Response', 'ProtocolMessage']);
  });

  it('names the declaration file and the next step when it cannot derive the schema', () => {
    expect(() => generateDapSchema('/nonexistent/debugProtocol.d.ts')).toThrow(
      /^cannot derive the DAP schema from \/nonexistent\/debugProtocol\.d\.ts: .*; reinstall the dev dependencies \(npm ci\)$/,
    );
  });
});

const official = readOfficialDapSchema(dapSchemaPath);

describe('the derived schema against the official JSON schema', () => {
  it.skipIf('reason' in official)(
    `same definitions, required properties and integer ranges${'reason' in official ? ` (skipped: ${official.reason})` : ''}`,
    () => {
      if ('reason' in official) return;
      const { failures, additions } = compareWithOfficial(
        dapSchema().definitions,
        official.schema.definitions,
      );
      // Listed, not failed: the JSON may be of a newer protocol version than the declarations.
      if (additions.length > 0)
        console.log(`in the JSON only (newer protocol):\n  ${additions.join('\n  ')}`);
      expect(failures).toEqual([]);
    },
  );
});

describe('comparing a derived schema with an official one', () => {
  const base = {
    type: 'object',
    properties: { seq: { type: 'integer', format: 'int32', minimum: 1 }, type: { type: 'string' } },
    required: ['seq', 'type'],
  };
  const official = {
    ProtocolMessage: base,
    Event: {
      allOf: [
        { $ref: '#/definitions/ProtocolMessage' },
        {
          type: 'object',
          properties: {
            event: { type: 'string' },
            body: { type: 'object', properties: { line: { type: 'integer' } } },
          },
          required: ['event'],
        },
      ],
    },
    Thread: { type: 'object', properties: { id: { type: 'integer' } } },
  };

  it('finds nothing between equal schemas; lists what only the official one has', () => {
    const derived = {
      Event: {
        type: 'object',
        properties: {
          ...base.properties,
          event: { type: 'string' },
          body: { type: 'object', properties: {} },
        },
        required: ['event', 'seq', 'type'],
      },
    };
    expect(compareWithOfficial(derived, official)).toEqual({
      failures: [],
      additions: ['Event.body.line (optional)', 'ProtocolMessage (definition)', 'Thread (definition)'],
    });
  });

  it('names each difference that changes what validates, by place', () => {
    const derived = {
      Event: {
        type: 'object',
        properties: {
          seq: { type: 'integer', format: 'uint32' },
          type: { type: 'string', enum: ['event'] },
          event: { type: 'string' },
          body: { type: 'object', properties: { line: { type: 'integer' }, column: { type: 'integer' } } },
        },
        required: ['event', 'seq'],
      },
      Frame: { type: 'object' },
    };
    expect(compareWithOfficial(derived, official).failures).toEqual([
      'Event.seq: format is "uint32" here, "int32" in the JSON',
      'Event.seq: minimum is undefined here, 1 in the JSON',
      'Event.type: optional here, required in the JSON',
      'Event.type: enum is ["event"] here, undefined in the JSON',
      'Event.body.column: missing from the JSON',
      'Frame: missing from the JSON',
    ]);
  });
});
