import { describe, expect, it } from 'vitest';
import {
  evaluate,
  evaluateCondition,
  evaluateTemplateValue,
  type ExpressionContext,
  ExpressionError,
  isTruthy,
  parseCondition,
  parseExpression,
  parseNumberText,
  parseTemplate,
  referencedContexts,
  substitute,
  toDisplayString,
  withLine,
} from '../../src/workflow/expressions.js';

function makeContext(overrides: Partial<ExpressionContext> = {}): ExpressionContext {
  return {
    env: { GREETING: 'hello', EMPTY: '', DEPLOY: 'yes', Mixed: 'case' },
    matrix: { os: 'ubuntu-latest', node: 20, experimental: false, versions: ['18', '20'], config: { a: 1 } },
    steps: {
      build: { outcome: 'success', conclusion: 'success', outputs: { version: '1.2.3', Notes: 'a\nb' } },
      flaky: { outcome: 'failure', conclusion: 'success', outputs: {} },
    },
    jobStatus: 'success',
    ...overrides,
  };
}

function run(expression: string, context: ExpressionContext = makeContext()): unknown {
  return evaluate(parseExpression(expression), context);
}

function parseError(expression: string): ExpressionError {
  try {
    parseExpression(expression);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`expected '${expression}' not to parse`);
}

