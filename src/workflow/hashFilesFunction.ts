/**
 * `hashFiles()` as an extension function of GitHub's expression library: the parser learns its
 * name and arity; the evaluator returns the hash computed before the evaluation (the files are
 * on the relay server's side, which an expression cannot reach while it is evaluated: the job
 * layer hashes them first, see src/job/fileHashes.ts and hashFiles.ts).
 */
import { StringData } from '@actions/expressions/data/index';
import type { FunctionDefinition, FunctionInfo } from '@actions/expressions/funcs/info';

/**
 * The text a call's result is remembered by (the same arguments give the same hash in one step).
 * Here, not in hashFiles.ts, so that parsing and evaluating expressions does not load minimatch.
 */
export function hashFilesKey(args: readonly string[]): string {
  return JSON.stringify(args);
}

/** At least one pattern; as many as GitHub's parser takes. */
export const HASH_FILES: FunctionInfo = { name: 'hashFiles', minArgs: 1, maxArgs: 255 };

export function hashFilesFunction(hashes: ReadonlyMap<string, string> | undefined): FunctionDefinition {
  return {
    ...HASH_FILES,
    call: (...args) => {
      const hash = hashes?.get(hashFilesKey(args.map((arg) => arg.coerceString())));
      if (hash === undefined) {
        // GitHub offers hashFiles only in a step's keys; relay-dap computes it just before a step runs.
        throw new Error(
          "hashFiles() is computed where the files are, just before a step runs: use it in a step's if, run, env, " +
            'working-directory or timeout-minutes (as on GitHub), not here',
        );
      }
      return new StringData(hash);
    },
  };
}
