/**
 * Drives the real Specloom language server from Node, as VS Code does (its
 * capabilities, its answers to the server's requests), with no VS Code: open a spec,
 * generate (untrusted: phases 1 to 6), plan; check the progress, the applied edit, the
 * diagnostics, the run events and the results.
 *
 * The interpreter: SPECLOOM_PYTHON, else ../../.venv/bin/python (the repository's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApplyWorkspaceEditParams,
  type ClientCapabilities,
  type ConfigurationParams,
  createProtocolConnection,
  type Diagnostic,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
  StreamMessageReader,
  StreamMessageWriter,
  type TextEdit,
  type WorkDoneProgressBegin,
  type WorkDoneProgressEnd,
  type WorkDoneProgressReport,
  type WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { WorkDoneProgress } from 'vscode-languageserver-protocol';

import { asPlan, planHtml } from '../../src/planView';
import { initializationOptions, serverSettings } from '../../src/settings';
import { parseProgressMessage, type RunEventData, RunStatus, type RunSummary } from '../../src/status';

const PACKAGE = path.resolve(import.meta.dirname, '../..');
const REPO = path.resolve(PACKAGE, '../..');
const PYTHON = process.env.SPECLOOM_PYTHON ?? path.join(REPO, '.venv/bin/python');
const EXAMPLE = path.join(REPO, 'examples/todo.spec.md');

/** The client capabilities VS Code 1.9x sends (vscode-languageclient 9), trimmed to what
 * matters to this server. */
const CAPABILITIES: ClientCapabilities = {
  general: {
    positionEncodings: ['utf-16'],
    staleRequestSupport: { cancel: true, retryOnContentModified: [] },
    regularExpressions: { engine: 'ECMAScript', version: 'ES2020' },
    markdown: { parser: 'marked', version: '1.1.0' },
  },
  workspace: {
    applyEdit: true,
    workspaceEdit: {
      documentChanges: true,
      resourceOperations: ['create', 'rename', 'delete'],
      failureHandling: 'textOnlyTransactional',
      normalizesLineEndings: true,
      changeAnnotationSupport: { groupsOnLabel: true },
    },
    configuration: true,
    workspaceFolders: true,
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    executeCommand: { dynamicRegistration: true },
    codeLens: { refreshSupport: true },
    diagnostics: { refreshSupport: true },
    semanticTokens: { refreshSupport: true },
    inlayHint: { refreshSupport: true },
    inlineValue: { refreshSupport: true },
    symbol: { dynamicRegistration: true },
    fileOperations: { dynamicRegistration: true, didCreate: true, didRename: true, didDelete: true },
  },
  textDocument: {
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    publishDiagnostics: {
      relatedInformation: true,
      versionSupport: false,
      tagSupport: { valueSet: [1, 2] },
      codeDescriptionSupport: true,
      dataSupport: true,
    },
    codeLens: { dynamicRegistration: true },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      disabledSupport: true,
      dataSupport: true,
      resolveSupport: { properties: ['edit'] },
      codeActionLiteralSupport: {
        codeActionKind: {
          valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports'],
        },
      },
      honorsChangeAnnotations: true,
    },
    hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
    completion: {
      dynamicRegistration: true,
      contextSupport: true,
      completionItem: { snippetSupport: true, documentationFormat: ['markdown', 'plaintext'], insertReplaceSupport: true },
    },
    definition: { dynamicRegistration: true, linkSupport: true },
    references: { dynamicRegistration: true },
    documentSymbol: { dynamicRegistration: true, hierarchicalDocumentSymbolSupport: true, labelSupport: true },
    foldingRange: { dynamicRegistration: true, rangeLimit: 5000, lineFoldingOnly: true },
  },
  window: {
    workDoneProgress: true,
    showMessage: { messageActionItem: { additionalPropertiesSupport: true } },
    showDocument: { support: true },
  },
};

interface Progress {
  token: string;
  values: (WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd)[];
}

/** Applies `edits` (LSP positions, UTF-16) to `text`. */
function applyTextEdits(text: string, edits: TextEdit[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') {
      starts.push(i + 1);
    }
  }
  const offset = (line: number, character: number): number =>
    line >= starts.length ? text.length : Math.min(starts[line] + character, line + 1 < starts.length ? starts[line + 1] - 1 : text.length);
  const sorted = edits
    .map((edit) => ({ start: offset(edit.range.start.line, edit.range.start.character), end: offset(edit.range.end.line, edit.range.end.character), text: edit.newText }))
    .sort((a, b) => b.start - a.start);
  let result = text;
  for (const edit of sorted) {
    result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
  }
  return result;
}

function fsPath(uri: string): string {
  return decodeURIComponent(new URL(uri).pathname);
}

