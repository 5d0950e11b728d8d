// A cached remote action of realistic size (a bundled JavaScript action with its checked-in
// node_modules runs to a few MiB in hundreds of files) brought to the steps' side through the
// relay's command files, in chunks a Part-A server's `bash -c` can take: every byte arrives
// (sha256 of each file compared on both sides), executable bits are kept, and the job folder
// holding the copy is gone when the session ends.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();
const FILES = 300;
/** The row's scenario in docs/reliability.md. */
const SCENARIO = `a cached remote action of ${FILES} files, 3 MiB (one file of 1 MiB), copied to the steps’ side through the relay and run`;

describe('a cached remote action copied to the steps’ side', () => {
  it('3 MiB in 300 files (one of 1 MiB) arrives byte for byte, runs, and leaves nothing behind', async () => {
    const row = reliabilityRow('load', SCENARIO);
    const cache = path.join(ctx.workdir, 'cache');
    const action = path.join(cache, 'octo-org-big-action@v1');
    const expected: string[] = [];
    for (let i = 0; i < FILES; i++) {
      const relative = `node_modules/pkg-${i % 30}/lib/file-${i}.js`;
      const bytes = randomBytes(i === 0 ? 1024 * 1024 : 7 * 1024);
      fs.mkdirSync(path.dirname(path.join(action, relative)), { recursive: true });
      fs.writeFileSync(path.join(action, relative), bytes);
      expected.push(`${createHash('sha256').update(bytes).digest('hex')}  ./${relative}`);
    }
    fs.writeFileSync(
      path.join(action, 'check.sh'),
      '#!/usr/bin/env bash\nfind . -name "*.js" -type f | sort | xargs sha256sum\n',
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(action, 'action.yml'),
      [
        'name: Big action',
        'runs:',
        '  using: composite',
        '  steps:',
        '    - name: Check files',
        '      shell: bash',
        '      run: cd "$GITHUB_ACTION_PATH" && ./check.sh',
        '',
      ].join('\n'),
    );
    const program = session.writeFile(
      ctx.workdir,
      '.github/workflows/big.yml',
      [
        'on: push',
        'jobs:',
        '  big:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: octo-org/big-action@v1',
        '',
      ].join('\n'),
    );
    const began = performance.now();
    const { adapter, client } = await session.runUntilStop(ctx, 'entry', {
      program,
      cwd: ctx.workdir,
      actionsCache: cache,
    });
    expect(await session.continueToEnd(client, 0)).toEqual([
      '✓ Check files: exit 0, T s',
      '✓ Run octo-org/big-action@v1: exit 0, T s',
    ]);
    const seconds = (performance.now() - began) / 1000;
    expected.sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
    const printed = (outputByCategory(client).stdout ?? '').trim().split('\n');
    expect(printed).toEqual([...expected].sort((a, b) => a.slice(66).localeCompare(b.slice(66))));
    await session.finish(ctx, adapter);
    // The copy lived in the job folder, which the session removed.
    expect(fs.readdirSync(ctx.tmp).filter((name) => name.startsWith('relay-dap-job.'))).toEqual([]);
    row.figure = `${FILES} files, 3.0 MiB: every sha256 identical; launch to end ${seconds.toFixed(1)} s; job folder removed`;
  });
});
