import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: faults, load and hostile input, each recorded as a row of
// docs/reliability.md (see test/reliability/report.ts). Slower than `npm test`: it prints a
// gigabyte, drains a thousand commands and runs twenty sessions at once.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    globalSetup: ['test/reliability/report.ts', 'test/support/dapSchemaSetup.ts'],
    reporters: ['default', './test/support/skipReporter.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
