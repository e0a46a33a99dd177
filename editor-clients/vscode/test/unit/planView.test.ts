import { readFileSync } from 'node:fs';
import * as path from 'node:path';

import { describe, expect, it } from 'vitest';

import { asPlan, BOX, escapeHtml, layoutPlan, type Plan, planHtml, planSvg } from '../../src/planView';

// plan.json of examples/todo.spec.md, as `specloom plan` writes it
const todo = asPlan(JSON.parse(readFileSync(path.join(import.meta.dirname, 'plan.fixture.json'), 'utf8')));

describe('layoutPlan', () => {
  it('puts each level in a column, dependencies left of their dependents', () => {
    const layout = layoutPlan(todo);
    expect(layout.columns).toHaveLength(todo.levels.length);
    expect(layout.placed.size).toBe(todo.tasks.length);
    for (const [from, to] of todo.edges) {
      const task = layout.placed.get(from);
      const dependency = layout.placed.get(to);
      expect(task && dependency && dependency.x < task.x).toBe(true);
    }
    const tallest = Math.max(...todo.levels.map((level) => level.length));
    expect(layout.height).toBe(BOX.margin * 2 + BOX.header + tallest * (BOX.height + BOX.rowGap) - BOX.rowGap);
  });

  it('puts the tasks of a cycle in a last column', () => {
    const plan: Plan = {
      tasks: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      edges: [['b', 'c'], ['c', 'b']],
      levels: [['a']],
      cycles: [['b', 'c']],
    };
    const layout = layoutPlan(plan);
    expect(layout.columns).toEqual([['a'], ['b', 'c']]);
    expect(planSvg(plan)).toContain('no level (cycle)');
    expect(planHtml(plan)).toContain('b → c → b');
  });
});

describe('planHtml', () => {
  const html = planHtml(todo, { cspSource: 'vscode-resource:', source: '/ws/todo-app/plan.json' });

  it('draws every task and every edge', () => {
    expect(html.match(/<g class="task"/g)).toHaveLength(todo.tasks.length);
    expect(html.match(/<path class="edge"/g)).toHaveLength(todo.edges.length);
    expect(html).toContain('Plan: Team Todo');
    expect(html).toContain(`${todo.tasks.length} tasks, ${todo.edges.length} dependencies, ${todo.levels.length} levels`);
    expect(html).toContain('model:Project');
  });

  it('loads nothing and runs nothing', () => {
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });

  it('escapes what comes from the spec', () => {
    const plan: Plan = { spec_name: '<b>x</b>', tasks: [{ id: 'a"<', title: '&' }], edges: [], levels: [['a"<']] };
    const page = planHtml(plan);
    expect(page).toContain('Plan: &lt;b&gt;x&lt;/b&gt;');
    expect(page).not.toContain('<b>x</b>');
    expect(escapeHtml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });

  it('refuses what is not a plan', () => {
    expect(() => asPlan({ tasks: [] })).toThrow(/not a Specloom plan/);
    expect(() => asPlan(null)).toThrow();
  });
});
