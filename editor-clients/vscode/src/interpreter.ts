/**
 * Which process runs the server: `<python> -m specloom_lsp` with the interpreter of the
 * `specloom.pythonPath` setting, else the Python extension's interpreter (when it has
 * Specloom installed, which the extension checks), else `specloom lsp` from the PATH.
 * No `vscode` import: unit-tested on its own.
 */
import * as path from 'node:path';

export type Source = 'setting' | 'python-extension' | 'path';

export interface ServerCommand {
  command: string;
  args: string[];
  source: Source;
  /** Whether the extension should check the interpreter first (`import specloom_lsp`). */
  probe: boolean;
}

export interface InterpreterInputs {
  /** `specloom.pythonPath` (may use `${workspaceFolder}`, `~`, or be relative to the folder). */
  pythonPath?: string;
  /** The Python extension's active interpreter, when that extension is present. */
  pythonExtension?: string;
  /** `specloom.serverArgs`. */
  serverArgs?: readonly unknown[];
  /** The first workspace folder's path. */
  workspaceFolder?: string;
  /** The user's home directory. */
  home?: string;
}

export const MODULE_ARGS = ['-m', 'specloom_lsp'];
export const PATH_COMMAND = 'specloom';

export function expandPath(value: string, workspaceFolder?: string, home?: string): string {
  let expanded = value.trim();
  if (workspaceFolder !== undefined) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, workspaceFolder);
  }
  if (home !== undefined && (expanded === '~' || expanded.startsWith('~/'))) {
    expanded = home + expanded.slice(1);
  }
  // a bare name ("python3") is looked up on the PATH; a relative path is the folder's
  if (workspaceFolder !== undefined && !path.isAbsolute(expanded) && /[\\/]/.test(expanded)) {
    expanded = path.join(workspaceFolder, expanded);
  }
  return expanded;
}

export function extraArgs(serverArgs: readonly unknown[] | undefined): string[] {
  return (serverArgs ?? []).filter((arg): arg is string => typeof arg === 'string' && arg !== '');
}

/** The commands to try, in order: the setting alone when it is set, else the Python
 * extension's interpreter (to be probed) then `specloom lsp`. */
export function serverCandidates(inputs: InterpreterInputs): ServerCommand[] {
  const args = extraArgs(inputs.serverArgs);
  const configured = inputs.pythonPath?.trim();
  if (configured) {
    return [
      {
        command: expandPath(configured, inputs.workspaceFolder, inputs.home),
        args: [...MODULE_ARGS, ...args],
        source: 'setting',
        probe: false,
      },
    ];
  }
  const candidates: ServerCommand[] = [];
  const fromExtension = inputs.pythonExtension?.trim();
  if (fromExtension) {
    candidates.push({
      command: fromExtension,
      args: [...MODULE_ARGS, ...args],
      source: 'python-extension',
      probe: true,
    });
  }
  candidates.push({ command: PATH_COMMAND, args: ['lsp', ...args], source: 'path', probe: false });
  return candidates;
}

/** The arguments that check an interpreter has the server. */
export const PROBE_ARGS = ['-c', 'import specloom_lsp'];

/** A one-line description for the output channel. */
export function describe(command: ServerCommand): string {
  const how = {
    setting: 'specloom.pythonPath',
    'python-extension': "the Python extension's interpreter",
    path: 'the PATH',
  }[command.source];
  return `${[command.command, ...command.args].join(' ')} (from ${how})`;
}
