/**
 * The plan view: the task graph of `plan.json` (written by `specloom.plan` into the
 * spec's output directory) drawn as an SVG, levels left to right, and the table of
 * tasks by level. Plain HTML with no script and no remote resource (the webview's
 * content security policy allows nothing else). No `vscode` import.
 */

export interface PlanTask {
  id: string;
  kind?: string;
  level?: number | null;
  title?: string;
  subject?: string;
  requirement_ids?: string[];
  depends_on?: string[];
}

export interface Plan {
  spec_name?: string;
  spec_hash?: string;
  tasks: PlanTask[];
  edges: [string, string][];
  levels: string[][];
  cycles?: string[][];
}

export const KIND_COLORS: Record<string, { fill: string; stroke: string }> = {
  model: { fill: '#e3f2fd', stroke: '#1565c0' },
  schemas: { fill: '#e8f5e9', stroke: '#2e7d32' },
  repository: { fill: '#fff3e0', stroke: '#ef6c00' },
  endpoint: { fill: '#f3e5f5', stroke: '#6a1b9a' },
  flow: { fill: '#fce4ec', stroke: '#ad1457' },
  rule: { fill: '#fffde7', stroke: '#f9a825' },
  tests: { fill: '#e0f7fa', stroke: '#00838f' },
  app: { fill: '#eceff1', stroke: '#37474f' },
  infra: { fill: '#efebe9', stroke: '#4e342e' },
};
const OTHER = { fill: '#f5f5f5', stroke: '#616161' };

export const BOX = { width: 190, height: 30, columnGap: 70, rowGap: 10, margin: 20, header: 24 };

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Checks the shape of a parsed plan.json. */
export function asPlan(value: unknown): Plan {
  const plan = value as Partial<Plan> | null;
  if (
    plan === null ||
    typeof plan !== 'object' ||
    !Array.isArray(plan.tasks) ||
    !Array.isArray(plan.edges) ||
    !Array.isArray(plan.levels)
  ) {
    throw new Error('not a Specloom plan (plan.json needs tasks, edges and levels)');
  }
  return plan as Plan;
}

export interface Placed {
  task: PlanTask;
  x: number;
  y: number;
  column: number;
}

export interface Layout {
  placed: Map<string, Placed>;
  columns: string[][];
  width: number;
  height: number;
}

/** Columns are the plan's levels (dependencies on the left); tasks with no level (in a
 * dependency cycle) go in a last column. */
export function layoutPlan(plan: Plan): Layout {
  const byId = new Map(plan.tasks.map((task) => [task.id, task]));
  const columns: string[][] = plan.levels.map((level) => level.filter((id) => byId.has(id)));
  const seen = new Set(columns.flat());
  const unleveled = plan.tasks.filter((task) => !seen.has(task.id)).map((task) => task.id);
  if (unleveled.length > 0) {
    columns.push(unleveled);
  }
  const placed = new Map<string, Placed>();
  let rows = 0;
  columns.forEach((ids, column) => {
    rows = Math.max(rows, ids.length);
    ids.forEach((id, row) => {
      placed.set(id, {
        task: byId.get(id) as PlanTask,
        column,
        x: BOX.margin + column * (BOX.width + BOX.columnGap),
        y: BOX.margin + BOX.header + row * (BOX.height + BOX.rowGap),
      });
    });
  });
  const width = BOX.margin * 2 + Math.max(1, columns.length) * (BOX.width + BOX.columnGap) - BOX.columnGap;
  const height = BOX.margin * 2 + BOX.header + Math.max(1, rows) * (BOX.height + BOX.rowGap) - BOX.rowGap;
  return { placed, columns, width, height };
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}

