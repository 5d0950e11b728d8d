import { describe, expect, it } from 'vitest';
import { expandMatrix, MatrixError, matrixKeys, selectMatrixCombination } from '../../src/workflow/matrix.js';

describe('expandMatrix', () => {
  it('builds the product of the vectors in key order', () => {
    expect(expandMatrix({ os: ['ubuntu-latest', 'ubuntu-22.04'], python: ['3.11', '3.12'] })).toEqual([
      { os: 'ubuntu-latest', python: '3.11' },
      { os: 'ubuntu-latest', python: '3.12' },
      { os: 'ubuntu-22.04', python: '3.11' },
      { os: 'ubuntu-22.04', python: '3.12' },
    ]);
  });

  it('removes combinations matched by exclude (partial matches too)', () => {
    expect(
      expandMatrix({
        os: ['linux', 'mac'],
        node: [18, 20],
        exclude: [{ os: 'mac', node: 18 }],
      }),
    ).toEqual([
      { os: 'linux', node: 18 },
      { os: 'linux', node: 20 },
      { os: 'mac', node: 20 },
    ]);
    expect(expandMatrix({ os: ['linux', 'mac'], node: [18, 20], exclude: [{ os: 'mac' }] })).toEqual([
      { os: 'linux', node: 18 },
      { os: 'linux', node: 20 },
    ]);
  });

  it("follows GitHub's documented include example", () => {
    const combinations = expandMatrix({
      fruit: ['apple', 'pear'],
      animal: ['cat', 'dog'],
      include: [
        { color: 'green' },
        { color: 'pink', animal: 'cat' },
        { fruit: 'apple', shape: 'circle' },
        { fruit: 'banana' },
        { fruit: 'banana', animal: 'cat' },
      ],
    });
    expect(combinations).toEqual([
      { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
      { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
      { fruit: 'pear', animal: 'cat', color: 'pink' },
      { fruit: 'pear', animal: 'dog', color: 'green' },
      { fruit: 'banana' },
      { fruit: 'banana', animal: 'cat' },
    ]);
  });

  it('makes a matrix of include entries alone', () => {
    expect(expandMatrix({ include: [{ site: 'prod' }, { site: 'dev' }] })).toEqual([
      { site: 'prod' },
      { site: 'dev' },
    ]);
    expect(matrixKeys({ include: [], a: [1], exclude: [] })).toEqual(['a']);
  });

  it('refuses vectors that are not lists, or empty', () => {
    expect(() => expandMatrix({ os: 'linux' })).toThrow("matrix 'os' must be a list of values");
    expect(() => expandMatrix({ os: '${{ fromJSON(env.OSES) }}' })).toThrow(/computed by an expression/);
    expect(() => expandMatrix({ include: '${{ fromJSON(env.MORE) }}' })).toThrow(
      "matrix 'include' is computed by an expression",
    );
    expect(() => expandMatrix({ os: [] })).toThrow("matrix 'os' has no values");
    expect(() => expandMatrix({ os: ['a'], include: 'x' })).toThrow(
      "matrix 'include' must be a list of mappings",
    );
  });
});

describe('selectMatrixCombination', () => {
  const matrix = { os: ['ubuntu-latest', 'ubuntu-22.04'], python: ['3.11', '3.12'] };

  it('uses the only combination', () => {
    expect(selectMatrixCombination({ flavor: ['minimal'], debug: [false] }, undefined, 'job')).toEqual({
      flavor: 'minimal',
      debug: false,
    });
    expect(selectMatrixCombination(undefined, undefined, 'job')).toEqual({});
  });

  it('asks for a choice when there are several, with an example launch argument', () => {
    expect(() => selectMatrixCombination(matrix, undefined, 'test')).toThrow(
      "job 'test' has a matrix with 4 combinations over os, python; a step-by-step run uses one: " +
        'choose it with the launch argument, e.g. "matrix": {"os":"ubuntu-latest","python":"3.11"}',
    );
    expect(() => selectMatrixCombination({ os: ['a'], exclude: [{ os: 'a' }] }, undefined, 'j')).toThrow(
      "the matrix of job 'j' has no combinations left (everything is excluded)",
    );
  });

  it('completes a requested combination that identifies one', () => {
    expect(selectMatrixCombination(matrix, { os: 'ubuntu-22.04', python: '3.12' }, 'test')).toEqual({
      os: 'ubuntu-22.04',
      python: '3.12',
    });
    const withInclude = { ...matrix, include: [{ python: '3.12', coverage: true }] };
    expect(selectMatrixCombination(withInclude, { os: 'ubuntu-22.04', python: '3.12' }, 'test')).toEqual({
      os: 'ubuntu-22.04',
      python: '3.12',
      coverage: true,
    });
    // Values compare as text, and the file's own typed value is kept.
    expect(selectMatrixCombination({ node: [18, 20] }, { node: '20' }, 'test')).toEqual({ node: 20 });
  });

  it('refuses a request matching several combinations', () => {
    expect(() => selectMatrixCombination(matrix, { python: '3.12' }, 'test')).toThrow(MatrixError);
    expect(() => selectMatrixCombination(matrix, { python: '3.12' }, 'test')).toThrow(
      /matches 2 combinations of job 'test' \(os=ubuntu-latest, python=3\.12; os=ubuntu-22\.04, python=3\.12\)/,
    );
  });

  it('selects a combination that is a subset of another (include-only matrices)', () => {
    const includes = {
      include: [{ python: '3.14' }, { name: 'Oldest', python: '3.14', tox: 'min' }, { python: '3.13' }],
    };
    expect(selectMatrixCombination(includes, { python: '3.14' }, 'tests')).toEqual({ python: '3.14' });
    expect(selectMatrixCombination(includes, { tox: 'min' }, 'tests')).toEqual({
      name: 'Oldest',
      python: '3.14',
      tox: 'min',
    });
    // Two identical entries are one choice.
    expect(
      selectMatrixCombination(
        {
          include: [
            { a: 1, b: 2 },
            { b: 2, a: 1 },
          ],
        },
        { a: 1 },
        'j',
      ),
    ).toEqual({
      a: 1,
      b: 2,
    });
  });

  it('names the keys that make an ambiguous request unique, with examples that select one each', () => {
    const oses = {
      os: ['linux', 'mac'],
      python: ['3.12', '3.13'],
      include: [{ os: 'linux', coverage: true }],
    };
    expect(() => selectMatrixCombination(oses, { python: '3.12' }, 'test')).toThrow(
      'the matrix combination {"python":"3.12"} matches 2 combinations of job \'test\' ' +
        '(os=linux, python=3.12, coverage=true; os=mac, python=3.12); ' +
        "add 'os' to tell them apart, " +
        'e.g. "matrix": {"python":"3.12","os":"linux"} or "matrix": {"python":"3.12","os":"mac"}',
    );
  });

  it('says a matrix computed at run time needs the launch argument, with an example of the keys the job reads', () => {
    expect(() =>
      selectMatrixCombination('${{ fromJSON(needs.plan.outputs.m) }}', undefined, 'build', ['target', 'os']),
    ).toThrow(
      "the matrix of job 'build' is computed at run time on GitHub (${{ fromJSON(needs.plan.outputs.m) }}), so relay-dap " +
        'cannot list its combinations: give the combination to debug with the launch argument "matrix", ' +
        'e.g. "matrix": {"target":"…","os":"…"}',
    );
    expect(() =>
      selectMatrixCombination({ os: ['linux'], include: '${{ fromJSON(vars.X) }}' }, undefined, 'p', [
        'os',
        'kind',
      ]),
    ).toThrow(
      /^matrix 'include' of job 'p' is computed at run time on GitHub .* e\.g\. "matrix": \{"os":"linux","kind":"…"\}$/,
    );
    expect(selectMatrixCombination('${{ fromJSON(x) }}', { os: 'linux' }, 'build')).toEqual({ os: 'linux' });
  });

  it('uses a request matching no combination as given (the caller chose it)', () => {
    expect(selectMatrixCombination(matrix, { os: 'debian', python: '3.13' }, 'test')).toEqual({
      os: 'debian',
      python: '3.13',
    });
    expect(selectMatrixCombination({ os: '${{ fromJSON(x) }}' }, { os: 'linux' }, 'test')).toEqual({
      os: 'linux',
    });
  });
});
