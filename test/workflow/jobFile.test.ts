import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobDefinition } from '../../src/model/jobModel.js';
import { loadJobFile as loadJobText } from '../../src/workflow/jobFile.js';
import { JobSourceError } from '../../src/workflow/yamlSource.js';
import { expectedStep } from '../support/expectedStep.js';

function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/jobs/${name}`, import.meta.url));
}

/** The file is read once, by the caller of the loader (the adapter's jobFromProgram); here, by the test. */
function loadJobFile(path: string): JobDefinition {
  return loadJobText(path, readFileSync(path, 'utf8'));
}

describe('loadJobFile', () => {
  it('loads build.yml with names, env, cwd, timeouts and lines', () => {
    const path = fixture('build.yml');
    const job = loadJobFile(path);
    expect(job).toEqual({
      name: 'Build and test',
      origin: 'job-file',
      sourcePath: path,
      sourceText: readFileSync(path, 'utf8'),
      env: { GREETING: 'hello', LEVEL: '3' },
      cwd: '/tmp',
      steps: [
        expectedStep(0, 'Configure', [7, 8], { run: 'echo "configuring with LEVEL=$LEVEL"' }),
        expectedStep(1, 'Run echo "$GREETING from the second step"', [9, 13], {
          run: 'echo "$GREETING from the second step"\ntest "$GREETING" = hello\n',
          env: { EXTRA: 'quoted value' },
        }),
        expectedStep(2, 'Allowed to fail', [14, 17], {
          run: 'exit 1',
          continueOnError: true,
          timeoutSeconds: 30,
        }),
        expectedStep(3, 'Last step', [19, 21], { cwd: '/', run: 'pwd' }),
      ],
    });
  });

  it('loads minimal.yaml, naming the job after the file', () => {
    const path = fixture('minimal.yaml');
    const job = loadJobFile(path);
    expect(job.name).toBe('minimal');
    expect(job.env).toEqual({});
    expect(job.cwd).toBeUndefined();
    expect(job.steps).toEqual([
      expectedStep(0, 'Run echo "just one step"', [2, 2], { run: 'echo "just one step"' }),
    ]);
  });

  describe('errors', () => {
    const directory = mkdtempSync(join(tmpdir(), 'relay-dap-jobfile-'));
    let counter = 0;
    afterAll(() => rmSync(directory, { recursive: true, force: true }));

    function errorOf(text: string): { message: string; path: string; error: unknown } {
      const path = join(directory, `job-${++counter}.yml`);
      writeFileSync(path, text);
      try {
        loadJobFile(path);
      } catch (error) {
        return { message: error instanceof Error ? error.message : String(error), path, error };
      }
      throw new Error('expected the job file not to load');
    }

    it('names the file and line', () => {
      const { message, path, error } = errorOf('name: x\nsteps:\n  - name: no run\n');
      expect(error).toBeInstanceOf(JobSourceError);
      expect(message).toBe(`${path}:3: step 1 has no 'run:'; add the command to run`);
    });

    it('refuses unknown keys, pointing at the plain format', () => {
      expect(errorOf('steps:\n  - run: a\n    timeout-minutes: 3\n').message).toMatch(
        /:3: unknown key 'timeout-minutes' in step 1; the keys allowed there are name, run, cwd, env, timeout, continue-on-error, debug$/,
      );
      expect(errorOf('jobs:\n  a: {}\n').message).toMatch(
        /:1: unknown key 'jobs' in the job file; the keys allowed there are name, env, cwd, steps$/,
      );
    });

    it('refuses missing or empty steps and wrong types', () => {
      expect(errorOf('name: x\n').message).toMatch(/:1: the job file has no 'steps:'/);
      expect(errorOf('steps: []\n').message).toMatch(/:1: 'steps:' is empty/);
      expect(errorOf('steps:\n  - run: a\n    timeout: soon\n').message).toMatch(
        /:3: timeout of step 1 must be a positive number of seconds, at most 31536000 s \(365 days\)$/,
      );
      // Past Node's 24.8-day timer limit is fine; past the documented maximum is refused.
      expect(errorOf('steps:\n  - run: a\n    timeout: 1e12\n').message).toMatch(
        /:3: timeout of step 1 must be a positive number of seconds, at most 31536000 s/,
      );
      expect(errorOf('steps:\n  - run: a\n    continue-on-error: ${{ x }}\n').message).toMatch(
        /:3: continue-on-error of step 1 must be true or false$/,
      );
      expect(errorOf('steps:\n  - run: a\n    debug: node\n').message).toMatch(
        /:3: debug of step 1 must be python \(the only debugger a step runs under\)$/,
      );
      expect(errorOf('env: [a]\nsteps:\n  - run: a\n').message).toMatch(/:1: the job env must be a mapping/);
      expect(errorOf('steps:\n  - run: [a]\n').message).toMatch(/:2: the run of step 1 must be text$/);
    });

    it('reports YAML syntax errors', () => {
      expect(errorOf('steps:\n  - run: "unterminated\n').message).toMatch(
        /:2: the job file is not valid YAML: .*; fix the YAML syntax there$/,
      );
    });

    it('keeps ${{ }} as plain text (no expression language here)', () => {
      const path = join(directory, 'literal.yml');
      writeFileSync(path, 'steps:\n  - run: echo "${{ github.sha }}"\n');
      expect(loadJobFile(path).steps[0]?.run).toBe('echo "${{ github.sha }}"');
    });
  });
});
