// Lint rules: typescript-eslint's type-aware recommended set for TypeScript, the plain
// recommended set for the JavaScript scripts, and the few rules that protect this project's
// promises (stdout of the stdio adapter carries DAP only) and its layers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * The layers of src/ (docs: README and the design notes): model ← workflow ← job ← dap,
 * job → relay, relay → io/time only, cli → all. Each folder lists what it may not import, as
 * ESLint's own no-restricted-imports (static imports, `import type`, `export … from`) and
 * no-restricted-syntax (dynamic `import()`, which no-restricted-imports does not see). Every
 * folder is flat, so a relative path into another folder is `../<folder>/…`.
 * test/lint/layers.test.ts lints a deliberate violation of each rule, and checks the whole
 * import graph of src/ against the same layers.
 */
const intoFolder = (folder, why) => ({ regex: `^(\\.\\./)+${folder}(/|$)`, what: `src/${folder}`, why });
const nodeModule = (name, why) => ({ regex: `^(node:)?${name}(/|$)`, what: `node:${name}`, why });
const BELOW_RELAY = 'the relay layer imports nothing above it (only src/io and src/time)';
const BELOW_JOB = 'the job layer sits below the adapter and the command line';
const BELOW_WORKFLOW = 'workflows are read below the job layer';
const JOB_API_ONLY = 'the adapter sees only the Job API (its host does the I/O)';

/** What each folder of src/ may not import. */
export const layerRules = {
  relay: ['job', 'workflow', 'dap', 'cli', 'model'].map((folder) => intoFolder(folder, BELOW_RELAY)),
  model: [{ regex: '^\\.\\./', what: 'another folder of src/', why: 'the job model is a leaf' }],
  job: ['dap', 'cli'].map((folder) => intoFolder(folder, BELOW_JOB)),
  workflow: ['job', 'dap', 'cli'].map((folder) => intoFolder(folder, BELOW_WORKFLOW)),
  dap: [
    intoFolder('cli', 'the command line is above the adapter'),
    intoFolder('relay', JOB_API_ONLY),
    nodeModule('fs', JOB_API_ONLY),
    nodeModule('child_process', JOB_API_ONLY),
  ],
};

/** The flat-config objects that enforce `layerRules`, one per folder. */
export function layerConfigs() {
  return Object.entries(layerRules).map(([folder, forbidden]) => {
    const message = ({ what, why }) => `src/${folder} may not import ${what}: ${why}.`;
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        'no-restricted-imports': [
          'error',
          { patterns: forbidden.map((rule) => ({ regex: rule.regex, message: message(rule) })) },
        ],
        'no-restricted-syntax': [
          'error',
          ...forbidden.map((rule) => ({
            selector: `ImportExpression[source.value=/${rule.regex.replaceAll('/', '\\/')}/]`,
            message: message(rule),
          })),
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bench/results/', 'test/fixtures/**/*.js'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // An async API may finish synchronously today; callers still await it.
      '@typescript-eslint/require-await': 'off',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Everything under src/ may run inside the stdio adapter, whose stdout is the DAP stream.
    files: ['src/**/*.ts'],
    rules: { 'no-console': ['error', { allow: ['error', 'warn'] }] },
  },
  ...layerConfigs(),
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: { eqeqeq: ['error', 'always'] },
  },
);
