/**
 * A reporter that ends the run with the tests it skipped, one line each with file, name and reason
 * (the note of `skip(reason)`, or the reason a title carries), and prints nothing when none were.
 * The default reporter only counts skips, so a run where a missing tool skipped a whole suite
 * looked as green as a complete one.
 */
import type { Reporter, TestCase, TestModule, Vitest } from 'vitest/node';

/** What `-t PATTERN` is matched against, as vitest's runner builds it: suite names, then the test's. */
function filterName(test: TestCase): string {
  const names = [test.name];
  for (let parent = test.parent; parent.type === 'suite'; parent = parent.parent) names.unshift(parent.name);
  return names.join(' ');
}

export default class SkipReporter implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(testModules: readonly TestModule[]): void {
    const lines: string[] = [];
    let todo = 0;
    const namePattern = this.vitest?.config.testNamePattern;
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests('skipped')) {
        // Left out by `-t`, which is the developer's choice, not a skip.
        if (namePattern !== undefined && !filterName(test).match(namePattern)) continue;
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        if (test.options.mode === 'todo') todo += 1;
        const why = note ?? (test.options.mode === 'todo' ? 'todo' : undefined);
        lines.push(
          `  ${testModule.relativeModuleId} > ${test.fullName}${why === undefined ? '' : `: ${why}`}`,
        );
      }
    }
    if (lines.length === 0) return;
    const counts = `${lines.length - todo} skipped${todo > 0 ? `, ${todo} todo` : ''}`;
    const log = this.vitest?.logger.log.bind(this.vitest.logger) ?? console.log;
    log(`${counts}:\n${lines.join('\n')}`);
  }
}
