// hashFiles() over a workspace where another user chose the file names: the names travel
// through the relay twice (listed by the far side, quoted back into the hashing command), so a
// newline, a quote, `$(…)` or a leading dash in a name must be data, never shell, and the hash
// must still be GitHub's.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputByCategory, useAdapterContext } from '../support/adapterHarness.js';
import { documentedHashFiles } from '../support/documentedHash.js';
import * as session from '../support/jobSession.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();

describe('hashFiles() and hostile file names', () => {
  it('names with a newline, quotes, $(…), backticks and a leading dash are hashed as files, never run', async () => {
    const row = reliabilityRow(
      'hostile input',
      'hashFiles() over file names holding a newline, quotes, `$(…)`, backticks, a leading dash',
    );
    const names = [
      '-rf.lock',
      'a\nnewline.lock',
      "it's.lock",
      '$(touch PWNED).lock',
      '`touch PWNED2`.lock',
      'sp ace".lock',
    ];
    for (const [i, name] of names.entries()) fs.writeFileSync(path.join(ctx.workdir, name), `lock ${i}\n`);
    const program = session.writeOneJobWorkflow(ctx.workdir, 'keys.yml', [
      '    steps:',
      '      - run: echo "${{ hashFiles(\'**/*.lock\') }}"',
    ]);
    const adapter = await ctx.runJob(session.pastEntry(ctx, program));
    const { client } = adapter;
    await session.runToEnd(client, 0);
    // One directory: the runner's order is the names' byte order.
    const ordered = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(outputByCategory(client).stdout).toBe(`${documentedHashFiles(ctx.workdir, ordered)}\n`);
    const ran = ['PWNED', 'PWNED2'].filter((marker) => fs.existsSync(path.join(ctx.workdir, marker)));
    expect(ran).toEqual([]);
    row.figure = `${names.length} hostile names hashed, equal to the documented value; 0 commands run from a name`;
    await session.finish(ctx, adapter);
  });
});
