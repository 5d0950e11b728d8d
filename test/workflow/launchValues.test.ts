import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LaunchValuesError, missingSecretLines, readLaunchValues } from '../../src/workflow/launchValues.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'launchValues-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function write(name: string, text: string, mode = 0o600): string {
  const file = path.join(root, name);
  fs.writeFileSync(file, text, { mode });
  fs.chmodSync(file, mode);
  return file;
}

const on = {
  push: null,
  workflow_dispatch: {
    inputs: {
      level: { type: 'choice', default: 'info', options: ['info', 'debug'] },
      dry_run: { type: 'boolean', default: false },
      count: { type: 'number', default: 3 },
      tag: { type: 'string' },
    },
  },
  workflow_call: {
    inputs: { level: { default: 'ignored: dispatch declared it first' }, target: { default: 'x86' } },
  },
};

describe('readLaunchValues', () => {
  it('reads the default .secrets, .vars and .input beside the repository root, launch arguments winning', async () => {
    write('.secrets', 'GITHUB_TOKEN=ghp_fromfile\nDEPLOY_KEY="line1\\nline2"\nAPI=a#b\n');
    write('.vars', 'REGION=eu-west-1\nSTAGE=dev\n', 0o644);
    write('.input', 'tag=v1.0\ndry_run=true\ncount=7\n', 0o644);
    const values = await readLaunchValues(
      { secrets: { API: 'from-launch' }, vars: { STAGE: 'prod' }, inputs: { level: 'debug' } },
      root,
      on,
    );
    expect(values).toEqual({
      secrets: { GITHUB_TOKEN: 'ghp_fromfile', DEPLOY_KEY: 'line1\nline2', API: 'from-launch' },
      vars: { REGION: 'eu-west-1', STAGE: 'prod' },
      // Declared types: a boolean input is a boolean, a number a number.
      inputs: { level: 'debug', dry_run: true, count: 7, tag: 'v1.0', target: 'x86' },
      warnings: [],
    });
  });

  it('takes inputs from the defaults of workflow_dispatch and workflow_call when nothing is given', async () => {
    expect(await readLaunchValues({}, root, on)).toEqual({
      secrets: {},
      vars: {},
      inputs: { level: 'info', dry_run: false, count: 3, target: 'x86' },
      warnings: [],
    });
    expect((await readLaunchValues({}, root, 'push')).inputs).toEqual({});
    expect((await readLaunchValues({}, root, ['push', 'workflow_dispatch'])).inputs).toEqual({});
  });

  it('reads files the launch names, relative to the root or absolute', async () => {
    fs.mkdirSync(path.join(root, 'ci'));
    write('ci/prod.secrets', 'TOKEN=t1\n');
    const vars = write('other.vars', 'V=1\n');
    const values = await readLaunchValues(
      { secretsFile: 'ci/prod.secrets', varsFile: vars },
      root,
      undefined,
    );
    expect(values.secrets).toEqual({ TOKEN: 't1' });
    expect(values.vars).toEqual({ V: '1' });
  });

  it('refuses a named file that is missing, a FIFO, or not in act format, saying which and why', async () => {
    await expect(readLaunchValues({ secretsFile: 'nope.env' }, root, undefined)).rejects.toThrow(
      new LaunchValuesError(
        `the secrets file ${path.join(root, 'nope.env')} (launch argument secretsFile) does not exist: create it or fix the path`,
      ),
    );
    write('.vars', 'A=1\nB="unterminated\n');
    await expect(readLaunchValues({}, root, undefined)).rejects.toThrow(
      `the vars file ${path.join(root, '.vars')}, line 2: the value of B has no closing ": close the quote (act's dotenv format)`,
    );
    fs.rmSync(path.join(root, '.vars'));
    execFileSync('mkfifo', [path.join(root, '.input')]);
    await expect(readLaunchValues({}, root, undefined)).rejects.toThrow(
      `the inputs file ${path.join(root, '.input')} is a FIFO (named pipe), not a regular file: name a regular file`,
    );
  });

  it('warns about a secrets file other users can read, naming the fix, and never shows a value', async () => {
    const file = write('.secrets', 'TOKEN=hunter2\n', 0o644);
    const { warnings, secrets } = await readLaunchValues({}, root, undefined);
    expect(secrets).toEqual({ TOKEN: 'hunter2' });
    expect(warnings).toEqual([
      `the secrets file ${file} can be read by other users (mode 0644): chmod 600 ${file}`,
    ]);
    expect(warnings.join('\n')).not.toContain('hunter2');
  });

  const isRoot = process.geteuid?.() === 0;
  it.skipIf(!isRoot)(
    'warns about a secrets file another user owns (skipped unless root: chown needs it)',
    async () => {
      const file = write('.secrets', 'TOKEN=planted\n');
      fs.chownSync(file, 65534, 65534);
      const { warnings } = await readLaunchValues({}, root, undefined);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        new RegExp(
          `^the secrets file ${file} belongs to uid 65534( \\(\\w+\\))?, not to you: that user chooses`,
        ),
      );
    },
  );
});

describe('missingSecretLines', () => {
  it('names each used secret that is not given, once, case-insensitively as GitHub', () => {
    expect(missingSecretLines(['NPM_TOKEN', 'github_token', 'npm_token', 'DEPLOY'], { deploy: 'x' })).toEqual(
      [
        'secret NPM_TOKEN is not given, so it is empty: add NPM_TOKEN=… to the secrets file or the launch argument "secrets"',
        'secret GITHUB_TOKEN is not given, so it is empty: add GITHUB_TOKEN=… to the secrets file or the launch argument "secrets"',
      ],
    );
  });
});
