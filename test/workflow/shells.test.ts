import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildStepScript,
  resolveShell,
  ShellError,
  type StepScriptOptions,
} from '../../src/workflow/shells.js';
import { shellQuote } from '../../src/workflow/shellQuote.js';

describe('resolveShell', () => {
  it('maps the built-in shells to GitHub templates and extensions', () => {
    expect(resolveShell('bash')).toEqual({
      template: 'bash --noprofile --norc -eo pipefail {0}',
      extension: '.sh',
    });
    expect(resolveShell('sh')).toEqual({ template: 'sh -e {0}', extension: '.sh' });
    expect(resolveShell('python')).toEqual({ template: 'python {0}', extension: '.py' });
  });

  it("uses the Linux runner's default when no shell is given", () => {
    expect(resolveShell(undefined)).toEqual({ template: 'bash -e {0}', extension: '.sh' });
    expect(resolveShell('')).toEqual({ template: 'bash -e {0}', extension: '.sh' });
  });

  it('accepts a custom command line holding {0}, with the extension of its command', () => {
    expect(resolveShell('bash -x {0}')).toEqual({ template: 'bash -x {0}', extension: '.sh' });
    expect(resolveShell('python -u {0}')).toEqual({ template: 'python -u {0}', extension: '.py' });
    expect(resolveShell('perl {0}')).toEqual({ template: 'perl {0}', extension: '' });
  });

  it("maps Windows PowerShell and cmd to the Windows runner's templates (they run only where they exist)", () => {
    expect(resolveShell('powershell')).toEqual({
      template: `powershell -command ". '{0}'"`,
      extension: '.ps1',
    });
    expect(resolveShell('cmd')).toEqual({
      template: '%ComSpec% /D /E:ON /V:OFF /S /C "CALL "{0}""',
      extension: '.cmd',
    });
    expect(resolveShell('powershell -command ". {0}"')).toEqual({
      template: 'powershell -command ". {0}"',
      extension: '.ps1',
    });
  });

  it("maps pwsh to GitHub's Linux template, and a pwsh command line to .ps1", () => {
    expect(resolveShell('pwsh')).toEqual({ template: `pwsh -command ". '{0}'"`, extension: '.ps1' });
    expect(resolveShell('pwsh -File {0}')).toEqual({ template: 'pwsh -File {0}', extension: '.ps1' });
  });

  it('refuses a custom shell without {0}', () => {
    expect(() => resolveShell('zsh')).toThrow(
      "shell 'zsh' is neither a built-in shell (bash, sh, python) nor a command line holding {0} where the script file goes; write for example 'zsh {0}'",
    );
    expect(() => resolveShell('bash -x')).toThrow(ShellError);
  });
});

function pythonAvailable(): boolean {
  return ['python', 'python3'].some((command) => spawnSync(command, ['--version']).status === 0);
}

