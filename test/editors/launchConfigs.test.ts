/**
 * The editor configurations in launch-configs/ and the VS Code manifest in package.json:
 * every JSON configuration validates against the one launch/attach schema, the manifest's
 * configurationAttributes are generated from it, and the Lua and Lisp files at least parse.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import luaparse from 'luaparse';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateAttachArguments, validateLaunchArguments } from '../../src/dap/launchSchema.js';
import { repoRoot } from '../support/relayHarness.js';

const configs = path.join(repoRoot, 'launch-configs');
const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  contributes: {
    breakpoints: { language: string }[];
    debuggers: {
      type: string;
      program: string;
      initialConfigurations: Record<string, unknown>[];
      configurationSnippets: { label: string; body: Record<string, unknown> }[];
      configurationAttributes: Record<string, { properties: Record<string, unknown> }>;
    }[];
  };
};

/**
 * A value as the editor sends it: a snippet's placeholders filled with their defaults (`${1:x}`
 * → `x`, `^"\\${…}"` → `${…}`), then `${workspaceFolder}` replaced by a folder, as VS Code,
 * nvim-dap and vimspector do before the adapter sees a configuration.
 */
function asSent(value: unknown): unknown {
  if (typeof value === 'string')
    return value
      .replace(/^\^"(.*)"$/, '$1')
      .replaceAll('\\${', '${')
      .replace(/\$\{\d+:([^}]*)\}/g, '$1')
      .replaceAll('${workspaceFolder}', '/home/someone/project');
  if (Array.isArray(value)) return value.map(asSent);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, each]) => [key, asSent(each)]));
  return value;
}

/** A configuration as the adapter would receive it (request decides which schema). */
function check(configuration: Record<string, unknown>, where: string): void {
  const validate = configuration.request === 'attach' ? validateAttachArguments : validateLaunchArguments;
  try {
    validate(asSent(configuration));
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
  }
}

function filesEnding(extension: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(extension)) found.push(file);
    }
  };
  walk(configs);
  return found;
}

/** Reads Emacs Lisp far enough to know it is balanced: strings, comments, escapes, parentheses. */
function readSexps(text: string): number {
  let depth = 0;
  let forms = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ';') while (i < text.length && text[i] !== '\n') i++;
    else if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (i >= text.length) throw new Error('unterminated string');
    } else if (c === '?' && text[i + 1] === '\\') i += 2;
    else if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth < 0) throw new Error(`unbalanced ) at offset ${i}`);
      if (depth === 0) forms++;
    }
  }
  if (depth !== 0) throw new Error(`${depth} unclosed (`);
  return forms;
}

describe('package.json as a VS Code extension manifest', () => {
  const debuggerEntry = manifest.contributes.debuggers[0]!;

  it('is in sync with src/dap/launchSchema.ts (npm run sync-manifest)', () => {
    const result = spawnSync(
      process.execPath,
      [path.join(repoRoot, 'scripts', 'sync-manifest.mjs'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('contributes the relay debugger, run by node from dist/, with breakpoints in YAML and (for !debug) Python', () => {
    expect(debuggerEntry.type).toBe('relay');
    expect(fs.existsSync(path.join(repoRoot, debuggerEntry.program))).toBe(true);
    expect(Object.keys(debuggerEntry.configurationAttributes).sort()).toEqual(['attach', 'launch']);
    expect(manifest.contributes.breakpoints.map((b) => b.language)).toEqual(
      expect.arrayContaining(['yaml', 'python']),
    );
  });

  it('has initial configurations and snippets that validate against the schema', () => {
    debuggerEntry.initialConfigurations.forEach((configuration, i) =>
      check(configuration, `initialConfigurations[${i}]`),
    );
    const labels = debuggerEntry.configurationSnippets.map((snippet) => snippet.label);
    expect(labels).toEqual([
      'relay-dap: run a command',
      'relay-dap: run a job file',
      'relay-dap: debug a workflow job',
      'relay-dap: attach to a relay',
      'relay-dap: connect to a running relay-dap --server',
    ]);
    for (const snippet of debuggerEntry.configurationSnippets) check(snippet.body, snippet.label);
  });
});

describe('launch-configs/', () => {
  it('holds every editor the README names', () => {
    for (const file of [
      'vscode-launch.json',
      'nvim-dap.lua',
      'vimspector.json',
      'dap-mode.el',
      'mason/package.yaml',
      'demo-job.yml',
    ]) {
      expect(fs.existsSync(path.join(configs, file)), file).toBe(true);
    }
  });

  it('VS Code: every configuration validates, and each says when to use it', () => {
    const launch = JSON.parse(fs.readFileSync(path.join(configs, 'vscode-launch.json'), 'utf8')) as {
      configurations: Record<string, unknown>[];
    };
    expect(launch.configurations.length).toBeGreaterThanOrEqual(5);
    for (const configuration of launch.configurations) {
      expect(configuration.type).toBe('relay');
      expect(String(configuration['//'])).toMatch(/^Use /);
      check(configuration, String(configuration.name));
    }
    expect(launch.configurations.some((c) => c.debugServer === 4711)).toBe(true);
  });

  it('vimspector: every configuration validates against the schema', () => {
    const file = JSON.parse(fs.readFileSync(path.join(configs, 'vimspector.json'), 'utf8')) as {
      adapters: Record<string, unknown>;
      configurations: Record<string, { adapter: string; configuration: Record<string, unknown> }>;
    };
    for (const [name, entry] of Object.entries(file.configurations)) {
      expect(Object.keys(file.adapters), name).toContain(entry.adapter);
      check(entry.configuration, name);
    }
  });

  it('every JSON file parses', () => {
    for (const file of filesEnding('.json')) {
      expect(() => void JSON.parse(fs.readFileSync(file, 'utf8')), file).not.toThrow();
    }
  });

  it('nvim-dap: the Lua parses and declares the executable, ${port} server and fixed-port adapters', () => {
    for (const file of filesEnding('.lua')) {
      const text = fs.readFileSync(file, 'utf8');
      expect(() => void luaparse.parse(text, { luaVersion: '5.1' }), file).not.toThrow();
    }
    const text = fs.readFileSync(path.join(configs, 'nvim-dap.lua'), 'utf8');
    expect(text).toMatch(/type = 'executable'/);
    expect(text).toMatch(/port = '\$\{port\}'/);
    expect(text).toMatch(/port = 4711/);
  });

  it('Emacs dap-mode: the Lisp reads as balanced forms', () => {
    for (const file of filesEnding('.el'))
      expect(readSexps(fs.readFileSync(file, 'utf8')), file).toBeGreaterThan(3);
  });

  it('mason: package.yaml names the npm package at this version', () => {
    const entry = parseYaml(fs.readFileSync(path.join(configs, 'mason', 'package.yaml'), 'utf8')) as {
      name: string;
      source: { id: string };
      bin: Record<string, string>;
    };
    expect(entry.name).toBe('relay-dap');
    expect(entry.source.id).toBe(`pkg:npm/relay-dap@${manifest.version}`);
    expect(entry.bin).toEqual({ 'relay-dap': 'npm:relay-dap' });
  });

  it('the Lisp reader can fail (so the check above means something)', () => {
    expect(() => readSexps('(a (b "c)"')).toThrow();
    expect(() => readSexps('(a))')).toThrow();
  });
});
