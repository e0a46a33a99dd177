/**
 * A small stand-in for the `vscode` module: enough of the API for the bundled
 * extension (dist/extension.js) and vscode-languageclient to start, sync documents,
 * publish diagnostics and run commands, with no VS Code. It records what the extension
 * shows (messages, the status bar item, webviews) for the tests to check.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

type Listener<T> = (event: T) => unknown;

export class Disposable {
  constructor(private readonly callOnDispose?: () => unknown) {}
  static from(...disposables: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => {
      for (const disposable of disposables) {
        disposable.dispose();
      }
    });
  }
  dispose(): void {
    this.callOnDispose?.();
  }
}

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>): Disposable => {
    this.listeners.push(listener);
    return new Disposable(() => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    });
  };
  fire(event: T): void {
    for (const listener of [...this.listeners]) {
      listener(event);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  static file(fsPath: string): Uri {
    return new Uri('file', '', path.resolve(fsPath));
  }
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ''), url.host, decodeURIComponent(url.pathname), url.search.replace(/^\?/, ''), url.hash.replace(/^#/, ''));
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: { scheme?: string; path?: string }): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, this.query, this.fragment);
  }
  toString(): string {
    return this.scheme === 'file' ? pathToFileURL(this.path).toString() : `${this.scheme}://${this.authority}${this.path}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path, external: this.toString() };
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    this.start = typeof a === 'number' ? new Position(a, b as number) : a;
    this.end = typeof a === 'number' ? new Position(c ?? 0, d ?? 0) : (b as Position);
  }
}

export class Diagnostic {
  source?: string;
  code?: unknown;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number = 0,
  ) {}
}

export class CancellationError extends Error {}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.emitter.fire();
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

interface Kind {
  value: string;
  append(part: string): Kind;
  contains(other: Kind): boolean;
  intersects(other: Kind): boolean;
}

function kind(value: string): Kind {
  return {
    value,
    append: (part) => kind(value ? `${value}.${part}` : part),
    contains: (other) => value === '' || other.value === value || other.value.startsWith(`${value}.`),
    intersects: (other) => other.value.startsWith(value) || value.startsWith(other.value),
  };
}

export const CodeActionKind = {
  Empty: kind(''),
  QuickFix: kind('quickfix'),
  Refactor: kind('refactor'),
  RefactorExtract: kind('refactor.extract'),
  RefactorInline: kind('refactor.inline'),
  RefactorRewrite: kind('refactor.rewrite'),
  Source: kind('source'),
  SourceOrganizeImports: kind('source.organizeImports'),
  SourceFixAll: kind('source.fixAll'),
};

/** Any other class the converters construct: keeps its arguments. */
class Anything {
  readonly args: unknown[];
  constructor(...args: unknown[]) {
    this.args = args;
  }
}

export interface FakeDocument {
  uri: Uri;
  fileName: string;
  languageId: string;
  version: number;
  isDirty: boolean;
  isClosed: boolean;
  isUntitled: boolean;
  lineCount: number;
  eol: number;
  getText(): string;
  save(): Promise<boolean>;
}

export function fakeDocument(fsPath: string, languageId: string, text: string): FakeDocument {
  return {
    uri: Uri.file(fsPath),
    fileName: fsPath,
    languageId,
    version: 1,
    isDirty: false,
    isClosed: false,
    isUntitled: false,
    lineCount: text.split('\n').length,
    eol: 1,
    getText: () => text,
    save: () => Promise.resolve(true),
  };
}

export interface Recorded {
  messages: { level: 'info' | 'warning' | 'error'; text: string }[];
  statusTexts: string[];
  webviews: { title: string; html: string }[];
  diagnostics: Map<string, Diagnostic[]>;
  commands: Map<string, (...args: unknown[]) => unknown>;
  executed: { command: string; args: unknown[] }[];
  output: string[];
}

