import { defineConfig } from 'vitest/config';

// `npm run test:editors`: real editors (Neovim + nvim-dap, Emacs + dap-mode, Vim + vimspector,
// VS Code as code-server in chromium)
// driving the adapter with the shipped launch-configs/. Each client's tests skip, saying what
// to install, where it is missing. One editor at a time: each starts adapters and job steps.
export default defineConfig({
  test: {
    include: ['test/editors/**/*.client.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    testTimeout: 240_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // A client that is missing skips; the run ends listing each skip and what to install.
    reporters: ['default', './test/support/skipReporter.ts'],
  },
});
