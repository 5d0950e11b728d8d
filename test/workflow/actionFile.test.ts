// Reading an action's metadata file (action.yml): inputs with defaults, outputs, and how it
// runs, with errors that name the file, the line and what to write.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadActionFile } from '../../src/workflow/actionFile.js';
import { JobSourceError } from '../../src/workflow/yamlSource.js';

const setupThing = fileURLToPath(
  new URL('../fixtures/projects/actions-repo/.github/actions/setup-thing/action.yml', import.meta.url),
);

function errorOf(text: string): string {
  try {
    loadActionFile('/repo/action.yml', text);
  } catch (error) {
    expect(error).toBeInstanceOf(JobSourceError);
    return (error as Error).message;
  }
  throw new Error('the action loaded');
}

describe('loadActionFile', () => {
  it('a composite action: inputs (with their defaults as written), outputs, and its steps at their lines in the action.yml', () => {
    const text = readFileSync(setupThing, 'utf8');
    const action = loadActionFile(setupThing, text);
    expect(action.name).toBe('Set up thing');
    expect(Object.keys(action.inputs)).toEqual(['version', 'install-dir', 'fail-check']);
    expect(action.inputs.version).toEqual({});
    expect(action.inputs['install-dir']?.default?.text).toBe('.thing');
    expect(action.inputs['fail-check']?.default?.text).toBe('false');
    expect(
      Object.fromEntries(Object.entries(action.outputs).map(([name, value]) => [name, value.text])),
    ).toEqual({
      path: '${{ steps.install.outputs.path }}',
      version: '${{ inputs.version }}',
    });
    expect(action.runs.using).toBe('composite');
    const steps = action.runs.using === 'composite' ? action.runs.steps : [];
    const lines = text.split('\n');
    expect(steps.map((step) => [step.name, step.id, lines[step.location.line - 1]?.trim()])).toEqual([
      ['Show inputs', undefined, '- name: Show inputs'],
      ['Install thing', 'install', '- id: install'],
      ['Check thing', undefined, '- name: Check thing'],
    ]);
    // `inputs` is a context inside an action; the expression's line is recorded for errors.
    expect(steps[0]!.expressions.run?.file).toBe(setupThing);
  });

  it('a JavaScript action: main, pre, post and their conditions; a Docker action: its image', () => {
    const node = loadActionFile(
      '/repo/action.yml',
      'runs:\n  using: node24\n  main: dist/index.js\n  post: dist/post.js\n  post-if: success()\n',
    );
    expect(node.runs).toEqual({
      using: 'node',
      runtime: 'node24',
      main: 'dist/index.js',
      post: 'dist/post.js',
      postIf: 'success()',
    });
    expect(
      loadActionFile('/repo/action.yml', "runs:\n  using: docker\n  image: 'docker://alpine:3.20'\n").runs,
    ).toEqual({
      using: 'docker',
      image: 'docker://alpine:3.20',
    });
  });

  it('errors name the file, the line and what to write', () => {
    expect(errorOf('name: x\n')).toBe(
      "/repo/action.yml:1: the action has no 'runs:'; an action.yml says how it runs under 'runs:'",
    );
    expect(errorOf('name: x\nruns:\n  main: index.js\n')).toBe(
      "/repo/action.yml:2: 'runs:' has no 'using:' (composite, node20, node24 or docker)",
    );
    expect(errorOf('runs:\n  using: node20\n')).toBe(
      "/repo/action.yml:2: a node20 action needs 'runs.main:'",
    );
    expect(
      errorOf('runs:\n  using: composite\n  steps:\n    - run: echo ${{ nope.x }}\n      shell: bash\n'),
    ).toMatch(/^\/repo\/action\.yml:4: unknown name 'nope'/);
  });
});