describe('buildStepScript run with real bash', () => {
  let directory: string;

  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'relay-dap-shells-'));
  });

  afterEach(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  function options(body: string, shell?: string): StepScriptOptions {
    return {
      body,
      shell,
      tempDirectory: join(directory, 'runner temp'),
      scriptName: 'step-1',
      files: {
        env: join(directory, 'files', 'env'),
        output: join(directory, 'files', 'output'),
        path: join(directory, 'files', 'path'),
        stepSummary: join(directory, 'files', 'summary'),
      },
    };
  }

  function runScript(script: string): { status: number | null; stdout: string; stderr: string } {
    rmSync(join(directory, 'files'), { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(directory, 'files')]);
    const result = spawnSync('bash', ['-c', script], { cwd: directory, encoding: 'utf8' });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('runs a body with tricky characters exactly', () => {
    const body = [
      "printf '%s\\n' \"it's \\$HOME and \\`backticks\\`\"",
      "cat <<'EOF'",
      "a line with $dollar, `tick` and 'quote'",
      'EOF',
      "echo 'EOF'",
      "printf '%s\\n' '%s %d'",
    ].join('\n');
    const result = runScript(buildStepScript(options(body)));
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      "it's $HOME and `backticks`\na line with $dollar, `tick` and 'quote'\nEOF\n%s %d\n",
    );
    expect(result.status).toBe(0);
  });

  it('a step for cmd cannot be built (cmd.exe exists only on Windows); one for a missing powershell says so and exits 127', () => {
    expect(() => buildStepScript(options('dir', 'cmd'))).toThrow(ShellError);
    expect(() => buildStepScript(options('dir', 'cmd'))).toThrow(
      "shell 'cmd' runs cmd.exe, which exists only on Windows runners; the steps run in Linux on the relay server's side, so this step cannot run here: skip it (Set Next Step), or write it for 'bash' or 'pwsh'",
    );
    const script = buildStepScript(options('Write-Output hi', 'powershell'));
    const result = spawnSync('bash', ['-c', script], {
      cwd: directory,
      encoding: 'utf8',
      env: { ...process.env, PATH: '/usr/bin:/bin' },
    });
    expect(result.stderr).toBe(
      "relay-dap: shell: powershell: powershell is not installed where the steps run (the relay server's side): install it there, or write this step for bash\n",
    );
    expect(result.status).toBe(127);
  });

  it('writes the script file byte for byte with the shell extension', () => {
    const body = "echo 'x'\n\nEOF\n'''\n";
    runScript(buildStepScript(options(body, 'bash')));
    expect(readdirSync(join(directory, 'runner temp'))).toEqual(['step-1.sh']);
    expect(readFileSync(join(directory, 'runner temp', 'step-1.sh'), 'utf8')).toBe(body);
  });

  it('propagates the exit code', () => {
    expect(runScript(buildStepScript(options('exit 7'))).status).toBe(7);
    expect(runScript(buildStepScript(options('true'))).status).toBe(0);
    // `bash -e`: the first failing command ends the script.
    const failing = runScript(buildStepScript(options('echo before\nfalse\necho after')));
    expect(failing.status).toBe(1);
    expect(failing.stdout).toBe('before\n');
  });

  it('applies pipefail for shell: bash but not for the default shell', () => {
    const body = 'false | true\necho reached';
    expect(runScript(buildStepScript(options(body, 'bash'))).status).toBe(1);
    const lenient = runScript(buildStepScript(options(body)));
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toBe('reached\n');
  });

  it('runs sh and custom templates', () => {
    expect(runScript(buildStepScript(options('echo "$0"', 'sh'))).stdout).toBe(
      `${join(directory, 'runner temp', 'step-1.sh')}\n`,
    );
    const custom = runScript(buildStepScript(options('echo custom; exit 4', 'bash --norc {0}')));
    expect(custom.stdout).toBe('custom\n');
    expect(custom.status).toBe(4);
  });

  it('creates the file-command files empty and exports their paths', () => {
    const body = [
      'echo "GREETING=hello" >> "$GITHUB_ENV"',
      "{ echo 'notes<<EOF'; echo 'line 1'; echo 'EOF'; } >> \"$GITHUB_OUTPUT\"",
      'echo /opt/tool/bin >> "$GITHUB_PATH"',
      'echo "# Summary" >> "$GITHUB_STEP_SUMMARY"',
    ].join('\n');
    const script = buildStepScript(options(body));
    expect(runScript(script).status).toBe(0);
    const files = join(directory, 'files');
    expect(readFileSync(join(files, 'env'), 'utf8')).toBe('GREETING=hello\n');
    expect(readFileSync(join(files, 'output'), 'utf8')).toBe('notes<<EOF\nline 1\nEOF\n');
    expect(readFileSync(join(files, 'path'), 'utf8')).toBe('/opt/tool/bin\n');
    expect(readFileSync(join(files, 'summary'), 'utf8')).toBe('# Summary\n');

    // A step that writes nothing leaves them empty (they are truncated before each step).
    const again = spawnSync('bash', ['-c', buildStepScript(options('true'))], { cwd: directory });
    expect(again.status).toBe(0);
    expect(readFileSync(join(files, 'env'), 'utf8')).toBe('');
  });

  it('runs shell: python (python or python3)', ({ skip }) => {
    if (!pythonAvailable()) return skip('needs python or python3 on PATH');
    const body = "import sys\nprint('from python', sys.argv[0].endswith('.py'))\nsys.exit(5)\n";
    const result = runScript(buildStepScript(options(body, 'python')));
    expect(result.stdout).toBe('from python True\n');
    expect(result.status).toBe(5);
  });

  it('falls back to python3 when there is no python command', () => {
    // The real interpreter behind python3 (version managers put shims on PATH).
    const probe = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    const python3 = probe.status === 0 ? probe.stdout.trim() : '';
    const hasSystemPython =
      spawnSync('bash', ['-c', 'command -v python'], { env: { PATH: '/usr/bin:/bin' } }).status === 0;
    if (python3 === '' || hasSystemPython) return; // nothing to fall back to, or nothing to fall back from
    // A PATH holding only a python3 link (plus the coreutils the script needs) stands in for a slim image.
    const bin = join(directory, 'only-python3');
    spawnSync('bash', [
      '-c',
      `mkdir -p ${shellQuote(bin)} && ln -s ${shellQuote(python3)} ${shellQuote(join(bin, 'python3'))}`,
    ]);
    const script = buildStepScript(options('print("fallback ok")', 'python'));
    const result = spawnSync('bash', ['-c', script], {
      cwd: directory,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: directory },
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('fallback ok\n');
    expect(result.status).toBe(0);
  });

  it('refuses a body holding a NUL character', () => {
    expect(() => buildStepScript(options('a\0b'))).toThrow('a step script cannot contain a NUL character');
  });
});
