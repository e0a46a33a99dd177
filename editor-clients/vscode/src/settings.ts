/**
 * The `specloom` settings section as the server reads it (server/specloom_lsp/config.py):
 * from VS Code's configuration to `initializationOptions` and to the answers of
 * `workspace/configuration`. No `vscode` import: unit-tested on its own.
 *
 * Only the server's keys are sent (the client's own settings, `pythonPath`,
 * `serverArgs` and `trace`, would be reported by the server as unknown), nullable keys
 * are always sent (a `null` resets the server's value), and in an untrusted workspace
 * `trust` is always `false`.
 */

export const SECTION = 'specloom';

export const DEFAULTS = {
  specGlob: '**/*.spec.md',
  outputDirectory: '{stem}-app' as string | Record<string, string>,
  storeUrl: null as string | null,
  databaseUrl: null as string | null,
  trust: null as boolean | null,
  repairAttempts: 3,
  debounceMs: 150,
};

export type ServerSettings = typeof DEFAULTS;

/** The server's keys, in the order of docs/editors.md. */
export const SERVER_KEYS = Object.keys(DEFAULTS) as (keyof ServerSettings)[];

/** The client's own keys under `specloom.` (never sent to the server). */
export const CLIENT_KEYS = ['pythonPath', 'serverArgs', 'trace'] as const;

/** Reads one key of the `specloom` section (`vscode.WorkspaceConfiguration.get`). */
export type Reader = (key: string) => unknown;

function text(value: unknown): string | null {
  if (typeof value !== 'string') {
    return null;
  }
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function integer(value: unknown, fallback: number, min: number, max: number): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    return fallback;
  }
  return Math.min(max, Math.max(min, Math.round(number)));
}

export function trustValue(value: unknown): boolean | null {
  if (typeof value === 'boolean') {
    return value;
  }
  if (typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (lowered === 'true' || lowered === 'always') {
      return true;
    }
    if (lowered === 'false' || lowered === 'never') {
      return false;
    }
  }
  return null;
}

function outputDirectory(value: unknown): string | Record<string, string> {
  if (typeof value === 'string') {
    return text(value) ?? DEFAULTS.outputDirectory;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const mapping: Record<string, string> = {};
    for (const [key, target] of Object.entries(value as Record<string, unknown>)) {
      if (typeof target === 'string' && target.trim() !== '') {
        mapping[key] = target;
      }
    }
    return Object.keys(mapping).length > 0 ? mapping : DEFAULTS.outputDirectory;
  }
  return DEFAULTS.outputDirectory;
}

/** The server's settings from the editor's, with the workspace's trust applied. */
export function serverSettings(read: Reader, workspaceTrusted: boolean): ServerSettings {
  return {
    specGlob: text(read('specGlob')) ?? DEFAULTS.specGlob,
    outputDirectory: outputDirectory(read('outputDirectory')),
    storeUrl: text(read('storeUrl')),
    databaseUrl: text(read('databaseUrl')),
    trust: workspaceTrusted ? trustValue(read('trust')) : false,
    repairAttempts: integer(read('repairAttempts'), DEFAULTS.repairAttempts, 0, 20),
    debounceMs: integer(read('debounceMs'), DEFAULTS.debounceMs, 0, 10_000),
  };
}

/** The `initializationOptions` of the server: `{"specloom": {...}}`. */
export function initializationOptions(read: Reader, workspaceTrusted: boolean): {
  specloom: ServerSettings;
} {
  return { specloom: serverSettings(read, workspaceTrusted) };
}

/** Whether an item of `workspace/configuration` asks for the `specloom` section. */
export function isSpecloomSection(section: string | undefined): boolean {
  return section === SECTION;
}

/** A change of these keys needs a new server process (not just new settings). */
export function needsRestart(affects: (key: string) => boolean): boolean {
  return affects(`${SECTION}.pythonPath`) || affects(`${SECTION}.serverArgs`);
}
