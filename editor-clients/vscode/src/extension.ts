/**
 * The Specloom extension: starts `specloom lsp` over stdio and wires the plain modules
 * (settings, interpreter, status, trust, plan view) to VS Code.
 *
 * The server's commands (`specloom.plan`, `generate`, `validate`, `repair`, `cancel`,
 * `status`, and the conflict commands) are registered by vscode-languageclient from the
 * server's `executeCommandProvider`; the extension sees every call through the
 * `executeCommand` middleware, where it fills in the spec URI, applies workspace trust,
 * follows the run in the status bar and shows the result.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from 'vscode-languageclient/node';

import { commandArguments, looksLikeSpec } from './args';
import { describe, PROBE_ARGS, type ServerCommand, serverCandidates } from './interpreter';
import { asPlan, planHtml } from './planView';
import {
  initializationOptions,
  isSpecloomSection,
  needsRestart,
  SECTION,
  serverSettings,
} from './settings';
import {
  fileName,
  resultMessage,
  type RunEventData,
  RunStatus,
  type RunSummary,
  verb,
  type WorkDoneValue,
} from './status';
import { CANCEL, GENERATE, gate, PLAN, REPAIR, RESTRICTED_SUMMARY, STATUS, VALIDATE } from './trust';

const RUN_COMMANDS = new Set([PLAN, GENERATE, VALIDATE, REPAIR]);
const SPEC_COMMANDS = new Set([PLAN, GENERATE, VALIDATE, REPAIR, CANCEL, STATUS]);
const RUN_EVENT = 'specloom/runEvent';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let statusItem: vscode.StatusBarItem;
const runs = new RunStatus();
const planPanels = new Map<string, vscode.WebviewPanel>();
let fallbacks: vscode.Disposable[] = [];
let startError: string | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Specloom');
  statusItem = vscode.window.createStatusBarItem('specloom.status', vscode.StatusBarAlignment.Left, 50);
  statusItem.name = 'Specloom';
  context.subscriptions.push(output, statusItem, { dispose: () => { disposeFallbacks(); } });

  context.subscriptions.push(
    vscode.commands.registerCommand('specloom.showPlan', (uri?: unknown) => showPlan(uri)),
    vscode.commands.registerCommand('specloom.showRun', (uri?: unknown) => showRun(uri)),
    vscode.commands.registerCommand('specloom.showOutput', () => {
      output.show(true);
    }),
    vscode.commands.registerCommand('specloom.restartServer', () => restart()),
    vscode.commands.registerCommand('specloom.restricted', () => {
      explainRestricted(vscode.workspace.isTrusted ? 'Specloom: this workspace is trusted; Validate and Repair are enabled.' : RESTRICTED_SUMMARY);
    }),
    vscode.window.onDidChangeActiveTextEditor(() => {
      refreshStatus();
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      output.appendLine('the workspace is trusted now: restarting the server with its settings');
      void restart();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((key) => event.affectsConfiguration(key))) {
        output.appendLine('specloom.pythonPath or specloom.serverArgs changed: restarting the server');
        void restart();
      } else if (event.affectsConfiguration(SECTION) && client?.isRunning()) {
        // the server pulls the section again (workspace/configuration)
        void client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: { [SECTION]: serverSettings(readerFor(), vscode.workspace.isTrusted) },
        });
      }
    }),
  );
  void vscode.commands.executeCommand('setContext', 'specloom.active', true);
  refreshStatus();
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

// --- the server process -------------------------------------------------------------

function firstFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (extension === undefined) {
    return undefined;
  }
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as {
      environments?: { getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: string } | undefined };
      settings?: { getExecutionDetails?: (resource?: vscode.Uri) => { execCommand?: string[] } };
    };
    const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
    const fromEnvironments = api?.environments?.getActiveEnvironmentPath?.(resource)?.path;
    if (fromEnvironments) {
      return fromEnvironments;
    }
    return api?.settings?.getExecutionDetails?.(resource)?.execCommand?.[0];
  } catch (error) {
    output.appendLine(`the Python extension's interpreter is not known: ${String(error)}`);
    return undefined;
  }
}

function probe(command: ServerCommand): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command.command, PROBE_ARGS, { timeout: 15_000 }, (error) => {
      resolve(error === null);
    });
  });
}

async function serverCommand(): Promise<ServerCommand> {
  const config = vscode.workspace.getConfiguration(SECTION);
  const candidates = serverCandidates({
    pythonPath: config.get<string>('pythonPath'),
    serverArgs: config.get<unknown[]>('serverArgs'),
    pythonExtension: config.get<string>('pythonPath') ? undefined : await pythonExtensionInterpreter(),
    workspaceFolder: firstFolder(),
    home: os.homedir(),
  });
  for (const candidate of candidates) {
    if (!candidate.probe || (await probe(candidate))) {
      return candidate;
    }
    output.appendLine(`${candidate.command} has no Specloom (import specloom_lsp failed); next candidate`);
  }
  return candidates[candidates.length - 1];
}

function readerFor(scope?: vscode.Uri): (key: string) => unknown {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return (key) => config.get(key);
}

async function start(): Promise<void> {
  const command = await serverCommand();
  output.appendLine(`starting the server: ${describe(command)}`);
  const serverOptions: ServerOptions = {
    command: command.command,
    args: command.args,
    transport: TransportKind.stdio,
    options: { cwd: firstFolder(), env: process.env },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'specloom' },
      { scheme: 'file', language: 'markdown' },
    ],
    outputChannel: output,
    initializationOptions: () => initializationOptions(readerFor(), vscode.workspace.isTrusted),
    middleware: {
      workspace: {
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, index) => {
            if (!isSpecloomSection(item.section ?? undefined)) {
              return answers[index] as unknown;
            }
            const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
            return serverSettings(readerFor(scope), vscode.workspace.isTrusted);
          });
        },
      },
      handleWorkDoneProgress: (token, params, next) => {
        runs.progress(token, params satisfies WorkDoneValue);
        refreshStatus();
        next(token, params);
      },
      executeCommand: (name, args, next) => executeCommand(name, args, next),
    },
  };
  disposeFallbacks();
  const created = new LanguageClient('specloom', 'Specloom', serverOptions, clientOptions);
  client = created;
  created.onNotification(RUN_EVENT, (event: RunEventData) => {
    runs.runEvent(event);
    refreshStatus();
  });
  try {
    await created.start();
    startError = undefined;
  } catch (error) {
    startError =
      `the Specloom language server did not start (${describe(command)}): ${String(error)}. ` +
      'Set specloom.pythonPath to an interpreter that has Specloom installed.';
    output.appendLine(startError);
    client = undefined;
    registerFallbacks();
    void vscode.window.showErrorMessage(startError, 'Open Settings', 'Show Output').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'specloom.pythonPath');
      } else if (choice === 'Show Output') {
        output.show(true);
      }
    });
  }
  refreshStatus();
}

async function stop(): Promise<void> {
  const current = client;
  client = undefined;
  runs.abortAll('the server stopped');
  refreshStatus();
  if (current !== undefined && current.state !== State.Stopped) {
    try {
      await current.stop();
    } catch (error) {
      output.appendLine(`stopping the server failed: ${String(error)}`);
    }
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

/** When the server is not running, its commands still answer, with the reason. */
function registerFallbacks(): void {
  disposeFallbacks();
  for (const name of SPEC_COMMANDS) {
    fallbacks.push(
      vscode.commands.registerCommand(name, () =>
        vscode.window.showErrorMessage(startError ?? 'the Specloom language server is not running'),
      ),
    );
  }
}

