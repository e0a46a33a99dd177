import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { DEFAULTS, SERVER_KEYS } from '../../src/settings';

interface Manifest {
  main: string;
  contributes: {
    configuration: { properties: Record<string, { default?: unknown; markdownDescription?: string; description?: string }> };
    commands: { command: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    languages: { id: string; filenamePatterns?: string[] }[];
  };
  capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations: string[] } };
}

const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../package.json'), 'utf8')) as Manifest;
const properties = manifest.contributes.configuration.properties;

describe('package.json', () => {
  it("contributes every server setting with the server's default and a description", () => {
    for (const key of SERVER_KEYS) {
      const property = properties[`specloom.${key}`];
      expect(property, key).toBeDefined();
      expect(property.default, key).toEqual(DEFAULTS[key]);
      expect(property.markdownDescription ?? property.description, key).toBeTruthy();
    }
    expect(properties['specloom.trace.server']).toBeDefined();
  });

  it('contributes the commands in the palette and the editor title', () => {
    const commands = manifest.contributes.commands.map((c) => c.command);
    const title = manifest.contributes.menus['editor/title'].map((m) => m.command);
    for (const name of ['plan', 'generate', 'validate', 'repair', 'cancel']) {
      expect(commands).toContain(`specloom.${name}`);
      expect(title).toContain(`specloom.${name}`);
    }
  });

  it('shows Validate and Repair in the editor title only in a trusted workspace, else why', () => {
    const title = manifest.contributes.menus['editor/title'];
    for (const name of ['specloom.validate', 'specloom.repair']) {
      expect(title.find((m) => m.command === name)?.when).toContain('&& isWorkspaceTrusted');
    }
    expect(title.find((m) => m.command === 'specloom.restricted')?.when).toContain('!isWorkspaceTrusted');
  });

  it('contributes the spec language and limits itself in untrusted workspaces', () => {
    expect(manifest.contributes.languages[0]).toMatchObject({ id: 'specloom', filenamePatterns: ['*.spec.md'] });
    expect(manifest.capabilities.untrustedWorkspaces.supported).toBe('limited');
    expect(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations).toContain('specloom.pythonPath');
    expect(manifest.main).toBe('./dist/extension.js');
  });
});
