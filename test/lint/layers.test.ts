/**
 * The layers of src/ stay as designed: model ← workflow ← job ← dap, job → relay,
 * relay → io/time only, cli → all. Two checks: each per-folder lint rule of eslint.config.mjs
 * fires on a deliberate violation (ESLint's Node API, lintText with a path inside the folder),
 * and the import graph of the real files has no cycle and no arrow against the layers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ForbiddenImport {
  regex: string;
  what: string;
  why: string;
}
interface LayerConfigModule {
  layerRules: Record<string, ForbiddenImport[]>;
  layerConfigs(): Linter.Config[];
}
// eslint.config.mjs is plain JavaScript: loaded by URL, typed here.
const eslintConfig = (await import(
  pathToFileURL(path.join(root, 'eslint.config.mjs')).href
)) as LayerConfigModule;

/** An import specifier that `rule` is meant to stop, written from a file one folder below src/. */
function violatingSpecifier(rule: ForbiddenImport): string {
  if (rule.what.startsWith('node:')) return rule.what;
  if (rule.what.startsWith('src/')) return `../${rule.what.slice('src/'.length)}/some.js`;
  return '../io/userFile.js'; // "another folder of src/"
}

describe('layering lint rules (eslint.config.mjs)', () => {
  // The rules alone, with a parser that needs no TypeScript project: a file that does not exist
  // (src/model/ is new) can be linted by its path.
  const layersOnly = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } },
      ...eslintConfig.layerConfigs(),
    ],
  });
  const errorsOf = async (filePath: string, code: string): Promise<string[]> => {
    const [result] = await layersOnly.lintText(code, { filePath });
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`);
  };

  const cases = Object.entries(eslintConfig.layerRules).flatMap(([folder, forbidden]) =>
    forbidden.map((rule) => [folder, violatingSpecifier(rule), rule] as const),
  );
  it.each(cases)(
    'src/%s importing %s is an error, however it is imported',
    async (folder, specifier, rule) => {
      const filePath = `src/${folder}/deliberateViolation.ts`;
      const expected = `src/${folder} may not import ${rule.what}: ${rule.why}.`;
      for (const code of [
        `import { thing } from '${specifier}';\nexport const used = thing;\n`,
        `import type { Thing } from '${specifier}';\nexport type Used = Thing;\n`,
        `export * from '${specifier}';\n`,
        `export const loaded = await import('${specifier}');\n`,
      ]) {
        const errors = await errorsOf(filePath, code);
        expect(errors, code).toHaveLength(1);
        expect(errors[0], code).toMatch(/^no-restricted-(imports|syntax): /);
        expect(errors[0], code).toContain(expected);
      }
    },
  );

  it.each([
    ['relay', './files.js'],
    ['relay', '../io/fileOwner.js'],
    ['relay', '../time/longTimeout.js'],
    ['model', './step.js'],
    ['workflow', '../model/step.js'],
    ['job', '../workflow/workflowFile.js'],
    ['job', '../relay/client.js'],
    ['dap', '../job/jobRunner.js'],
    ['dap', 'node:net'],
    ['cli', '../relay/server.js'],
  ])('src/%s may import %s', async (folder, specifier) => {
    const code = `import { thing } from '${specifier}';\nexport const used = thing;\nexport const loaded = await import('${specifier}');\n`;
    expect(await errorsOf(`src/${folder}/allowedImport.ts`, code)).toEqual([]);
  });

  it("the project's ESLint configuration applies them to each folder", async () => {
    const project = new ESLint({ cwd: root });
    for (const config of eslintConfig.layerConfigs()) {
      const folderGlob = config.files![0] as string;
      const filePath = folderGlob.replace('**/*.ts', 'anyFile.ts');
      const applied = (await project.calculateConfigForFile(filePath)) as Linter.Config;
      for (const ruleId of ['no-restricted-imports', 'no-restricted-syntax']) {
        const [, ...options] = config.rules![ruleId] as [string, ...unknown[]];
        expect(applied.rules?.[ruleId], `${ruleId} for ${filePath}`).toEqual([2, ...options]);
      }
    }
  });
});

// ── The import graph of src/, from the real files ────────────────────────────────────────

/** What each folder of src/ may import (besides itself). Acyclic: see the first test. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  time: [],
  io: [],
  model: [],
  relay: ['io', 'time'],
  workflow: ['model', 'io', 'time'],
  job: ['workflow', 'model', 'relay', 'io', 'time'],
  dap: ['job', 'model', 'io', 'time'],
  cli: ['dap', 'job', 'workflow', 'model', 'relay', 'io', 'time'],
};

/** Every source file of src/ and the files of src/ it imports (static, type-only, re-exports, import()). */
function importGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const files = fs
    .readdirSync(path.join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.[cm]?[jt]s$/.test(file))
    .map((file) => path.posix.join('src', file.split(path.sep).join('/')));
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const imported = new Set<string>();
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package or a node: module
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
      // NodeNext: `./x.js` in TypeScript source names `./x.ts`.
      const source = [target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), target].find((name) =>
        fs.existsSync(path.join(root, name)),
      );
      imported.add(source ?? target);
    }
    graph.set(file, imported);
  }
  return graph;
}

const folderOf = (file: string): string => file.split('/')[1]!;

/** Groups of two or more nodes that reach each other (Tarjan's strongly connected components). */
function cycles(graph: Map<string, Iterable<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      component.push(member);
    } while (member !== node);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the import graph of src/', () => {
  const graph = importGraph();
  const arrows = [...graph].flatMap(([from, targets]) => [...targets].map((to) => ({ from, to })));

  it('the layers themselves point one way (the table in this test is acyclic)', () => {
    expect(cycles(new Map(Object.entries(MAY_IMPORT)))).toEqual([]);
  });

  it('has every file it imports (the graph is read right)', () => {
    expect(graph.size).toBeGreaterThan(50);
    const missing = arrows.filter(({ to }) => !graph.has(to)).map(({ from, to }) => `${from} -> ${to}`);
    expect(missing).toEqual([]);
  });

  it('has no cycle between files', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no arrow against the layers', () => {
    const against = arrows
      .filter(({ from, to }) => folderOf(from) !== folderOf(to))
      .filter(({ from, to }) => {
        const allowed = MAY_IMPORT[folderOf(from)];
        if (allowed === undefined) return true; // a new folder: give it its place in MAY_IMPORT
        return !allowed.includes(folderOf(to));
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(against).toEqual([]);
  });

  it('has no cycle between folders', () => {
    const folders = new Map<string, Set<string>>();
    for (const { from, to } of arrows) {
      if (folderOf(from) === folderOf(to)) continue;
      const targets = folders.get(folderOf(from)) ?? new Set<string>();
      folders.set(folderOf(from), targets.add(folderOf(to)));
      if (!folders.has(folderOf(to))) folders.set(folderOf(to), new Set());
    }
    expect(cycles(folders)).toEqual([]);
  });
});