function disposeFallbacks(): void {
  for (const disposable of fallbacks) {
    disposable.dispose();
  }
  fallbacks = [];
}

// --- the commands -------------------------------------------------------------------

function activeSpecUri(): string | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (document === undefined || document.uri.scheme !== 'file') {
    return undefined;
  }
  return looksLikeSpec(document.uri.fsPath, document.languageId) ? document.uri.toString() : undefined;
}

async function saveIfDirty(uri: string): Promise<void> {
  const document = vscode.workspace.textDocuments.find((doc) => doc.uri.toString() === uri);
  if (document?.isDirty) {
    await document.save();
  }
}

async function executeCommand(
  name: string,
  args: unknown[],
  next: (command: string, args: unknown[]) => vscode.ProviderResult<unknown>,
): Promise<unknown> {
  if (!SPEC_COMMANDS.has(name)) {
    return next(name, args); // the conflict commands: their own arguments
  }
  const resolved = commandArguments(args, activeSpecUri());
  if (resolved === undefined) {
    void vscode.window.showWarningMessage(`Specloom ${verb(name)}: open a spec (*.spec.md) first.`);
    return undefined;
  }
  const { uri } = resolved;
  const allowed = gate(name, vscode.workspace.isTrusted);
  if (!allowed.allowed) {
    explainRestricted(allowed.reason ?? RESTRICTED_SUMMARY);
    return undefined;
  }
  if (!RUN_COMMANDS.has(name)) {
    const result = await next(name, resolved.args);
    if (name === STATUS && result && typeof result === 'object') {
      runs.known(uri, result as RunSummary);
      refreshStatus();
    }
    if (name === CANCEL) {
      void vscode.window.showInformationMessage(
        result ? `Specloom: cancelling the run of ${fileName(uri)}` : `Specloom: no run in flight for ${fileName(uri)}`,
      );
    }
    return result;
  }
  if (runs.isRunning(uri)) {
    const choice = await vscode.window.showWarningMessage(
      `Specloom: a run of ${fileName(uri)} is in flight.`,
      'Cancel It',
    );
    if (choice) {
      await vscode.commands.executeCommand(CANCEL, uri);
    }
    return undefined;
  }
  await saveIfDirty(uri);
  if (allowed.reason) {
    output.appendLine(allowed.reason);
  }
  runs.started(uri, name);
  refreshStatus();
  let result: unknown;
  try {
    result = await next(name, resolved.args);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    runs.finished(uri, name, undefined, message);
    refreshStatus();
    void vscode.window.showErrorMessage(`Specloom ${verb(name)} of ${fileName(uri)}: ${message}`);
    return undefined;
  }
  const summary = result && typeof result === 'object' ? (result as RunSummary) : undefined;
  runs.finished(uri, name, summary);
  refreshStatus();
  if (name === PLAN && summary?.output_dir) {
    await openPlanView(uri, path.join(summary.output_dir, 'plan.json'));
  }
  void notifyResult(name, uri, summary, allowed.reason);
  return result;
}

