import { describe, expect, it } from 'vitest';

import {
  CLIENT_KEYS,
  DEFAULTS,
  initializationOptions,
  isSpecloomSection,
  needsRestart,
  SERVER_KEYS,
  serverSettings,
  trustValue,
} from '../../src/settings';

function reader(values: Record<string, unknown>): (key: string) => unknown {
  return (key) => values[key];
}

describe('serverSettings', () => {
  it('gives the server defaults for an empty section', () => {
    expect(serverSettings(reader({}), true)).toEqual(DEFAULTS);
  });

  it('sends exactly the server keys, nullable ones as null', () => {
    const settings = serverSettings(
      reader({ pythonPath: '/usr/bin/python3', serverArgs: ['--log-level', 'DEBUG'], trace: { server: 'verbose' } }),
      true,
    );
    expect(Object.keys(settings).sort()).toEqual([...SERVER_KEYS].sort());
    for (const key of CLIENT_KEYS) {
      expect(settings).not.toHaveProperty(key);
    }
    expect(settings.storeUrl).toBeNull();
    expect(settings.databaseUrl).toBeNull();
    expect(settings.trust).toBeNull();
  });

  it('passes values through and normalises them', () => {
    const settings = serverSettings(
      reader({
        specGlob: ' specs/**/*.md ',
        outputDirectory: { 'specs/*.spec.md': 'apps/{stem}', bad: 3 },
        storeUrl: 'postgresql://u@h/db',
        databaseUrl: '  ',
        trust: true,
        repairAttempts: 25,
        debounceMs: '300',
      }),
      true,
    );
    expect(settings).toEqual({
      specGlob: 'specs/**/*.md',
      outputDirectory: { 'specs/*.spec.md': 'apps/{stem}' },
      storeUrl: 'postgresql://u@h/db',
      databaseUrl: null,
      trust: true,
      repairAttempts: 20,
      debounceMs: 300,
    });
  });

  it('falls back to the defaults for values of the wrong type', () => {
    const settings = serverSettings(
      reader({ specGlob: '', outputDirectory: [], repairAttempts: 'many', debounceMs: -5 }),
      true,
    );
    expect(settings.specGlob).toBe('**/*.spec.md');
    expect(settings.outputDirectory).toBe('{stem}-app');
    expect(settings.repairAttempts).toBe(3);
    expect(settings.debounceMs).toBe(0);
  });

  it('forces trust off in an untrusted workspace', () => {
    expect(serverSettings(reader({ trust: true }), false).trust).toBe(false);
    expect(serverSettings(reader({}), false).trust).toBe(false);
    expect(serverSettings(reader({ trust: false }), true).trust).toBe(false);
  });

  it('wraps the initialization options in the section', () => {
    const options = initializationOptions(reader({ repairAttempts: 0 }), true);
    expect(options).toEqual({ specloom: { ...DEFAULTS, repairAttempts: 0 } });
  });
});

describe('helpers', () => {
  it('reads trust leniently', () => {
    expect(trustValue(true)).toBe(true);
    expect(trustValue('false')).toBe(false);
    expect(trustValue('always')).toBe(true);
    expect(trustValue(undefined)).toBeNull();
    expect(trustValue('ask')).toBeNull();
  });

  it('knows the section and the keys that need a restart', () => {
    expect(isSpecloomSection('specloom')).toBe(true);
    expect(isSpecloomSection('python')).toBe(false);
    expect(isSpecloomSection(undefined)).toBe(false);
    expect(needsRestart((key) => key === 'specloom.pythonPath')).toBe(true);
    expect(needsRestart((key) => key === 'specloom.serverArgs')).toBe(true);
    expect(needsRestart((key) => key === 'specloom.trust')).toBe(false);
  });
});
