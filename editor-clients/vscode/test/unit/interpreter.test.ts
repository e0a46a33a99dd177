import { describe, expect, it } from 'vitest';

import { describe as describeCommand, expandPath, serverCandidates } from '../../src/interpreter';

describe('serverCandidates', () => {
  it('uses the setting alone when it is set', () => {
    const candidates = serverCandidates({
      pythonPath: '${workspaceFolder}/.venv/bin/python',
      pythonExtension: '/usr/bin/python3',
      serverArgs: ['--log-level', 'DEBUG', 7],
      workspaceFolder: '/work/ws',
    });
    expect(candidates).toEqual([
      {
        command: '/work/ws/.venv/bin/python',
        args: ['-m', 'specloom_lsp', '--log-level', 'DEBUG'],
        source: 'setting',
        probe: false,
      },
    ]);
  });

  it("tries the Python extension's interpreter, then specloom on the PATH", () => {
    const candidates = serverCandidates({ pythonExtension: '/opt/py/bin/python' });
    expect(candidates.map((c) => [c.command, c.args, c.source, c.probe])).toEqual([
      ['/opt/py/bin/python', ['-m', 'specloom_lsp'], 'python-extension', true],
      ['specloom', ['lsp'], 'path', false],
    ]);
  });

  it('falls back to specloom lsp without the Python extension', () => {
    const candidates = serverCandidates({ pythonPath: '   ' });
    expect(candidates).toHaveLength(1);
    expect(candidates[0]).toMatchObject({ command: 'specloom', args: ['lsp'], source: 'path' });
    expect(describeCommand(candidates[0])).toBe('specloom lsp (from the PATH)');
  });
});

describe('expandPath', () => {
  it('expands ~, the folder variable and relative paths', () => {
    expect(expandPath('~/venv/bin/python', '/ws', '/home/me')).toBe('/home/me/venv/bin/python');
    expect(expandPath('.venv/bin/python', '/ws')).toBe('/ws/.venv/bin/python');
    expect(expandPath('python3', '/ws')).toBe('python3');
    expect(expandPath('/usr/bin/python3', '/ws')).toBe('/usr/bin/python3');
  });
});
