// The job file is read in one place, jobFromProgram's loadProgram (without blocking); the loaders
// parse the text they are given. These are that one reader's errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProgram } from '../../src/job/jobFromProgram.js';

describe('loadProgram reads the file once', () => {
  const directory = mkdtempSync(join(tmpdir(), 'relay-dap-program-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('reports a missing file with its path, the reason and what to give instead', async () => {
    const missing = join(directory, 'nope.yml');
    await expect(loadProgram(missing)).rejects.toThrow(
      new RegExp(
        `^cannot read the job file ${missing.replaceAll('.', '\\.')} \\(ENOENT\\): give \`program\` as an absolute path`,
      ),
    );
  });

  it('evaluates the job env of a workflow with the matrix, naming the line of a failing ${{ }}', async () => {
    const path = join(directory, 'env.yml');
    writeFileSync(
      path,
      'on: push\njobs:\n  j:\n    strategy:\n      matrix:\n        os: [linux]\n' +
        '    env:\n      OS: ${{ matrix.os }}\n      BAD: ${{ fromJSON(env.OS) }}\n    steps:\n      - run: a\n',
    );
    await expect(loadProgram(path)).rejects.toThrow(new RegExp(`^${path.replaceAll('.', '\\.')}:9: `));
    writeFileSync(
      path,
      'on: push\njobs:\n  j:\n    env:\n      A: x\n      B: ${{ env.A }}y\n    steps:\n      - run: a\n',
    );
    expect((await loadProgram(path)).env).toEqual({ A: 'x', B: 'xy' });
  });
});
