import { describe, expect, it } from 'vitest';
import { secretNamesRead } from '../../src/workflow/secretReferences.js';
import { loadWorkflowJob } from '../../src/workflow/workflowFile.js';

const workflow = [
  'on: push',
  'env:',
  '  TOKEN: ${{ secrets.GITHUB_TOKEN }}',
  'jobs:',
  '  publish:',
  "    if: github.repository == 'acme/widgets'",
  '    runs-on: ubuntu-latest',
  '    steps:',
  '      - if: always()',
  '        run: echo "${{ secrets.NPM_TOKEN }}" | npm login',
  '        env:',
  "          DEPLOY: ${{ secrets['deploy_key'] }}",
  '      - run: make',
  '        working-directory: ${{ secrets.WORKDIR_SECRET }}',
  '        continue-on-error: ${{ secrets.github_token == secrets.Npm_Token }}',
  '      - uses: actions/checkout@v4',
  '        with:',
  '          token: ${{ secrets.CHECKOUT_TOKEN }}',
  '      - run: echo "${{ toJSON(secrets) }} ${{ secrets[format(\'{0}_KEY\', matrix.os)] }}"',
  '',
].join('\n');

describe('secretNamesRead', () => {
  it('names each secret the job reads in env, run, step env, working-directory and continue-on-error, once whatever its case', () => {
    const job = loadWorkflowJob('/repo/.github/workflows/publish.yml', {}, workflow);
    // `with:` of an action step is not run here, and a computed name cannot be known before it runs.
    expect(secretNamesRead(job)).toEqual(['GITHUB_TOKEN', 'NPM_TOKEN', 'deploy_key', 'WORKDIR_SECRET']);
  });
});