/** The SVG of the task graph: an edge from each dependency to the task needing it. */
export function planSvg(plan: Plan): string {
  const layout = layoutPlan(plan);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" role="img" aria-label="task graph">`,
  );
  layout.columns.forEach((ids, column) => {
    const x = BOX.margin + column * (BOX.width + BOX.columnGap);
    const cycle = plan.levels.length <= column;
    out.push(
      `<text class="level" x="${x}" y="${BOX.margin + 12}">${cycle ? 'no level (cycle)' : `level ${column}`} · ${ids.length}</text>`,
    );
  });
  out.push('<g class="edges">');
  for (const [from, to] of plan.edges) {
    const task = layout.placed.get(from);
    const dependency = layout.placed.get(to);
    if (task === undefined || dependency === undefined) {
      continue;
    }
    const x1 = dependency.x + BOX.width;
    const y1 = dependency.y + BOX.height / 2;
    const x2 = task.x;
    const y2 = task.y + BOX.height / 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    out.push(
      `<path class="edge" d="M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}" data-from="${escapeHtml(from)}" data-to="${escapeHtml(to)}"/>`,
    );
  }
  out.push('</g>');
  for (const { task, x, y } of layout.placed.values()) {
    const color = KIND_COLORS[task.kind ?? ''] ?? OTHER;
    const requirements = task.requirement_ids ?? [];
    const tip = [
      task.id,
      task.title ?? '',
      requirements.length > 0 ? `requirements: ${requirements.join(', ')}` : '',
      (task.depends_on ?? []).length > 0 ? `depends on: ${(task.depends_on ?? []).join(', ')}` : '',
    ]
      .filter((line) => line !== '')
      .join('\n');
    out.push(
      `<g class="task" data-id="${escapeHtml(task.id)}"><title>${escapeHtml(tip)}</title>` +
        `<rect x="${x}" y="${y}" width="${BOX.width}" height="${BOX.height}" rx="4" fill="${color.fill}" stroke="${color.stroke}"/>` +
        `<text x="${x + 8}" y="${y + BOX.height / 2 + 4}">${escapeHtml(shorten(task.id, 30))}</text></g>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}

export function planTable(plan: Plan): string {
  const byId = new Map(plan.tasks.map((task) => [task.id, task]));
  const rows: string[] = [];
  plan.levels.forEach((level, index) => {
    for (const id of level) {
      const task = byId.get(id);
      if (task === undefined) {
        continue;
      }
      rows.push(
        `<tr><td>${index}</td><td><code>${escapeHtml(task.id)}</code></td><td>${escapeHtml(task.title ?? '')}</td>` +
          `<td>${(task.requirement_ids ?? []).map((r) => `<code>${escapeHtml(r)}</code>`).join(' ')}</td></tr>`,
      );
    }
  });
  return (
    '<table><thead><tr><th>level</th><th>task</th><th>what</th><th>requirements</th></tr></thead><tbody>' +
    rows.join('\n') +
    '</tbody></table>'
  );
}

export interface PageOptions {
  /** The webview's `cspSource` (for nothing but images today). */
  cspSource?: string;
  /** Where plan.json was read. */
  source?: string;
}

/** The whole page of the plan view. */
export function planHtml(plan: Plan, options: PageOptions = {}): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src ${options.cspSource ?? "'none'"} data:;`;
  const name = plan.spec_name ?? 'unnamed spec';
  const summary = `${plan.tasks.length} tasks, ${plan.edges.length} dependencies, ${plan.levels.length} levels (the tasks of one level can run in parallel).`;
  const cycles = (plan.cycles ?? []).map(
    (cycle) => `<li>${escapeHtml([...cycle, cycle[0]].join(' → '))}</li>`,
  );
  const legend = Object.entries(KIND_COLORS)
    .map(
      ([kind, color]) =>
        `<span class="kind"><span class="swatch" style="background:${color.fill};border-color:${color.stroke}"></span>${escapeHtml(kind)}</span>`,
    )
    .join(' ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Plan: ${escapeHtml(name)}</title>
<style>
body { font-family: var(--vscode-font-family, sans-serif); color: var(--vscode-foreground, #222); padding: 0 16px 16px; }
.scroll { overflow: auto; border: 1px solid var(--vscode-panel-border, #ccc); }
svg.graph text { font-size: 11px; font-family: var(--vscode-editor-font-family, monospace); fill: #222; }
svg.graph text.level { fill: var(--vscode-descriptionForeground, #666); font-family: var(--vscode-font-family, sans-serif); }
.edge { fill: none; stroke: var(--vscode-descriptionForeground, #888); stroke-opacity: 0.45; stroke-width: 1; }
.task:hover rect { stroke-width: 3; }
.kind { margin-right: 10px; white-space: nowrap; }
.swatch { display: inline-block; width: 10px; height: 10px; border: 1px solid; margin-right: 4px; vertical-align: middle; }
table { border-collapse: collapse; margin-top: 12px; }
td, th { border: 1px solid var(--vscode-panel-border, #ccc); padding: 2px 6px; text-align: left; vertical-align: top; }
.cycles { color: var(--vscode-errorForeground, #c00); }
.source { color: var(--vscode-descriptionForeground, #666); font-size: 90%; }
</style>
</head>
<body>
<h1>Plan: ${escapeHtml(name)}</h1>
<p>${escapeHtml(summary)}</p>
${options.source ? `<p class="source">${escapeHtml(options.source)}</p>` : ''}
${cycles.length > 0 ? `<div class="cycles"><strong>Dependency cycles.</strong> These tasks depend on each other:<ul>${cycles.join('')}</ul></div>` : ''}
<p>${legend}</p>
<h2>Task graph</h2>
<div class="scroll">
${planSvg(plan)}
</div>
<h2>Tasks by level</h2>
${planTable(plan)}
</body>
</html>
`;
}
