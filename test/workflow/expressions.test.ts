import { describe, expect, it } from 'vitest';
import type { ExpressionContext } from '../../src/model/expressionContext.js';
import {
  evaluate,
  evaluateCondition,
  evaluateTemplateValue,
  ExpressionError,
  hashFilesArguments,
  isTruthy,
  namesReadFrom,
  parseCondition,
  parseExpression,
  parseNumberText,
  parseTemplate,
  referencedContexts,
  substitute,
  toDisplayString,
  withLine,
} from '../../src/workflow/expressions.js';
import { hashFilesKey } from '../../src/workflow/hashFilesFunction.js';

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

/** Expressions and their values, grouped by the rule each shows. */
const valuesByRule: Record<string, Array<[string, unknown]>> = {
  reads: [
    ['env.GREETING', 'hello'],
    ["env['GREETING']", 'hello'],
    ['matrix.os', 'ubuntu-latest'],
    ['matrix.versions[1]', '20'],
    ["matrix['versions'][0]", '18'],
    ['matrix.config.a', 1],
    ['steps.build.outcome', 'success'],
    ['steps.flaky.conclusion', 'success'],
    ['steps.build.outputs.version', '1.2.3'],
  ],
  'missing is null': [
    ['env.MISSING', null],
    ['matrix.versions[5]', null],
    ['steps.nope.outcome', null],
    ['steps.build.outputs.nope', null],
    ['matrix.os.deeper', null],
  ],
  'case-insensitive but env': [
    ['ENV.GREETING', 'hello'],
    ['Matrix.OS', 'ubuntu-latest'],
    ['steps.BUILD.Outputs.notes', 'a\nb'],
    ['env.greeting', null],
    ['env.Mixed', 'case'],
  ],
  'after a call or group': [
    ['fromJSON(\'{"a":[1,2]}\').a[1]', 2],
    ['(matrix).os', 'ubuntu-latest'],
  ],
  '!': [
    ['!true', false],
    ['!0', true],
    ["!''", true],
    ['!!env.GREETING', true],
    ['!matrix.experimental', true],
  ],
  '&& || return an operand': [
    ["env.EMPTY || 'fallback'", 'fallback'],
    ["env.GREETING || 'fallback'", 'hello'],
    ["env.GREETING && 'second'", 'second'],
    ["env.EMPTY && 'second'", ''],
    ['0 || null', null],
    ["matrix.experimental && 'x'", false],
    ["1 && 'a' && 0 && 'b'", 0],
  ],
  precedence: [
    ["env.DEPLOY == 'yes' && matrix.os == 'ubuntu-latest'", true],
    ['true || false && false', true],
    ['(true || false) && false', false],
    ['!false == true', true],
    ['1 < 2 == true', true],
    ["false && 'x' || 'y'", 'y'],
  ],
  'loose ==': [
    ["1 == '1'", true],
    ["'' == 0", true],
    ['null == 0', true],
    ['null == false', true],
    ['true == 1', true],
    ["true == '1'", true],
    ["'0x10' == 16", true],
    ["'abc' == 0", false],
    ["'abc' != 0", true],
    ['matrix.node == 20', true],
    ["matrix.node == '20'", true],
  ],
  'strings ignore case': [
    ["'Ubuntu-Latest' == matrix.os", true],
    ["'abc' < 'ABD'", true],
    ["'a' >= 'A'", true],
    ["'b' > 'A'", true],
  ],
  NaN: [
    ['NaN == NaN', false],
    ['NaN != NaN', true],
    ["'abc' < 1", false],
    ["'abc' >= 1", false],
    ['NaN <= NaN', false],
  ],
  'objects by identity': [
    ['matrix.versions == matrix.versions', true],
    ["fromJSON('[1]') == fromJSON('[1]')", false],
    ['matrix.config == 0', false],
    ['matrix.config != null', true],
  ],
  ordering: [
    ['1 < 2', true],
    ['2 <= 2', true],
    ["'10' > 9", true],
    ['false < true', true],
    ['true > false', true],
    ['null < 1', true],
  ],
  contains: [
    ["contains('Hello world', 'llo')", true],
    ["contains('Hello world', 'LLO W')", true],
    ["contains('Hello world', 'xyz')", false],
    ["contains(matrix.versions, '20')", true],
    ['contains(matrix.versions, 20)', true],
    ["contains(matrix.versions, '16')", false],
    ['contains(fromJSON(\'["push", "pull_request"]\'), \'PUSH\')', true],
    ['contains(123, 2)', true],
    ["contains(matrix.config, 'a')", false],
  ],
  'startsWith/endsWith': [
    ["startsWith('Hello world', 'he')", true],
    ["startsWith('Hello world', 'world')", false],
    ["endsWith('Hello world', 'WORLD')", true],
    ["endsWith(matrix.os, 'latest')", true],
    ["startsWith(matrix.versions, '1')", false],
  ],
  format: [
    ["format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", 'Hello Mona the Octocat'],
    ["format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", '{Hello Mona the Octocat!}'],
    ["format('{0}-{0}', matrix.node)", '20-20'],
    ["format('{0}', null)", ''],
  ],
  join: [
    ['join(matrix.versions)', '18,20'],
    ["join(matrix.versions, ' | ')", '18 | 20'],
    ["join('abc', '-')", 'abc'],
  ],
  'toJSON/fromJSON': [
    ['toJSON(matrix.config)', '{\n  "a": 1\n}'],
    ["toJSON('x')", '"x"'],
    ['toJSON(null)', 'null'],
    ["fromJSON('true')", true],
    ['fromJSON(\'{"n": 2}\').n', 2],
  ],
};

