// A secret appears in no channel: a step prints a secret cut at every position between two reads
// of its output (the step waits, after the first piece, until the test has seen that piece's
// line begin), masks a value with `::add-mask::` that a later step prints, and fails with the
// secret in its output; then the paused job is looked at every way a user can. Every message the
// adapter sent, its stderr (trace: true), its log file and a trace file are searched for the
// values and for each piece of the cut secret.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TIMEOUT_MS, launchAndConfigure, useAdapterContext } from '../support/adapterHarness.js';
import * as session from '../support/jobSession.js';
import { waitUntil } from '../support/relayHarness.js';
import { leaks, receivedMessages } from '../support/secretLeaks.js';
import { reliabilityRow } from './report.js';

const ctx = useAdapterContext();

const WORKFLOW = `name: Cut secrets
on: push
env:
  TOKEN: \${{ secrets.TOKEN }}
jobs:
  cut:
    runs-on: ubuntu-latest
    steps:
      - name: Print the token cut at each position
        run: |
          for i in $(seq 1 $((\${#TOKEN} - 1))); do
            printf 'cut %d: %s' "$i" "\${TOKEN:0:$i}"
            until [ -e "go-$i" ]; do sleep 0.02; done
            printf '%s\\n' "\${TOKEN:$i}"
          done
      - name: Mask a session id
        run: |
          id=$(printf '%s' "$TOKEN" | sha256sum | cut -c1-20)
          echo "::add-mask::$id"
          echo "SESSION=$id" >> "$GITHUB_ENV"
      - name: Use them
        run: |
          echo "session $SESSION, token $TOKEN"
          exit 1
`;

describe('secrets in every channel', () => {
  it('a secret cut at every position between two reads, an ::add-mask:: value echoed by a later step, and a failure showing both appear in no output event, response, stderr, log file or trace file', async () => {
    const row = reliabilityRow(
      'hostile input',
      'exposure: a secret cut at every position between two reads of a step’s output, an `::add-mask::` value printed by a later step, then evaluate, hover, variables, exceptionInfo and `!CMD` at the failure: searched for in every message to the client, stderr, --log-file and the trace file',
    );
    const root = fs.realpathSync(ctx.workdir);
    const program = session.writeFile(root, '.github/workflows/cut.yml', WORKFLOW);
    const token = `Zq${randomBytes(15).toString('base64url')}`;
    const sessionId = createHash('sha256').update(token).digest('hex').slice(0, 20);
    const logFile = path.join(ctx.tmp, 'adapter.log');
    const traceFile = path.join(ctx.tmp, 'trace.jsonl');
    const adapter = ctx.spawnStdio(['--log-file', logFile]);
    const { client } = adapter;
    await launchAndConfigure(client, {
      program,
      cwd: root,
      stopOnEntry: false,
      trace: traceFile,
      secrets: { TOKEN: token },
    });
    const cuts = token.length - 1;
    for (let i = 1; i <= cuts; i++) {
      await waitUntil(
        () => client.output('stdout').includes(`cut ${i}: `),
        `the first piece of cut ${i}`,
        EVENT_TIMEOUT_MS,
      );
      // The piece is held back while it could still be the start of the secret.
      expect(client.output('stdout').endsWith(`cut ${i}: `)).toBe(true);
      fs.writeFileSync(path.join(root, `go-${i}`), '');
    }
    await session.stoppedAt(client, 'exception');
    const [top] = await session.frames(client);
    const looks: string[] = [];
    for (const [expression, context] of [
      ['env.TOKEN', 'hover'],
      ['env.SESSION', 'watch'],
      ['step.lastOutput', 'repl'],
    ] as const) {
      const answer = await client.request('evaluate', { expression, context, frameId: top!.id });
      looks.push(answer.body.result);
    }
    expect(looks).toEqual(['***', '***', 'session ***, token ***\n']);
    const exception = await client.request('exceptionInfo', { threadId: 1 });
    expect(exception.body.details?.stackTrace).toBe('session ***, token ***\n');
    expect(await session.consoleResult(client, '!echo "$TOKEN $SESSION"')).toBe('exit 0');
    await session.continueToEnd(client, 1);
    const stdout = client.output('stdout').split('\n');
    expect(stdout.filter((line) => line.startsWith('cut '))).toEqual(
      Array.from({ length: cuts }, (_, index) => `cut ${index + 1}: ***`),
    );
    expect(stdout.slice(cuts)).toEqual(['::add-mask::***', 'session ***, token ***', '*** ***', '']);
    await session.finish(ctx, adapter);

    // Every piece of the cut secret of 6 characters or more (shorter ones could occur by chance).
    const pieces: Record<string, string> = {};
    for (let i = 1; i <= cuts; i++) {
      if (i >= 6) pieces[`head of cut ${i}`] = token.slice(0, i);
      if (token.length - i >= 6) pieces[`tail of cut ${i}`] = token.slice(i);
    }
    const channels = {
      'messages to the client': receivedMessages(client),
      'log file': fs.readFileSync(logFile, 'utf8'),
      'trace file': fs.readFileSync(traceFile, 'utf8'),
      stderr: adapter.stderr(),
    };
    expect(channels['trace file']).toContain('"secrets":{"TOKEN":"***"}');
    expect(leaks(channels, { token, sessionId, ...pieces })).toEqual([]);
    const outputEvents = client.transcript.filter(
      ({ direction, message }) =>
        direction === 'received' &&
        message.type === 'event' &&
        (message as { event?: string }).event === 'output',
    ).length;
    const traceLines = channels['trace file'].split('\n').length - 1;
    row.figure =
      `a ${token.length}-character secret cut at each of ${cuts} positions, and an ::add-mask:: value: ` +
      `0 of ${Object.keys(pieces).length + 2} values and pieces (6+ characters) in ${outputEvents} output events, ` +
      `${traceLines} trace-file lines, the log file and stderr; each first piece held back until its rest came`;
  });
});
