import { defineConfig } from 'vitest/config';

// Tests spawn real bash, real relay servers and the adapter as a real process; on a loaded
// 2-core machine they need room, so time limits are generous and parallelism is bounded.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The reliability suite has its own run (npm run test:reliability) and report; the real
    // editors theirs (npm run test:editors).
    exclude: ['test/reliability/**', 'test/editors/**/*.client.test.ts', '**/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Derive the DAP schema once for all workers (test/support/dapSchemaSource.ts).
    globalSetup: ['test/support/dapSchemaSetup.ts'],
    // The default reporter only counts skips; skipReporter ends the run with each one and why.
    reporters: ['default', './test/support/skipReporter.ts'],
  },
});