/** A fresh fake `vscode` module, with `settings` as the `specloom` section. */
export function createFakeVscode(options: {
  workspaceFolder: string;
  settings: Record<string, unknown>;
  trusted: boolean;
}): { vscode: Record<string, unknown>; recorded: Recorded; openDocument(doc: FakeDocument): void } {
  const recorded: Recorded = {
    messages: [],
    statusTexts: [],
    webviews: [],
    diagnostics: new Map(),
    commands: new Map(),
    executed: [],
    output: [],
  };
  const events = {
    open: new EventEmitter<FakeDocument>(),
    any: new EventEmitter<unknown>(),
  };
  const textDocuments: FakeDocument[] = [];
  const noEvent = (): Disposable => new Disposable();
  const message =
    (level: 'info' | 'warning' | 'error') =>
    (text: string): Promise<undefined> => {
      recorded.messages.push({ level, text });
      return Promise.resolve(undefined);
    };
  const configuration = (section?: string) => {
    const values = section === 'specloom' ? options.settings : {};
    return {
      get: (key: string, fallback?: unknown) => (key in values ? values[key] : fallback),
      has: (key: string) => key in values,
      inspect: () => undefined,
      update: () => Promise.resolve(),
      ...(section === 'specloom' ? values : {}),
    };
  };
  const workspaceFolder = {
    uri: Uri.file(options.workspaceFolder),
    name: path.basename(options.workspaceFolder),
    index: 0,
  };
  const vscode: Record<string, unknown> = {
    version: '1.95.0',
    Disposable,
    EventEmitter,
    Uri,
    Position,
    Range,
    Diagnostic,
    CancellationError,
    CancellationTokenSource,
    CodeActionKind,
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
    StatusBarAlignment: { Left: 1, Right: 2 },
    ViewColumn: { Active: -1, Beside: -2, One: 1 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
    UIKind: { Desktop: 1, Web: 2 },
    TabInputText: Anything,
    TabInputTextDiff: Anything,
    TabInputCustom: Anything,
    CodeLens: Anything,
    Location: Anything,
    LocationLink: Anything,
    MarkdownString: Anything,
    Hover: Anything,
    env: { language: 'en', appName: 'Visual Studio Code', machineId: 'test', uiKind: 1, openExternal: () => Promise.resolve(true) },
    extensions: { getExtension: () => undefined, all: [] },
    commands: {
      registerCommand: (name: string, handler: (...args: unknown[]) => unknown) => {
        if (recorded.commands.has(name)) {
          throw new Error(`command '${name}' already exists`);
        }
        recorded.commands.set(name, handler);
        return new Disposable(() => recorded.commands.delete(name));
      },
      executeCommand: async (name: string, ...args: unknown[]) => {
        recorded.executed.push({ command: name, args });
        const handler = recorded.commands.get(name);
        return handler === undefined ? undefined : await handler(...args);
      },
      getCommands: () => Promise.resolve([...recorded.commands.keys()]),
    },
    window: {
      activeTextEditor: undefined,
      visibleTextEditors: [],
      tabGroups: { all: [], onDidChangeTabs: noEvent, onDidChangeTabGroups: noEvent },
      onDidChangeActiveTextEditor: noEvent,
      onDidChangeVisibleTextEditors: noEvent,
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      showErrorMessage: message('error'),
      showQuickPick: () => Promise.resolve(undefined),
      showTextDocument: () => Promise.resolve(undefined),
      withProgress: (_options: unknown, task: (progress: unknown, token: unknown) => Promise<unknown>) =>
        task({ report: () => undefined }, new CancellationTokenSource().token),
      createOutputChannel: (name: string) => ({
        name,
        append: (text: string) => recorded.output.push(text),
        appendLine: (text: string) => recorded.output.push(text),
        replace: () => undefined,
        clear: () => undefined,
        show: () => undefined,
        hide: () => undefined,
        dispose: () => undefined,
      }),
      createStatusBarItem: () => {
        let text = '';
        return {
          name: '',
          tooltip: '',
          command: undefined,
          get text() {
            return text;
          },
          set text(value: string) {
            text = value;
            recorded.statusTexts.push(value);
          },
          show: () => undefined,
          hide: () => undefined,
          dispose: () => undefined,
        };
      },
      createWebviewPanel: (_type: string, title: string) => {
        const record = { title, html: '' };
        recorded.webviews.push(record);
        return {
          webview: {
            cspSource: 'vscode-webview:',
            get html() {
              return record.html;
            },
            set html(value: string) {
              record.html = value;
            },
          },
          reveal: () => undefined,
          onDidDispose: noEvent,
          dispose: () => undefined,
        };
      },
    },
    workspace: {
      isTrusted: options.trusted,
      workspaceFolders: [workspaceFolder],
      textDocuments,
      getConfiguration: configuration,
      getWorkspaceFolder: () => workspaceFolder,
      onDidOpenTextDocument: events.open.event,
      onDidCloseTextDocument: noEvent,
      onDidChangeTextDocument: noEvent,
      onDidSaveTextDocument: noEvent,
      onWillSaveTextDocument: noEvent,
      onDidChangeConfiguration: noEvent,
      onDidChangeWorkspaceFolders: noEvent,
      onDidGrantWorkspaceTrust: noEvent,
      onDidCreateFiles: noEvent,
      onDidRenameFiles: noEvent,
      onDidDeleteFiles: noEvent,
      onWillCreateFiles: noEvent,
      onWillRenameFiles: noEvent,
      onWillDeleteFiles: noEvent,
      createFileSystemWatcher: () => ({ onDidCreate: noEvent, onDidChange: noEvent, onDidDelete: noEvent, dispose: () => undefined }),
      applyEdit: () => Promise.resolve(false), // the server then writes the files itself
    },
    languages: new Proxy(
      {
        match: (selector: { scheme?: string; language?: string }[] | { scheme?: string; language?: string }, document: FakeDocument) => {
          const filters = Array.isArray(selector) ? selector : [selector];
          return filters.some(
            (filter) =>
              (filter.scheme === undefined || filter.scheme === document.uri.scheme) &&
              (filter.language === undefined || filter.language === document.languageId),
          )
            ? 10
            : 0;
        },
        createDiagnosticCollection: (name: string) => ({
          name,
          set: (uri: Uri, diagnostics: Diagnostic[] | undefined) => recorded.diagnostics.set(uri.toString(), diagnostics ?? []),
          get: (uri: Uri) => recorded.diagnostics.get(uri.toString()),
          has: (uri: Uri) => recorded.diagnostics.has(uri.toString()),
          delete: (uri: Uri) => recorded.diagnostics.delete(uri.toString()),
          clear: () => { recorded.diagnostics.clear(); },
          forEach: () => undefined,
          dispose: () => undefined,
        }),
        getLanguages: () => Promise.resolve(['markdown', 'specloom']),
      },
      {
        // registerHoverProvider, registerCodeLensProvider, ...: nothing to do here
        get: (target: Record<string | symbol, unknown>, key) => (key in target ? target[key] : () => new Disposable()),
      },
    ),
  };
  // any other class (CompletionItem, CodeAction, ...) or enum: a class that keeps its arguments
  const others = new Map<string, unknown>();
  const module = new Proxy(vscode, {
    get: (target, key) => {
      if (typeof key !== 'string' || key in target) {
        return target[key as string];
      }
      if (/^[A-Z]/.test(key)) {
        if (!others.has(key)) {
          others.set(key, class extends Anything {});
        }
        return others.get(key);
      }
      return undefined;
    },
  });
  return {
    vscode: module,
    recorded,
    openDocument(doc: FakeDocument) {
      textDocuments.push(doc);
      events.open.fire(doc);
    },
  };
}
