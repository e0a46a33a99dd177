/**
 * The bundled extension (dist/extension.js, as the .vsix ships it) activated against a
 * stand-in `vscode` module and the real server: the server starts with the configured
 * interpreter, the commands come from the server, the settings it pulls are the
 * server's keys only, Restricted Mode refuses Validate with the reason, Generate from
 * the editor title (a `vscode.Uri` argument) runs and the status bar follows it, and
 * Plan opens the plan view.
 */
import { existsSync, promises as fs } from 'node:fs';
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFakeVscode, fakeDocument, Uri } from './fakeVscode';

const PACKAGE = path.resolve(import.meta.dirname, '../..');
const REPO = path.resolve(PACKAGE, '../..');
const PYTHON = process.env.SPECLOOM_PYTHON ?? path.join(REPO, '.venv/bin/python');
const BUNDLE = path.join(PACKAGE, 'dist/extension.js');

interface ExtensionModule {
  activate(context: { subscriptions: { dispose(): unknown }[] }): Promise<void>;
  deactivate(): Promise<void>;
}

type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;

function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = check();
      if (value !== undefined) {
        resolve(value);
      } else if (Date.now() - started > timeoutMs) {
        reject(new Error(`timed out waiting for ${what}`));
      } else {
        setTimeout(poll, 20);
      }
    };
    poll();
  });
}

describe.skipIf(!existsSync(PYTHON) || !existsSync(BUNDLE))('the bundled extension, activated with a stand-in vscode', () => {
  let workspace: string;
  let specPath: string;
  let fake: ReturnType<typeof createFakeVscode>;
  let extension: ExtensionModule;
  const moduleInternals = Module as unknown as { _load: Loader };
  const originalLoad = moduleInternals._load;

  beforeAll(async () => {
    workspace = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'specloom-vscode-ext-')));
    specPath = path.join(workspace, 'todo.spec.md');
    await fs.copyFile(path.join(REPO, 'examples/todo.spec.md'), specPath);
    fake = createFakeVscode({
      workspaceFolder: workspace,
      trusted: false,
      settings: { pythonPath: PYTHON, serverArgs: [], repairAttempts: 0, trace: { server: 'off' } },
    });
    moduleInternals._load = function load(request, parent, isMain) {
      return request === 'vscode' ? fake.vscode : originalLoad.call(this, request, parent, isMain);
    };
    extension = createRequire(import.meta.url)(BUNDLE) as ExtensionModule;
    await extension.activate({ subscriptions: [] });
  });

  afterAll(async () => {
    await extension?.deactivate();
    moduleInternals._load = originalLoad;
    if (workspace) {
      await fs.rm(workspace, { recursive: true, force: true });
    }
  });

  it("starts the server with specloom.pythonPath and registers the server's commands", () => {
    expect(fake.recorded.output.join('\n')).toContain(`${PYTHON} -m specloom_lsp (from specloom.pythonPath)`);
    for (const name of ['plan', 'generate', 'validate', 'repair', 'cancel', 'status']) {
      expect(fake.recorded.commands.has(`specloom.${name}`), name).toBe(true);
    }
    expect(fake.recorded.commands.has('specloom.showPlan')).toBe(true);
    expect(fake.recorded.statusTexts.at(-1), fake.recorded.output.join('\n')).toBe('$(checklist) Specloom');
  });

  it('gets diagnostics for an opened spec, and no complaint about the settings', async () => {
    fake.openDocument(fakeDocument(specPath, 'specloom', await fs.readFile(specPath, 'utf8')));
    const uri = Uri.file(specPath).toString();
    await waitFor('diagnostics', () => fake.recorded.diagnostics.get(uri));
    expect(fake.recorded.messages.filter((m) => m.text.includes('Specloom settings'))).toEqual([]);
  });

  it('refuses Validate in Restricted Mode and says why', async () => {
    const commands = fake.vscode.commands as { executeCommand: (n: string, ...a: unknown[]) => Promise<unknown> };
    expect(await commands.executeCommand('specloom.validate', Uri.file(specPath))).toBeUndefined();
    const warning = fake.recorded.messages.find((m) => m.level === 'warning' && m.text.includes('Validate'));
    expect(warning?.text).toContain('Restricted Mode');
    await commands.executeCommand('specloom.restricted'); // the editor title's shield
    expect(fake.recorded.messages.at(-1)?.text).toContain('Validate and Repair run the generated app');
  });

  it('generates from the editor title: the status bar follows the run', async () => {
    const commands = fake.vscode.commands as { executeCommand: (n: string, ...a: unknown[]) => Promise<unknown> };
    const result = (await commands.executeCommand('specloom.generate', Uri.file(specPath))) as { status?: string; output?: { applied?: string } };
    expect(result.status).toBe('incomplete');
    expect(result.output?.applied).toBe('written'); // this stand-in answers applyEdit with false
    expect(existsSync(path.join(workspace, 'todo-app/app/main.py'))).toBe(true);
    const texts = fake.recorded.statusTexts;
    expect(texts.some((text) => /^\$\(sync~spin\) Specloom: \d+\/11 .* \d+%$/.test(text)), texts.join('\n')).toBe(true);
    expect(texts.at(-1)).toBe('$(warning) Specloom: incomplete');
    await waitFor('the result message', () => fake.recorded.messages.find((m) => m.text.startsWith('Specloom generate of todo.spec.md: incomplete')));
  });

  it('plans from the palette and shows the plan view', async () => {
    const commands = fake.vscode.commands as { executeCommand: (n: string, ...a: unknown[]) => Promise<unknown> };
    (fake.vscode.window as { activeTextEditor: unknown }).activeTextEditor = {
      document: (fake.vscode.workspace as { textDocuments: unknown[] }).textDocuments[0],
    };
    const result = (await commands.executeCommand('specloom.plan')) as { tasks?: number };
    expect(result.tasks).toBeGreaterThan(10);
    const view = fake.recorded.webviews.at(-1);
    expect(view?.title).toBe('Plan: todo.spec.md');
    expect(view?.html.match(/<g class="task"/g)).toHaveLength(result.tasks ?? -1);
    expect(fake.recorded.statusTexts.at(-1)).toBe(`$(type-hierarchy) Specloom: planned ${String(result.tasks)} tasks`);
  });
});
