/**
 * vitest globalSetup: derives the DAP schema once, before the test workers start, so that each of
 * them reads it from the cache instead of running the generator itself (see dapSchemaSource.ts).
 */
import { cachedDapSchema } from './dapSchemaSource.js';

export function setup(): void {
  cachedDapSchema();
}
