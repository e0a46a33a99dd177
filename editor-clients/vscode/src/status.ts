/**
 * The state of Specloom's runs, for the status bar: fed by the commands the extension
 * sends, the work-done progress (`$/progress`) and the `specloom/runEvent`
 * notifications, and the commands' results. No `vscode` import.
 */

export type RunState =
  | 'running'
  | 'passed'
  | 'failed'
  | 'incomplete'
  | 'cancelled'
  | 'planned'
  | 'error';

export interface PhaseSummary {
  number: number;
  name: string;
  status: string;
  duration_ms?: number | null;
  message?: string | null;
}

/** The run summary the server's commands return (docs/editors.md). */
export interface RunSummary {
  id?: string;
  status?: string;
  error?: string;
  phases?: PhaseSummary[];
  files?: string[];
  output_dir?: string;
  findings?: unknown[];
  trust?: { trusted?: boolean; reason?: string };
  output?: { applied?: string; conflicts?: unknown[] } & Record<string, unknown>;
  tasks?: number;
  dependencies?: number;
  levels?: number;
  [key: string]: unknown;
}

export interface WorkDoneValue {
  kind: 'begin' | 'report' | 'end';
  title?: string;
  message?: string;
  percentage?: number;
}

export interface RunEventData {
  kind: string;
  uri?: string;
  run_id?: string;
  percent?: number;
  phase?: number;
  name?: string;
  task_id?: string;
  status?: string;
  message?: string;
  error?: string;
}

export interface Run {
  uri: string;
  command: string;
  state: RunState;
  phase?: number;
  total: number;
  phaseName?: string;
  task?: string;
  percent: number;
  message?: string;
  summary?: RunSummary;
  error?: string;
  updated: number;
}

export interface StatusView {
  text: string;
  tooltip: string;
  running: boolean;
  /** The run shown, if any. */
  uri?: string;
}

const TOTAL_PHASES = 11;

const PROGRESS_MESSAGE = /^phase (\d+)\/(\d+)(?: (.*?))?(?: · (.+))?$/;

/** "phase 6/11 code generation · model:Task" -> its parts. */
export function parseProgressMessage(
  message: string,
): { phase: number; total: number; name?: string; task?: string } | undefined {
  const match = PROGRESS_MESSAGE.exec(message.trim());
  if (match === null) {
    return undefined;
  }
  return {
    phase: Number(match[1]),
    total: Number(match[2]),
    name: match[3] !== undefined && match[3] !== '' ? match[3] : undefined,
    task: match[4],
  };
}

