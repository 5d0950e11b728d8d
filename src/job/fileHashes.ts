/**
 * `hashFiles(…)` for one step, computed before its expressions are evaluated: the files are on
 * the relay server's side, so each call is answered by two commands through the relay (list the
 * candidates under the search roots, then hash the selected files in order) with the rules of
 * src/workflow/hashFiles.ts between them. The results go into the expression context
 * (`fileHashes`), where the extension function reads them.
 */
import type { ExpressionContext } from '../model/expressionContext.js';
import {
  combineDigests,
  hashFilesCommand,
  hashFilesRequest,
  HashFilesError,
  listFilesCommand,
  physicalDirectoryCommand,
  planHashFiles,
  selectFiles,
} from '../workflow/hashFiles.js';
import { type Expr, hashFilesArguments } from '../workflow/expressions.js';
import { hashFilesKey } from '../workflow/hashFilesFunction.js';
import type { LocatedCondition, LocatedTemplate } from '../workflow/locatedExpressions.js';
import type { JobRunner } from './jobRunner.js';

/** The parsed expressions of a step's values (templates and its `if:`). */
export function expressionsOf(values: readonly (LocatedTemplate | LocatedCondition | undefined)[]): Expr[] {
  const found: Expr[] = [];
  for (const value of values) {
    if (value === undefined) continue;
    const parts =
      'parts' in value
        ? value.parts
        : value.condition.body.kind === 'expression'
          ? [value.condition.body]
          : value.condition.body.parts;
    for (const part of parts) if ('expr' in part) found.push(part.expr);
  }
  return found;
}

export class FileHashes {
  /** The workspace as the runner's hashFiles script sees it (`pwd -P`), by the directory asked. */
  private readonly physical = new Map<string, string>();

  /**
   * The hash of every `hashFiles(…)` call in `expressions`, by its arguments; empty when there
   * is none (no command is sent). Throws a HashFilesError naming the call.
   */
  async compute(
    expressions: readonly Expr[],
    context: ExpressionContext,
    runner: JobRunner,
    workspace: string,
  ): Promise<Map<string, string>> {
    const hashes = new Map<string, string>();
    for (const expr of expressions) {
      for (const args of hashFilesArguments(expr, context)) {
        const key = hashFilesKey(args);
        if (!hashes.has(key)) hashes.set(key, await this.hash(args, runner, workspace));
      }
    }
    return hashes;
  }

  private async hash(args: string[], runner: JobRunner, workspace: string): Promise<string> {
    const call = `hashFiles(${args.map((arg) => `'${arg.replaceAll("'", "''")}'`).join(', ')})`;
    const ask = async (text: string, what: string): Promise<string> => {
      const answer = await runner.captureCommand(text);
      const output = answer.output.toString('utf8');
      if (answer.exitCode !== 0) {
        throw new HashFilesError(
          `${call} failed: could not ${what} under ${workspace} on the relay server's side: ` +
            `${output.replaceAll('\0', '\n').trim().split('\n').slice(-1)[0] || `exit code ${answer.exitCode}`}`,
        );
      }
      return output;
    };
    let physical = this.physical.get(workspace);
    if (physical === undefined) {
      physical = (await ask(physicalDirectoryCommand(workspace), 'enter the workspace')).split('\0')[0] ?? '';
      this.physical.set(workspace, physical);
    }
    const plan = planHashFiles(hashFilesRequest(args), physical);
    const files = selectFiles(plan, await ask(listFilesCommand(plan), 'list the files'));
    if (files.length === 0) return '';
    return combineDigests(await ask(hashFilesCommand(files), 'hash the files'));
  }
}