describe('property access, operators and functions', () => {
  it.each(
    Object.entries(valuesByRule).flatMap(([rule, cases]) =>
      cases.map(([text, expected]): [string, string, unknown] => [rule, text, expected]),
    ),
  )('%s: %s', (_rule, text, expected) => {
    expect(run(text)).toEqual(expected);
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
  it.each([
    ["format('{1}', 'a')", /references \{1\} but only 1 value/],
    ["format('{x}', 'a')", /invalid format string/],
  ])('%s fails', (text, message) => {
    expect(() => run(text)).toThrow(message);
  });

  it('fromJSON of text that is not JSON names the value and the expression', () => {
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

describe('what GitHub documents and @actions/expressions brings', () => {
  // The examples of "Evaluate expressions in workflows and actions" (docs.github.com), with
  // the documented results; the contexts are matrix entries here (relay-dap has no `github`).
  const documented = makeContext({
    matrix: {
      fruits: [
        { name: 'apple', quantity: 1 },
        { name: 'orange', quantity: 2 },
        { name: 'pear', quantity: 1 },
      ],
      vegetables: {
        scallions: { colors: ['green', 'white', 'red'], ediblePortions: ['roots', 'stalks'] },
        beets: {
          colors: ['purple', 'red', 'gold', 'white', 'pink'],
          ediblePortions: ['roots', 'stems', 'leaves'],
        },
        artichokes: {
          colors: ['green', 'purple', 'red', 'black'],
          ediblePortions: ['hearts', 'stems', 'leaves'],
        },
      },
      labels: [{ name: 'bug' }, { name: 'help wanted' }],
    },
  });

  it.each<[string, unknown]>([
    ['matrix.fruits.*.name', ['apple', 'orange', 'pear']],
    [
      'matrix.vegetables.*.ediblePortions',
      [
        ['roots', 'stalks'],
        ['roots', 'stems', 'leaves'],
        ['hearts', 'stems', 'leaves'],
      ],
    ],
    ['matrix.fruits[*].quantity', [1, 2, 1]],
    ["contains(matrix.labels.*.name, 'bug')", true],
    ["join(matrix.labels.*.name, ', ')", 'bug, help wanted'],
    ["contains(steps.*.outcome, 'failure')", true],
    ["contains(steps.*.conclusion, 'failure')", false],
    ["startsWith('Hello world', 'He')", true],
    ["endsWith('Hello world', 'ld')", true],
    ["case(matrix.fruits[0].name == 'apple', 'red', 'green')", 'red'],
    ["case(false, 'a', 1 == 2, 'b', 'default')", 'default'],
    ["case(false, 'a', 2 > 1, 'b', 'default')", 'b'],
    ["toJSON(fromJSON('[1, true, null]'))", '[\n  1,\n  true,\n  null\n]'],
  ])('%s', (text, expected) => {
    expect(run(text, documented)).toEqual(expected);
  });

  it('case() requires its conditions to be booleans', () => {
    expect(() => run("case(1, 'a', 'b')")).toThrow(
      "case(): every condition must be true or false (in expression `case(1, 'a', 'b')`)",
    );
  });

  it('reads every doubled quote of a string literal as one quote', () => {
    expect(run("'a''b''c'")).toBe("a'b'c");
  });

  it('substitutes a filter and case() in text', () => {
    expect(substitute("outcomes=${{ join(steps.*.outcome, ' ') }}", makeContext())).toBe(
      'outcomes=success failure',
    );
    expect(substitute("tier=${{ case(matrix.node >= 20, 'current', 'old') }}", makeContext())).toBe(
      'tier=current',
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
    ['matrix.[0]', 8, "a property name was expected after '.'"],
    ['matrix.versions]', 16, "unexpected ']'"],
    ['12abc', 1, "invalid number '12abc'"],
    ['env.A $ 1', 7, "unexpected symbol '$'"],
    ['', 1, 'an expression was expected'],
    // Columns count over the whole expression, also after a string literal spanning lines.
    ["'a\nb' == strategy.sha", 10, "the 'strategy' context is not available"],
    ["'a\nb' == 'x' &&\n strategy.sha", 18, "the 'strategy' context is not available"],
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
    expect(parseError('hashFiles()').message).toContain('hashFiles() takes at least 1 argument(s), got 0');
    expect(parseError("case(true, 'a')").message).toContain('case() takes at least 3 argument(s), got 2');
    expect(parseError("case(true, 'a', false, 'b')").message).toContain(
      'case() takes an odd number of arguments (condition, value, …, default), got 4',
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
  it.each(['job', 'strategy'])('%s is refused with the expression and the supported list', (name) => {
    const text = `${name}.something == 'x'`;
    const error = parseError(text);
    expect(error.reason).toBe(
      `the '${name}' context is not available when running a workflow step by step through relay-dap; ` +
        'supported: env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>, github.*, runner.*, secrets.*, vars.*, inputs.*, needs.<job>.outputs.<name>, needs.<job>.result',
    );
    expect(error.column).toBe(1);
    expect(error.message).toContain(`\`${text}\``);
  });

  it('refuses an unknown name the same way', () => {
    const error = parseError("env.A && foo == 'x'");
    expect(error.reason).toMatch(
      /^unknown name 'foo' \(not a context relay-dap provides\); supported: env\.\*/,
    );
    expect(error.column).toBe(10);
  });

  it('withLine adds the line (and file) to the message', () => {
    const located = withLine(parseError('strategy.ref'), 12, '/w/ci.yml');
    expect(located).toBeInstanceOf(ExpressionError);
    expect(located.line).toBe(12);
    expect(located.message).toBe(
      "/w/ci.yml:12: the 'strategy' context is not available when running a workflow step by step through relay-dap; " +
        'supported: env.*, matrix.*, steps.<id>.outcome, steps.<id>.conclusion, steps.<id>.outputs.<name>, github.*, runner.*, secrets.*, vars.*, inputs.*, needs.<job>.outputs.<name>, needs.<job>.result ' +
        '(in expression `strategy.ref` at column 1)',
    );
    expect(withLine(parseError('job.os'), 3).message).toMatch(/^line 3: the 'job' context/);
  });

  it('reads secrets, vars and inputs from the launch (names ignore case, as on GitHub); one not given is empty', () => {
    const context = makeContext({
      secrets: { GITHUB_TOKEN: 'ghs_x', NPM_TOKEN: 'npm_y' },
      vars: { REGISTRY: 'ghcr.io/acme' },
      inputs: { environment: 'staging', dry_run: true, replicas: 2 },
    });
    expect(run('secrets.GITHUB_TOKEN', context)).toBe('ghs_x');
    expect(run("secrets['npm_token']", context)).toBe('npm_y');
    expect(run('secrets.SLACK_WEBHOOK', context)).toBeNull();
    expect(run("format('{0}/widgets', vars.registry)", context)).toBe('ghcr.io/acme/widgets');
    expect(run('inputs.dry_run && inputs.replicas > 1', context)).toBe(true);
    expect(run("inputs.environment == 'STAGING'", context)).toBe(true);
  });

  it('names the secrets an expression reads, as written; a computed name cannot be known', () => {
    const names = (text: string): string[] => [...namesReadFrom(parseExpression(text), 'secrets')];
    expect(names("secrets.GITHUB_TOKEN || secrets['NPM_TOKEN'] && vars.X")).toEqual([
      'GITHUB_TOKEN',
      'NPM_TOKEN',
    ]);
    expect(names("secrets[format('{0}_TOKEN', inputs.env)]")).toEqual([]);
    expect(names('toJSON(secrets)')).toEqual([]);
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
      substitute('${{ env.A }} and ${{ strategy.sha }}', context);
      expect.unreachable();
    } catch (error) {
      const expressionError = error as ExpressionError;
      expect(expressionError.templateOffset).toBe(17);
      expect(expressionError.expression).toBe('strategy.sha');
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

  it.each<[string, string, ExpressionContext, boolean]>([
    ['${{ }} optional', "env.DEPLOY == 'yes'", ok, true],
    ['${{ }} optional', "${{ env.DEPLOY == 'yes' }}", ok, true],
    ['${{ }} optional', "  ${{ env.DEPLOY == 'no' }}  ", ok, false],
    ['${{ }} optional', 'steps.flaky.outcome', ok, true],
    ['${{ }} optional', 'env.EMPTY', ok, false],
    ['implicit success()', 'true', failed, false],
    ['implicit success()', "env.DEPLOY == 'yes'", cancelled, false],
    ['status functions', 'failure()', failed, true],
    ['status functions', 'failure()', ok, false],
    ['status functions', 'always()', cancelled, true],
    ['status functions', '${{ always() }}', failed, true],
    ['status functions', 'cancelled()', cancelled, true],
    ['status functions', "failure() && steps.flaky.outcome == 'failure'", failed, true],
    ['status functions', "!cancelled() && env.DEPLOY == 'yes'", failed, true],
    ['status functions', 'success() || failure()', failed, true],
    ['empty is success()', '', ok, true],
    ['empty is success()', '  ', failed, false],
    ['text + ${{ }} is a string', "${{ env.DEPLOY }} == 'no'", ok, true],
    ['text + ${{ }} is a string', "${{ env.DEPLOY }} == 'no'", failed, false],
    ['text + ${{ }} is a string', '${{ always() }} x', failed, true],
    ['filter + status', "failure() && contains(steps.*.outcome, 'failure')", failed, true],
    ['filter + status', "always() && !contains(steps.*.conclusion, 'failure')", cancelled, true],
  ])('%s: %s', (_rule, text, context, expected) => {
    expect(evaluateCondition(text, context)).toBe(expected);
  });

  it('says in the parsed condition whether success() is implicit', () => {
    expect(parseCondition('true').implicitSuccess).toBe(true);
    expect(parseCondition('failure() || true').implicitSuccess).toBe(false);
  });

  it('does not evaluate the expression when the implicit success() is false', () => {
    // fromJSON would throw; the short-circuit of `success() && (…)` means it never runs.
    expect(evaluateCondition("fromJSON('oops')", failed)).toBe(false);
    expect(() => evaluateCondition("fromJSON('oops')", ok)).toThrow(ExpressionError);
  });

  it('refuses unsupported contexts with the expression', () => {
    expect(() => evaluateCondition("strategy.event_name == 'push'", ok)).toThrow(
      /the 'strategy' context is not available when running a workflow step by step through relay-dap.*`strategy.event_name == 'push'` at column 1/,
    );
  });
});

describe('hashFiles()', () => {
  it('reads the hash computed before the evaluation, by its arguments as strings', () => {
    const fileHashes = new Map([[hashFilesKey(['**/Cargo.lock', '1']), 'abc123']]);
    expect(run("format('k-{0}', hashFiles('**/Cargo.lock', 1))", makeContext({ fileHashes }))).toBe(
      'k-abc123',
    );
    expect(
      hashFilesArguments(parseExpression("hashFiles(format('{0}/go.sum', matrix.os)) != ''"), makeContext()),
    ).toEqual([['ubuntu-latest/go.sum']]);
  });

  it('says where it can be used when nothing was computed (a job-level key, a breakpoint condition)', () => {
    expect(() => run("hashFiles('x')")).toThrow(
      "hashFiles() is computed where the files are, just before a step runs: use it in a step's if, run, env, working-directory or timeout-minutes (as on GitHub), not here (in expression `hashFiles('x')`)",
    );
  });
});
