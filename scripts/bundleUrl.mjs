/* global __filename -- this file is injected into a CommonJS bundle, where it exists. */
// Injected into dist/relay-dap.cjs by scripts/bundle.mjs, which replaces every
// `import.meta.url` with this: the bundle's own file URL (CommonJS has no import.meta).
import { pathToFileURL } from 'node:url';

export const bundleUrl = pathToFileURL(__filename).href;