/** What VS Code does with a workspace edit, on disk. */
async function applyWorkspaceEdit(edit: WorkspaceEdit): Promise<void> {
  for (const change of edit.documentChanges ?? []) {
    if ('kind' in change) {
      if (change.kind === 'create') {
        const file = fsPath(change.uri);
        await fs.mkdir(path.dirname(file), { recursive: true });
        if (!existsSync(file) || !change.options?.ignoreIfExists) {
          await fs.writeFile(file, '');
        }
      } else if (change.kind === 'delete') {
        await fs.rm(fsPath(change.uri), { force: true, recursive: change.options?.recursive ?? false });
      } else {
        await fs.rename(fsPath(change.oldUri), fsPath(change.newUri));
      }
    } else {
      const file = fsPath(change.textDocument.uri);
      const text = existsSync(file) ? await fs.readFile(file, 'utf8') : '';
      await fs.writeFile(file, applyTextEdits(text, change.edits));
    }
  }
  for (const [uri, edits] of Object.entries(edit.changes ?? {})) {
    const file = fsPath(uri);
    const text = existsSync(file) ? await fs.readFile(file, 'utf8') : '';
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, applyTextEdits(text, edits));
  }
}

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

describe.skipIf(!existsSync(PYTHON))('the Specloom server driven as VS Code drives it', () => {
  let workspace: string;
  let specPath: string;
  let specUri: string;
  let server: ChildProcess;
  let connection: ProtocolConnection;
  let stderr = '';
  const progress: Progress[] = [];
  const edits: ApplyWorkspaceEditParams[] = [];
  const diagnostics: PublishDiagnosticsParams[] = [];
  const runEvents: RunEventData[] = [];
  const messages: { type: number; message: string }[] = [];
  const questions: string[] = [];
  const configurationRequests: ConfigurationParams[] = [];
  let lensRefreshes = 0;
  const status = new RunStatus();

  beforeAll(async () => {
    workspace = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'specloom-vscode-')));
    specPath = path.join(workspace, 'todo.spec.md');
    await fs.copyFile(EXAMPLE, specPath);
    specUri = pathToFileURL(specPath).toString();

    server = spawn(PYTHON, ['-m', 'specloom_lsp'], { cwd: workspace, env: { ...process.env }, stdio: 'pipe' });
    server.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (!server.stdout || !server.stdin) {
      throw new Error('no stdio');
    }
    connection = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));

    // the settings as the extension answers them (untrusted: trust false, phases 1-6)
    const settings = serverSettings((key) => (key === 'repairAttempts' ? 0 : undefined), false);
    connection.onRequest('window/workDoneProgress/create', (params: { token: string | number }) => {
      const record: Progress = { token: String(params.token), values: [] };
      progress.push(record);
      connection.onProgress(WorkDoneProgress.type, params.token, (value) => {
        record.values.push(value);
        status.progress(params.token, value);
      });
      return null;
    });
    connection.onRequest('workspace/applyEdit', async (params: ApplyWorkspaceEditParams) => {
      edits.push(params);
      await applyWorkspaceEdit(params.edit);
      return { applied: true };
    });
    connection.onRequest('workspace/configuration', (params: ConfigurationParams) => {
      configurationRequests.push(params);
      return params.items.map((item) => (item.section === 'specloom' ? settings : null));
    });
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('client/unregisterCapability', () => null);
    connection.onRequest('window/showMessageRequest', (params: { message: string }) => {
      questions.push(params.message);
      return null;
    });
    connection.onRequest('window/showDocument', () => ({ success: false }));
    connection.onRequest('workspace/codeLens/refresh', () => {
      lensRefreshes += 1;
      return null;
    });
    connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
      diagnostics.push(params);
    });
    connection.onNotification('specloom/runEvent', (params: RunEventData) => {
      runEvents.push(params);
      status.runEvent(params);
    });
    connection.onNotification('window/showMessage', (params: { type: number; message: string }) => {
      messages.push(params);
    });
    connection.onNotification('window/logMessage', () => undefined);
    connection.listen();

    const initialized = await connection.sendRequest('initialize', {
      processId: process.pid,
      clientInfo: { name: 'Visual Studio Code', version: '1.95.0' },
      locale: 'en',
      rootPath: workspace,
      rootUri: pathToFileURL(workspace).toString(),
      capabilities: CAPABILITIES,
      initializationOptions: initializationOptions((key) => (key === 'repairAttempts' ? 0 : undefined), false),
      trace: 'off',
      workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: path.basename(workspace) }],
    });
    expect(initialized).toHaveProperty('capabilities');
    await connection.sendNotification('initialized', {});
  });

  afterAll(async () => {
    try {
      await Promise.race([connection.sendRequest('shutdown'), new Promise((resolve) => setTimeout(resolve, 5000))]);
      await connection.sendNotification('exit');
    } catch {
      // the server may be gone already
    }
    connection?.dispose();
    if (server && server.exitCode === null) {
      await Promise.race([new Promise((resolve) => server.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, 3000))]);
      server.kill();
    }
    if (workspace) {
      await fs.rm(workspace, { recursive: true, force: true });
    }
  });

  it('publishes diagnostics for the opened spec', async () => {
    await connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri: specUri, languageId: 'specloom', version: 1, text: await fs.readFile(specPath, 'utf8') },
    });
    const published = await waitFor('the diagnostics of the spec', () => diagnostics.find((d) => d.uri === specUri));
    expect(Array.isArray(published.diagnostics)).toBe(true);
    const errors = published.diagnostics.filter((d: Diagnostic) => d.severity === 1);
    expect(errors, JSON.stringify(errors)).toEqual([]);
  });

  it('asked for the settings, and took them without a complaint', async () => {
    await waitFor('workspace/configuration', () => (configurationRequests.length > 0 ? true : undefined));
    expect(configurationRequests[0].items.some((item) => item.section === 'specloom')).toBe(true);
    expect(messages.filter((m) => m.message.includes('Specloom settings'))).toEqual([]);
  });

  it('generates: progress, the applied edit, the run events, the summary', async () => {
    status.started(specUri, 'specloom.generate');
    const started = Date.now();
    const result = await connection.sendRequest<RunSummary>('workspace/executeCommand', {
      command: 'specloom.generate',
      arguments: [specUri],
    });
    const seconds = (Date.now() - started) / 1000;
    status.finished(specUri, 'specloom.generate', result);
    console.log(`specloom.generate (untrusted) took ${seconds.toFixed(2)} s: ${String(result.status)}`);

    // the summary
    expect(result.status).toBe('incomplete');
    expect(result.trust).toMatchObject({ trusted: false });
    expect(Array.isArray(result.phases)).toBe(true);
    const phases = result.phases ?? [];
    for (const number of [1, 2, 3, 4, 5, 6]) {
      expect(phases.find((p) => p.number === number)?.status, `phase ${number}`).toBe('passed');
    }
    expect(result.output?.applied).toBe('applyEdit');
    expect(questions).toEqual([]); // trust false: never asked

    // the progress: one token, begin, reports with percentages going up, end
    const token = progress.find((p) => p.values[0]?.kind === 'begin' && (p.values[0]).title.includes('generate'));
    expect(token, JSON.stringify(progress)).toBeDefined();
    const values = token?.values ?? [];
    expect(values[0].kind).toBe('begin');
    expect(values[values.length - 1].kind).toBe('end');
    const reports = values.filter((v): v is WorkDoneProgressReport => v.kind === 'report');
    expect(reports.length).toBeGreaterThan(3);
    const percentages = reports.map((r) => r.percentage ?? 0);
    for (let i = 1; i < percentages.length; i++) {
      expect(percentages[i]).toBeGreaterThanOrEqual(percentages[i - 1]);
    }
    expect(percentages[percentages.length - 1]).toBeGreaterThan(percentages[0]);
    const parsed = reports.map((r) => parseProgressMessage(r.message ?? '')).filter((p) => p !== undefined);
    expect(new Set(parsed.map((p) => p.phase))).toContain(6);

    // the applied edit: one edit, creating the app's files, on disk now
    expect(edits.length).toBeGreaterThanOrEqual(1);
    const created = edits.flatMap((e) => (e.edit.documentChanges ?? []).filter((c) => 'kind' in c && c.kind === 'create'));
    expect(created.length).toBeGreaterThan(10);
    const outDir = result.output_dir ?? path.join(workspace, 'todo-app');
    const main = path.join(outDir, 'app', 'main.py');
    expect(existsSync(main)).toBe(true);
    expect(await fs.readFile(main, 'utf8')).toContain('FastAPI');
    expect(existsSync(path.join(outDir, 'tests'))).toBe(true);

    // the run events, and the status bar text they give
    expect(runEvents.some((e) => e.kind === 'run_started' && e.uri === specUri)).toBe(true);
    expect(runEvents.some((e) => e.kind === 'phase_started' && e.phase === 6)).toBe(true);
    expect(runEvents.some((e) => e.kind === 'run_finished')).toBe(true);
    expect(status.view(specUri).text).toBe('$(warning) Specloom: incomplete');

    // the lenses are refreshed when a run ends; the spec still has its diagnostics
    await waitFor('workspace/codeLens/refresh', () => (lensRefreshes > 0 ? true : undefined), 10_000);
    expect(diagnostics.filter((d) => d.uri === specUri).length).toBeGreaterThanOrEqual(1);
  });

  it('plans, and the plan view draws plan.json', async () => {
    const result = await connection.sendRequest<RunSummary>('workspace/executeCommand', {
      command: 'specloom.plan',
      arguments: [specUri],
    });
    expect(result.status).toBe('planned');
    expect(result.tasks).toBeGreaterThan(10);
    const plan = asPlan(JSON.parse(await fs.readFile(path.join(String(result.output_dir), 'plan.json'), 'utf8')));
    expect(plan.tasks.length).toBe(result.tasks);
    const html = planHtml(plan);
    expect(html.match(/<g class="task"/g)).toHaveLength(plan.tasks.length);
  });

  it('answers status and cancel for the spec', async () => {
    const latest = await connection.sendRequest<RunSummary>('workspace/executeCommand', {
      command: 'specloom.status',
      arguments: [specUri],
    });
    expect(latest.status).toBe('incomplete');
    const cancelled = await connection.sendRequest('workspace/executeCommand', {
      command: 'specloom.cancel',
      arguments: [specUri],
    });
    expect(cancelled).toBe(false);
    expect(stderr).not.toMatch(/Traceback/);
  });
});