export function fileName(uri: string): string {
  const last = uri.split('/').pop() ?? uri;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

export function verb(command: string): string {
  return command.startsWith('specloom.') ? command.slice('specloom.'.length) : command;
}

/** The state a finished command's result means. */
export function stateOf(command: string, summary: RunSummary | null | undefined): RunState {
  const status = summary?.status;
  if (status === 'passed' || status === 'failed' || status === 'incomplete' || status === 'cancelled') {
    return status;
  }
  if (status === 'planned') {
    return 'planned';
  }
  if (command === 'specloom.plan' && summary) {
    return 'planned';
  }
  return status ? 'failed' : 'error';
}

const ICONS: Record<RunState, string> = {
  running: '$(sync~spin)',
  passed: '$(pass)',
  failed: '$(error)',
  incomplete: '$(warning)',
  cancelled: '$(circle-slash)',
  planned: '$(type-hierarchy)',
  error: '$(error)',
};

const PHASE_MARKS: Record<string, string> = {
  passed: '✓',
  done: '✓',
  completed: '✓',
  failed: '✗',
  skipped: '–',
  unavailable: '·',
  cancelled: '⊘',
};

export class RunStatus {
  private readonly runs = new Map<string, Run>();
  private readonly tokens = new Map<string, string>();
  private clock = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  get(uri: string): Run | undefined {
    return this.runs.get(uri);
  }

  isRunning(uri?: string): boolean {
    if (uri !== undefined) {
      return this.runs.get(uri)?.state === 'running';
    }
    return [...this.runs.values()].some((run) => run.state === 'running');
  }

  private stamp(): number {
    // strictly increasing, even when the clock is not
    this.clock = Math.max(this.clock + 1, this.now());
    return this.clock;
  }

  /** A command was sent for `uri`. */
  started(uri: string, command: string): void {
    this.runs.set(uri, {
      uri,
      command,
      state: 'running',
      total: TOTAL_PHASES,
      percent: 0,
      message: 'starting',
      updated: this.stamp(),
    });
  }

  /** A `$/progress` value of a work-done token. */
  progress(token: string | number, value: WorkDoneValue): void {
    const key = String(token);
    if (value.kind === 'begin') {
      const uri = this.match(value.title ?? '');
      if (uri === undefined) {
        return;
      }
      this.tokens.set(key, uri);
    }
    const uri = this.tokens.get(key);
    const run = uri === undefined ? undefined : this.runs.get(uri);
    if (run === undefined) {
      return;
    }
    if (value.kind === 'end') {
      this.tokens.delete(key);
      if (run.state === 'running' && value.message) {
        run.message = value.message;
      }
      run.updated = this.stamp();
      return;
    }
    if (run.state !== 'running') {
      return;
    }
    if (typeof value.percentage === 'number') {
      run.percent = Math.max(run.percent, Math.min(100, Math.max(0, value.percentage)));
    }
    if (value.message) {
      run.message = value.message;
      const parsed = parseProgressMessage(value.message);
      if (parsed) {
        run.phase = parsed.phase;
        run.total = parsed.total;
        run.phaseName = parsed.name ?? run.phaseName;
        run.task = parsed.task;
      }
    }
    run.updated = this.stamp();
  }

  /** The run of the progress titled "Specloom: generate todo.spec.md". */
  private match(title: string): string | undefined {
    const match = /^Specloom: (\S+) (.+)$/.exec(title);
    let best: Run | undefined;
    for (const run of this.runs.values()) {
      if (run.state !== 'running') {
        continue;
      }
      if (match && (verb(run.command) !== match[1] || fileName(run.uri) !== match[2])) {
        continue;
      }
      if (best === undefined || run.updated > best.updated) {
        best = run;
      }
    }
    return best?.uri;
  }

  /** A `specloom/runEvent` notification. */
  runEvent(event: RunEventData): void {
    if (!event.uri) {
      return;
    }
    const run = this.runs.get(event.uri);
    if (run === undefined || run.state !== 'running') {
      return;
    }
    if (typeof event.percent === 'number') {
      run.percent = Math.max(run.percent, Math.min(100, Math.max(0, Math.floor(event.percent))));
    }
    switch (event.kind) {
      case 'phase_started':
      case 'phase_progressed':
        if (typeof event.phase === 'number') {
          if (run.phase !== event.phase) {
            run.task = undefined;
          }
          run.phase = event.phase;
        }
        run.phaseName = event.name ?? run.phaseName;
        break;
      case 'phase_finished':
        run.phaseName = event.name ?? run.phaseName;
        run.task = undefined;
        break;
      case 'task_started':
      case 'task_progressed':
        run.task = event.task_id;
        break;
      case 'task_finished':
        if (run.task === event.task_id) {
          run.task = undefined;
        }
        break;
      case 'run_finished':
        run.message = event.status;
        break;
      default:
        break;
    }
    run.updated = this.stamp();
  }

  /** The command's answer (a summary), or its error. */
  finished(uri: string, command: string, summary?: RunSummary | null, error?: string): void {
    const run: Run = this.runs.get(uri) ?? {
      uri,
      command,
      state: 'running',
      total: TOTAL_PHASES,
      percent: 0,
      updated: 0,
    };
    run.command = command;
    run.summary = summary ?? undefined;
    run.error = error ?? (summary?.error ? summary.error : undefined);
    run.state = error !== undefined ? 'error' : stateOf(command, summary);
    run.task = undefined;
    if (run.state !== 'error' && run.state !== 'cancelled') {
      run.percent = 100;
    }
    run.updated = this.stamp();
    this.runs.set(uri, run);
  }

  /** The server stopped: the runs in flight will not answer. */
  abortAll(reason: string): void {
    for (const run of this.runs.values()) {
      if (run.state === 'running') {
        this.finished(run.uri, run.command, undefined, reason);
      }
    }
    this.tokens.clear();
  }

  /** A summary from `specloom.status` (a run that may have ended while we were away). */
  known(uri: string, summary: RunSummary): void {
    const current = this.runs.get(uri);
    if (current?.state === 'running') {
      return;
    }
    this.finished(uri, current?.command ?? 'specloom.generate', summary);
  }

  /** What the status bar shows: the active spec's run, else the latest. */
  view(activeUri?: string): StatusView {
    let run = activeUri === undefined ? undefined : this.runs.get(activeUri);
    if (run === undefined) {
      for (const candidate of this.runs.values()) {
        if (run === undefined || candidate.updated > run.updated) {
          run = candidate;
        }
      }
    }
    if (run === undefined) {
      return { text: '$(checklist) Specloom', tooltip: 'Specloom: no run yet', running: false };
    }
    return { text: statusText(run), tooltip: statusTooltip(run), running: run.state === 'running', uri: run.uri };
  }
}

export function statusText(run: Run): string {
  if (run.state === 'running') {
    const where =
      run.phase !== undefined
        ? `${run.phase}/${run.total}${run.phaseName ? ' ' + run.phaseName : ''}`
        : `${verb(run.command)}…`;
    return `${ICONS.running} Specloom: ${where} ${Math.round(run.percent)}%`;
  }
  if (run.state === 'planned') {
    const tasks = run.summary?.tasks;
    return `${ICONS.planned} Specloom: planned${typeof tasks === 'number' ? ` ${tasks} tasks` : ''}`;
  }
  if (run.state === 'error') {
    return `${ICONS.error} Specloom: ${verb(run.command)} failed`;
  }
  return `${ICONS[run.state]} Specloom: ${run.state}`;
}

export function statusTooltip(run: Run): string {
  const lines = [`Specloom ${verb(run.command)} of ${fileName(run.uri)}: ${run.state}`];
  if (run.state === 'running') {
    if (run.message) {
      lines.push(run.message);
    }
    if (run.task) {
      lines.push(`task ${run.task}`);
    }
    lines.push('Click to cancel the run.');
    return lines.join('\n');
  }
  if (run.error) {
    lines.push(run.error);
  }
  const summary = run.summary;
  if (summary?.trust && summary.trust.trusted === false && summary.trust.reason) {
    lines.push(`not trusted: ${summary.trust.reason}`);
  }
  for (const phase of summary?.phases ?? []) {
    const mark = PHASE_MARKS[phase.status] ?? '•';
    const time = typeof phase.duration_ms === 'number' ? ` ${Math.round(phase.duration_ms)} ms` : '';
    const note = phase.message ? ` — ${phase.message}` : '';
    lines.push(`${mark} ${phase.number} ${phase.name}: ${phase.status}${time}${note}`);
  }
  if (typeof summary?.tasks === 'number') {
    lines.push(
      `${summary.tasks} tasks, ${String(summary.dependencies ?? 0)} dependencies, ${String(summary.levels ?? 0)} levels`,
    );
  }
  if (Array.isArray(summary?.output?.conflicts) && summary.output.conflicts.length > 0) {
    lines.push(`${summary.output.conflicts.length} conflicts (your edits were kept)`);
  }
  if (Array.isArray(summary?.findings) && summary.findings.length > 0) {
    lines.push(`${summary.findings.length} findings`);
  }
  lines.push('Click for the latest run.');
  return lines.join('\n');
}

/** A one-line message for a finished command (the notification after a run). */
export function resultMessage(command: string, uri: string, summary: RunSummary | null | undefined): string {
  const name = fileName(uri);
  if (!summary) {
    return `Specloom ${verb(command)} of ${name}: no result`;
  }
  if (command === 'specloom.plan') {
    return `Specloom plan of ${name}: ${String(summary.tasks ?? '?')} tasks, ${String(summary.dependencies ?? '?')} dependencies, ${String(summary.levels ?? '?')} levels`;
  }
  const parts = [`Specloom ${verb(command)} of ${name}: ${summary.status ?? 'unknown'}`];
  if (summary.error) {
    parts.push(summary.error);
  }
  const conflicts = summary.output?.conflicts;
  if (Array.isArray(conflicts) && conflicts.length > 0) {
    parts.push(`${conflicts.length} conflicts (your edits kept)`);
  }
  return parts.join(' — ');
}
