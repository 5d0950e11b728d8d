/**
 * hashFiles() as GitHub documents it ("Evaluate expressions in workflows and actions",
 * hashFiles: "calculates an individual SHA-256 hash for each matched file and then uses those
 * hashes to calculate a final SHA-256 hash for the set of files"): the value tests compare
 * relay-dap's result with, for files given in the order the runner walks them.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function documentedHashFiles(root: string, files: readonly string[]): string {
  const all = createHash('sha256');
  for (const file of files)
    all.update(
      createHash('sha256')
        .update(fs.readFileSync(path.join(root, file)))
        .digest(),
    );
  return all.digest('hex');
}