describe('literals', () => {
  it.each([
    ['null', null],
    ['true', true],
    ['false', false],
    ['711', 711],
    ['-9.2', -9.2],
    ['0xff', 255],
    ['-2.99e-2', -0.0299],
    ['1e3', 1000],
    ['.5', 0.5],
    ["'Mona the Octocat'", 'Mona the Octocat'],
    ["'It''s open source!'", "It's open source!"],
    ["''''''", "''"],
    ["''", ''],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('%s', (text, expected) => {
    expect(run(text)).toEqual(expected);
  });

  it('parses numbers the way GitHub converts strings', () => {
    expect(parseNumberText('')).toBe(0);
    expect(parseNumberText('  42 ')).toBe(42);
    expect(parseNumberText('0x1F')).toBe(31);
    expect(parseNumberText('0o17')).toBe(15);
    expect(parseNumberText('0b11')).toBeNaN();
    expect(parseNumberText('1_000')).toBeNaN();
    expect(parseNumberText('-Infinity')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseNumberText('abc')).toBeNaN();
  });
});

describe('property access', () => {
  it('reads env, matrix and steps', () => {
    expect(run('env.GREETING')).toBe('hello');
    expect(run("env['GREETING']")).toBe('hello');
    expect(run('matrix.os')).toBe('ubuntu-latest');
    expect(run('matrix.versions[1]')).toBe('20');
    expect(run("matrix['versions'][0]")).toBe('18');
    expect(run('matrix.config.a')).toBe(1);
    expect(run('steps.build.outcome')).toBe('success');
    expect(run('steps.flaky.conclusion')).toBe('success');
    expect(run('steps.build.outputs.version')).toBe('1.2.3');
  });

  it('gives null for what is missing, like GitHub', () => {
    expect(run('env.MISSING')).toBeNull();
    expect(run('matrix.versions[5]')).toBeNull();
    expect(run('steps.nope.outcome')).toBeNull();
    expect(run('steps.build.outputs.nope')).toBeNull();
    expect(run('matrix.os.deeper')).toBeNull();
  });

  it('matches context names and dictionary keys case-insensitively, except env (Linux)', () => {
    expect(run('ENV.GREETING')).toBe('hello');
    expect(run('Matrix.OS')).toBe('ubuntu-latest');
    expect(run('steps.BUILD.Outputs.notes')).toBe('a\nb');
    expect(run('env.greeting')).toBeNull();
    expect(run('env.Mixed')).toBe('case');
  });

  it('allows access after a function call or a group', () => {
    expect(run('fromJSON(\'{"a":[1,2]}\').a[1]')).toBe(2);
    expect(run('(matrix).os')).toBe('ubuntu-latest');
  });
});

describe('operators', () => {
  it('negates with !', () => {
    expect(run('!true')).toBe(false);
    expect(run('!0')).toBe(true);
    expect(run("!''")).toBe(true);
    expect(run('!!env.GREETING')).toBe(true);
    expect(run('!matrix.experimental')).toBe(true);
  });

  it('returns the deciding operand from && and ||', () => {
    expect(run("env.EMPTY || 'fallback'")).toBe('fallback');
    expect(run("env.GREETING || 'fallback'")).toBe('hello');
    expect(run("env.GREETING && 'second'")).toBe('second');
    expect(run("env.EMPTY && 'second'")).toBe('');
    expect(run('0 || null')).toBeNull();
    expect(run("matrix.experimental && 'x'")).toBe(false);
    expect(run("1 && 'a' && 0 && 'b'")).toBe(0);
  });

  it('uses GitHub precedence: ! > comparison > equality > && > ||', () => {
    expect(run("env.DEPLOY == 'yes' && matrix.os == 'ubuntu-latest'")).toBe(true);
    expect(run('true || false && false')).toBe(true);
    expect(run('(true || false) && false')).toBe(false);
    expect(run('!false == true')).toBe(true);
    expect(run('1 < 2 == true')).toBe(true);
    expect(run("false && 'x' || 'y'")).toBe('y');
  });

  it('compares loosely with number coercion for mixed types', () => {
    expect(run("1 == '1'")).toBe(true);
    expect(run("'' == 0")).toBe(true);
    expect(run('null == 0')).toBe(true);
    expect(run('null == false')).toBe(true);
    expect(run('true == 1')).toBe(true);
    expect(run("true == '1'")).toBe(true);
    expect(run("'0x10' == 16")).toBe(true);
    expect(run("'abc' == 0")).toBe(false);
    expect(run("'abc' != 0")).toBe(true);
    expect(run('matrix.node == 20')).toBe(true);
    expect(run("matrix.node == '20'")).toBe(true);
  });

  it('compares strings case-insensitively', () => {
    expect(run("'Ubuntu-Latest' == matrix.os")).toBe(true);
    expect(run("'abc' < 'ABD'")).toBe(true);
    expect(run("'a' >= 'A'")).toBe(true);
    expect(run("'b' > 'A'")).toBe(true);
  });

  it('never finds NaN equal or ordered', () => {
    expect(run('NaN == NaN')).toBe(false);
    expect(run('NaN != NaN')).toBe(true);
    expect(run("'abc' < 1")).toBe(false);
    expect(run("'abc' >= 1")).toBe(false);
    expect(run('NaN <= NaN')).toBe(false);
  });

  it('compares objects and arrays by identity only', () => {
    expect(run('matrix.versions == matrix.versions')).toBe(true);
    expect(run("fromJSON('[1]') == fromJSON('[1]')")).toBe(false);
    expect(run('matrix.config == 0')).toBe(false);
    expect(run('matrix.config != null')).toBe(true);
  });

  it('orders numbers and booleans', () => {
    expect(run('1 < 2')).toBe(true);
    expect(run('2 <= 2')).toBe(true);
    expect(run("'10' > 9")).toBe(true);
    expect(run('false < true')).toBe(true);
    expect(run('true > false')).toBe(true);
    expect(run('null < 1')).toBe(true);
  });
});

describe('truthiness and display', () => {
  it.each([
    [false, false],
    [0, false],
    [-0, false],
    ['', false],
    [null, false],
    [Number.NaN, false],
    [true, true],
    [1, true],
    ['0', true],
    ['false', true],
    [[], true],
    [{}, true],
  ])('isTruthy(%j) is %s', (value, expected) => {
    expect(isTruthy(value)).toBe(expected);
  });

  it('converts values to strings as substitution does', () => {
    expect(toDisplayString(null)).toBe('');
    expect(toDisplayString(true)).toBe('true');
    expect(toDisplayString(false)).toBe('false');
    expect(toDisplayString(3)).toBe('3');
    expect(toDisplayString(-0)).toBe('0');
    expect(toDisplayString(0.1 + 0.2)).toBe('0.3');
    expect(toDisplayString(1.5)).toBe('1.5');
    expect(toDisplayString(Number.NaN)).toBe('NaN');
    expect(toDisplayString('x')).toBe('x');
    expect(toDisplayString(['a', 1])).toBe('[\n  "a",\n  1\n]');
    expect(toDisplayString({ a: true })).toBe('{\n  "a": true\n}');
  });
});

describe('functions', () => {
  it('contains: substring case-insensitively, or an array element loosely', () => {
    expect(run("contains('Hello world', 'llo')")).toBe(true);
    expect(run("contains('Hello world', 'LLO W')")).toBe(true);
    expect(run("contains('Hello world', 'xyz')")).toBe(false);
    expect(run("contains(matrix.versions, '20')")).toBe(true);
    expect(run('contains(matrix.versions, 20)')).toBe(true);
    expect(run("contains(matrix.versions, '16')")).toBe(false);
    expect(run('contains(fromJSON(\'["push", "pull_request"]\'), \'PUSH\')')).toBe(true);
    expect(run('contains(123, 2)')).toBe(true);
    expect(run("contains(matrix.config, 'a')")).toBe(false);
  });

  it('startsWith and endsWith ignore case', () => {
    expect(run("startsWith('Hello world', 'he')")).toBe(true);
    expect(run("startsWith('Hello world', 'world')")).toBe(false);
    expect(run("endsWith('Hello world', 'WORLD')")).toBe(true);
    expect(run("endsWith(matrix.os, 'latest')")).toBe(true);
    expect(run("startsWith(matrix.versions, '1')")).toBe(false);
  });

  it('format replaces {N} and unescapes doubled braces', () => {
    expect(run("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')")).toBe('Hello Mona the Octocat');
    expect(run("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')")).toBe(
      '{Hello Mona the Octocat!}',
    );
    expect(run("format('{0}-{0}', matrix.node)")).toBe('20-20');
    expect(run("format('{0}', null)")).toBe('');
    expect(() => run("format('{1}', 'a')")).toThrow(/references \{1\} but only 1 value/);
    expect(() => run("format('{x}', 'a')")).toThrow(/invalid format string/);
  });

  it('join joins arrays (default separator ,) and passes strings through', () => {
    expect(run('join(matrix.versions)')).toBe('18,20');
    expect(run("join(matrix.versions, ' | ')")).toBe('18 | 20');
    expect(run("join('abc', '-')")).toBe('abc');
  });

  it('toJSON pretty-prints and fromJSON parses', () => {
    expect(run('toJSON(matrix.config)')).toBe('{\n  "a": 1\n}');
    expect(run("toJSON('x')")).toBe('"x"');
    expect(run('toJSON(null)')).toBe('null');
    expect(run("fromJSON('true')")).toBe(true);
    expect(run('fromJSON(\'{"n": 2}\').n')).toBe(2);
    expect(() => run("fromJSON('not json')")).toThrow(ExpressionError);
    expect(() => run("fromJSON('not json')")).toThrow(
      /^fromJSON\(\): the value is not valid JSON \(.+\): 'not json' \(in expression `fromJSON\('not json'\)`\)$/,
    );
  });

  it('names functions case-insensitively', () => {
    expect(run("CONTAINS('abc', 'B')")).toBe(true);
    expect(run("toJson('a')")).toBe('"a"');
    expect(run('Success()')).toBe(true);
  });

  it('status functions follow the job status', () => {
    const failed = makeContext({ jobStatus: 'failure' });
    const cancelled = makeContext({ jobStatus: 'cancelled' });
    expect([run('success()'), run('failure()'), run('cancelled()'), run('always()')]).toEqual([
      true,
      false,
      false,
      true,
    ]);
    expect([run('success()', failed), run('failure()', failed), run('cancelled()', failed)]).toEqual([
      false,
      true,
      false,
    ]);
    expect([run('success()', cancelled), run('failure()', cancelled), run('cancelled()', cancelled)]).toEqual(
      [false, false, true],
    );
  });
});

describe('syntax errors', () => {
  it.each([
    ["env.A = 'x'", 7, "unexpected '='"],
    ["env.A == 'x", 10, 'unterminated string literal'],
    ['(env.A', 7, "')' was expected"],
    ['env.A &', 7, "unexpected '&'"],
    ['env.A ==', 9, 'unexpected end of expression'],
    ['contains(env.A', 15, "',' or ')' was expected"],
    ['1 2', 3, "unexpected '2'"],
    ['matrix.', 8, "a property name was expected after '.'"],
    ['matrix.*', 8, "the '.*' filter is not supported"],
    ['12abc', 1, "invalid number '12abc'"],
    ['env.A $ 1', 7, "unexpected symbol '$'"],
    ['', 1, 'an expression was expected'],
  ])('%s → column %i', (text, column, reason) => {
    const error = parseError(text);
    expect(error.column).toBe(column);
    expect(error.reason).toContain(reason);
    expect(error.expression).toBe(text);
    expect(error.message).toContain(`\`${text}\``);
    expect(error.message).toContain(`column ${column}`);
  });

  it('checks function names and argument counts', () => {
    expect(parseError("nope('a')").message).toContain("unknown function 'nope'");
    expect(parseError("hashFiles('**/package-lock.json')").message).toContain(
      'hashFiles() is not available when running a workflow step by step through relay-dap',
    );
    expect(parseError("contains('a')").message).toContain('contains() takes 2 argument(s), got 1');
    expect(parseError('success(1)').message).toContain('success() takes 0 argument(s), got 1');
    expect(parseError('format()').message).toContain('format() takes at least 1 argument(s), got 0');
  });

  it('checks the properties of steps.<id>', () => {
    const error = parseError('steps.build.output.version');
    expect(error.reason).toBe("steps.<id> has no property 'output'; it has outcome, conclusion and outputs");
    expect(error.column).toBe(13);
  });
});

describe('unsupported contexts', () => {
  it.each(['github', 'secrets', 'runner', 'inputs', 'vars', 'needs', 'job', 'strategy'])(
    '%s is refused with the expression and the supported list',
    (name) => {
      const text = `${name}.something == 'x'`;
      const error = parseError(text);
      expect(error.reason).toBe(
        `the '${name}' context is not available when running a workflow step by step through relay-dap; ` +
          'supported: env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>',
      );
      expect(error.column).toBe(1);
      expect(error.message).toContain(`\`${text}\``);
    },
  );

  it('refuses an unknown name the same way', () => {
    const error = parseError("env.A && foo == 'x'");
    expect(error.reason).toMatch(
      /^unknown name 'foo' \(not a context relay-dap provides\); supported: env\.\*/,
    );
    expect(error.column).toBe(10);
  });

  it('withLine adds the line (and file) to the message', () => {
    const located = withLine(parseError('github.ref'), 12, '/w/ci.yml');
    expect(located).toBeInstanceOf(ExpressionError);
    expect(located.line).toBe(12);
    expect(located.message).toBe(
      "/w/ci.yml:12: the 'github' context is not available when running a workflow step by step through relay-dap; " +
        'supported: env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name> ' +
        '(in expression `github.ref` at column 1)',
    );
    expect(withLine(parseError('runner.os'), 3).message).toMatch(/^line 3: the 'runner' context/);
  });

  it('reports which contexts an expression reads', () => {
    expect([...referencedContexts(parseExpression("matrix.os == 'x' && env.A"))].sort()).toEqual([
      'env',
      'matrix',
    ]);
  });
});

describe('substitute', () => {
  const context = makeContext();

  it('replaces every ${{ }} with its value as text', () => {
    expect(substitute('Hello ${{ env.GREETING }}, ${{matrix.os}}!', context)).toBe(
      'Hello hello, ubuntu-latest!',
    );
    expect(substitute('v=${{ steps.build.outputs.version }}', context)).toBe('v=1.2.3');
    expect(
      substitute('[${{ null }}][${{ true }}][${{ matrix.experimental }}][${{ matrix.node }}]', context),
    ).toBe('[][true][false][20]');
    expect(substitute('${{ matrix.versions }}', context)).toBe('[\n  "18",\n  "20"\n]');
    expect(substitute('no expressions here', context)).toBe('no expressions here');
    expect(substitute('', context)).toBe('');
  });

  it('ends an expression at the first }} outside a string', () => {
    expect(substitute("${{ format('{{{0}}}', 'x') }}", context)).toBe('{x}');
    expect(substitute("a ${{ '}}' }} b", context)).toBe('a }} b');
  });

  it('keeps multi-line values and text around them', () => {
    expect(substitute('notes:\n${{ steps.build.outputs.notes }}\nend', context)).toBe('notes:\na\nb\nend');
  });

  it('refuses an unclosed ${{ with its offset', () => {
    try {
      parseTemplate('echo ok && echo ${{ env.A');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ExpressionError);
      const expressionError = error as ExpressionError;
      expect(expressionError.templateOffset).toBe(16);
      expect(expressionError.reason).toBe("'${{' is never closed by '}}'");
    }
  });

  it('reports syntax errors with the offset of the failing ${{', () => {
    try {
      substitute('${{ env.A }} and ${{ github.sha }}', context);
      expect.unreachable();
    } catch (error) {
      const expressionError = error as ExpressionError;
      expect(expressionError.templateOffset).toBe(17);
      expect(expressionError.expression).toBe('github.sha');
    }
  });

  it('evaluateTemplateValue keeps the type of a whole ${{ }}', () => {
    expect(evaluateTemplateValue('${{ matrix.experimental }}', context)).toBe(false);
    expect(evaluateTemplateValue(' ${{ matrix.node }} ', context)).toBe(20);
    expect(evaluateTemplateValue('x ${{ matrix.node }}', context)).toBe('x 20');
  });
});

describe('if: conditions', () => {
  const ok = makeContext();
  const failed = makeContext({ jobStatus: 'failure' });
  const cancelled = makeContext({ jobStatus: 'cancelled' });

  it('accepts the expression with or without ${{ }}', () => {
    expect(evaluateCondition("env.DEPLOY == 'yes'", ok)).toBe(true);
    expect(evaluateCondition("${{ env.DEPLOY == 'yes' }}", ok)).toBe(true);
    expect(evaluateCondition("  ${{ env.DEPLOY == 'no' }}  ", ok)).toBe(false);
    expect(evaluateCondition('steps.flaky.outcome', ok)).toBe(true);
    expect(evaluateCondition('env.EMPTY', ok)).toBe(false);
  });

  it('adds an implicit success() when no status function is used', () => {
    expect(evaluateCondition('true', failed)).toBe(false);
    expect(evaluateCondition("env.DEPLOY == 'yes'", cancelled)).toBe(false);
    expect(parseCondition('true').implicitSuccess).toBe(true);
    expect(parseCondition('failure() || true').implicitSuccess).toBe(false);
  });

  it('does not evaluate the expression when the implicit success() is false', () => {
    // fromJSON would throw; the short-circuit of `success() && (…)` means it never runs.
    expect(evaluateCondition("fromJSON('oops')", failed)).toBe(false);
    expect(() => evaluateCondition("fromJSON('oops')", ok)).toThrow(ExpressionError);
  });

  it('uses explicit status functions as written', () => {
    expect(evaluateCondition('failure()', failed)).toBe(true);
    expect(evaluateCondition('failure()', ok)).toBe(false);
    expect(evaluateCondition('always()', cancelled)).toBe(true);
    expect(evaluateCondition('${{ always() }}', failed)).toBe(true);
    expect(evaluateCondition('cancelled()', cancelled)).toBe(true);
    expect(evaluateCondition("failure() && steps.flaky.outcome == 'failure'", failed)).toBe(true);
    expect(evaluateCondition("!cancelled() && env.DEPLOY == 'yes'", failed)).toBe(true);
    expect(evaluateCondition('success() || failure()', failed)).toBe(true);
  });

  it('treats an empty if as success()', () => {
    expect(evaluateCondition('', ok)).toBe(true);
    expect(evaluateCondition('  ', failed)).toBe(false);
  });

  it('turns text mixed with ${{ }} into a (truthy) string, as GitHub does', () => {
    expect(evaluateCondition("${{ env.DEPLOY }} == 'no'", ok)).toBe(true);
    expect(evaluateCondition("${{ env.DEPLOY }} == 'no'", failed)).toBe(false);
    expect(evaluateCondition('${{ always() }} x', failed)).toBe(true);
  });

  it('refuses unsupported contexts with the expression', () => {
    expect(() => evaluateCondition("github.event_name == 'push'", ok)).toThrow(
      /the 'github' context is not available when running a workflow step by step through relay-dap.*`github.event_name == 'push'` at column 1/,
    );
  });
});