/** Why a command is disabled in Restricted Mode, with the way out. */
function explainRestricted(reason: string): void {
  void vscode.window.showWarningMessage(reason, 'Manage Workspace Trust').then((choice) => {
    if (choice) {
      void vscode.commands.executeCommand('workbench.trust.manage');
    }
  });
}

async function notifyResult(
  name: string,
  uri: string,
  summary: RunSummary | undefined,
  note: string | undefined,
): Promise<void> {
  let message = resultMessage(name, uri, summary);
  if (note && summary?.status === 'incomplete') {
    message += ` (${note})`;
  }
  const failed = summary?.status === 'failed' || summary === undefined;
  const show = failed ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const actions = name === PLAN ? ['Open plan.md'] : ['Show Run'];
  const choice = await show(message, ...actions);
  if (choice === 'Open plan.md' && summary?.output_dir) {
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(summary.output_dir, 'plan.md')));
  } else if (choice === 'Show Run') {
    await showRun(uri);
  }
}

// --- the status bar -----------------------------------------------------------------

function refreshStatus(): void {
  if (statusItem === undefined) {
    return;
  }
  const view = runs.view(activeSpecUri());
  statusItem.text = client === undefined && startError !== undefined ? '$(error) Specloom: no server' : view.text;
  statusItem.tooltip = startError ?? view.tooltip;
  statusItem.command =
    view.running && view.uri
      ? { command: CANCEL, title: 'Cancel the run', arguments: [view.uri] }
      : { command: startError ? 'specloom.showOutput' : 'specloom.showRun', title: 'Show the latest run' };
  void vscode.commands.executeCommand('setContext', 'specloom.running', runs.isRunning(activeSpecUri()));
  statusItem.show();
}

async function showRun(arg?: unknown): Promise<void> {
  const resolved = commandArguments(arg === undefined ? [] : [arg], activeSpecUri() ?? runs.view().uri);
  if (resolved === undefined) {
    void vscode.window.showInformationMessage('Specloom: open a spec to see its latest run.');
    return;
  }
  let run = runs.get(resolved.uri);
  if (run === undefined && client !== undefined) {
    await vscode.commands.executeCommand(STATUS, resolved.uri);
    run = runs.get(resolved.uri);
  }
  if (run === undefined) {
    void vscode.window.showInformationMessage(`Specloom: no run of ${fileName(resolved.uri)} yet.`);
    return;
  }
  const items: vscode.QuickPickItem[] = (run.summary?.phases ?? []).map((phase) => ({
    label: `${phase.number}. ${phase.name}`,
    description: `${phase.status}${typeof phase.duration_ms === 'number' ? ` · ${Math.round(phase.duration_ms)} ms` : ''}`,
    detail: phase.message ?? undefined,
  }));
  if (items.length === 0) {
    items.push({ label: runs.view(resolved.uri).text.replace(/^\$\([^)]*\)\s*/, '') });
  }
  await vscode.window.showQuickPick(items, {
    title: `Specloom ${verb(run.command)} of ${fileName(run.uri)}: ${run.state}${run.error ? ` (${run.error})` : ''}`,
  });
}

// --- the plan view ------------------------------------------------------------------

async function showPlan(arg?: unknown): Promise<void> {
  const resolved = commandArguments(arg === undefined ? [] : [arg], activeSpecUri());
  if (resolved === undefined) {
    void vscode.window.showWarningMessage('Specloom: open a spec (*.spec.md) to see its plan.');
    return;
  }
  const known = runs.get(resolved.uri)?.summary?.output_dir;
  if (known !== undefined) {
    const planFile = path.join(known, 'plan.json');
    try {
      await fs.access(planFile);
      await openPlanView(resolved.uri, planFile);
      return;
    } catch {
      // not planned there yet: plan now
    }
  }
  await vscode.commands.executeCommand(PLAN, resolved.uri); // opens the view
}

async function openPlanView(uri: string, planFile: string): Promise<void> {
  let html: string;
  try {
    const plan = asPlan(JSON.parse(await fs.readFile(planFile, 'utf8')));
    let panel = planPanels.get(uri);
    if (panel === undefined) {
      panel = vscode.window.createWebviewPanel(
        'specloom.plan',
        `Plan: ${fileName(uri)}`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: false, localResourceRoots: [] },
      );
      planPanels.set(uri, panel);
      panel.onDidDispose(() => planPanels.delete(uri));
    }
    html = planHtml(plan, { cspSource: panel.webview.cspSource, source: planFile });
    panel.webview.html = html;
    panel.reveal(vscode.ViewColumn.Beside, true);
  } catch (error) {
    void vscode.window.showErrorMessage(`Specloom: cannot show the plan ${planFile}: ${String(error)}`);
  }
}
