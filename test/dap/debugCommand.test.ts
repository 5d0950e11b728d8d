// What `!debug …` in the debug console asks to debug, the one-line refusals of what it cannot, and how its paths map.
import { describe, expect, it } from 'vitest';
import { childPathMapping } from '../../src/dap/childPathMapping.js';
import { parseDebugCommand } from '../../src/dap/debugCommand.js';
import { directoryUnder } from '../../src/job/stepCommand.js';

describe('!debug console text', () => {
  it('names a script with its arguments, quoted as a shell would, for python, python3 or a path to one', () => {
    expect(parseDebugCommand(`debug python train.py --lr 0.1 'a b' "c \\"d\\""`)).toEqual({
      python: 'python',
      target: { program: 'train.py' },
      args: ['--lr', '0.1', 'a b', 'c "d"'],
    });
    expect(parseDebugCommand('debug /usr/bin/python3.11 x.py')).toMatchObject({
      python: '/usr/bin/python3.11',
    });
  });

  it('names a module with -m', () => {
    expect(parseDebugCommand('debug python3 -m pkg.tool run')).toEqual({
      python: 'python3',
      target: { module: 'pkg.tool' },
      args: ['run'],
    });
  });

  it('leaves other shell text alone (debugger, debugfs are commands of their own)', () => {
    expect(parseDebugCommand('ls -la')).toBeUndefined();
    expect(parseDebugCommand('debugfs /dev/sda1')).toBeUndefined();
  });

  it('refuses what it cannot debug, saying how to type it', () => {
    expect(() => parseDebugCommand('debug node app.js')).toThrow(
      /^!debug runs a Python program under debugpy: usage: !debug python SCRIPT\.py ARGS… or !debug python -m MODULE ARGS…/,
    );
    expect(() => parseDebugCommand('debug python -m')).toThrow(/^!debug: -m needs a module name: usage:/);
    expect(() => parseDebugCommand('debug python -X dev x.py')).toThrow(/^!debug: name the script to debug/);
  });
});

describe("a child session's path mapping (debugpy's pathMappings)", () => {
  it('maps the far working directory to localRoot, or to itself without one', () => {
    expect(childPathMapping('/home/me/project', '/workspace')).toEqual({
      localRoot: '/home/me/project',
      remoteRoot: '/workspace',
    });
    expect(childPathMapping(undefined, '/workspace')).toEqual({
      localRoot: '/workspace',
      remoteRoot: '/workspace',
    });
  });

  it("maps the launch's cwd to localRoot from a job file's or a step's own directory; an absolute one to itself", () => {
    // The far side's directory ends with it: the whole tree maps (files beside `tools` too).
    expect(childPathMapping('/home/me/project', '/workspace/tools/x', 'tools/x')).toEqual({
      localRoot: '/home/me/project',
      remoteRoot: '/workspace',
    });
    // It does not (a symlink resolved by os.getcwd()): that directory maps to its place here.
    expect(childPathMapping('/home/me/project', '/data/real-tools', 'tools')).toEqual({
      localRoot: '/home/me/project/tools',
      remoteRoot: '/data/real-tools',
    });
    expect(childPathMapping('/home/me/project', '/opt/tools', '/opt/tools')).toEqual({
      localRoot: '/opt/tools',
      remoteRoot: '/opt/tools',
    });
  });

  it("places a job's or a step's directory relative to the launch's cwd, absolute only where it is not under it", () => {
    expect(directoryUnder('/workspace', '/workspace')).toBeUndefined();
    expect(directoryUnder('/workspace', '/workspace/app/src')).toBe('app/src');
    expect(directoryUnder('/workspace', '/opt/tools')).toBe('/opt/tools');
    expect(directoryUnder(undefined, 'app')).toBe('app');
    expect(directoryUnder('build', 'build/app')).toBe('app');
    expect(directoryUnder('/workspace', undefined)).toBeUndefined();
  });
});
