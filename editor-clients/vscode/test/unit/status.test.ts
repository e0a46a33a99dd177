import { describe, expect, it } from 'vitest';

import { parseProgressMessage, resultMessage, RunStatus, stateOf } from '../../src/status';

const URI = 'file:///ws/todo.spec.md';

function clock(): () => number {
  let t = 1000;
  return () => (t += 10);
}

describe('parseProgressMessage', () => {
  it('reads the phase, its name and the task', () => {
    expect(parseProgressMessage('phase 6/11 code generation · model:Task')).toEqual({
      phase: 6,
      total: 11,
      name: 'code generation',
      task: 'model:Task',
    });
    expect(parseProgressMessage('phase 2/11 requirements analysis')).toMatchObject({ phase: 2, name: 'requirements analysis' });
    expect(parseProgressMessage('phase 3/11')).toMatchObject({ phase: 3, name: undefined });
    expect(parseProgressMessage('starting')).toBeUndefined();
  });
});

describe('RunStatus', () => {
  it('is idle before any run', () => {
    const view = new RunStatus(clock()).view();
    expect(view.text).toBe('$(checklist) Specloom');
    expect(view.running).toBe(false);
  });

  it('follows a generate run through its progress and events', () => {
    const status = new RunStatus(clock());
    status.started(URI, 'specloom.generate');
    expect(status.view(URI).text).toBe('$(sync~spin) Specloom: generate… 0%');
    status.progress('tok', { kind: 'begin', title: 'Specloom: generate todo.spec.md', percentage: 0, message: 'starting' });
    status.progress('tok', { kind: 'report', message: 'phase 2/11 requirements analysis', percentage: 9 });
    expect(status.view(URI).text).toBe('$(sync~spin) Specloom: 2/11 requirements analysis 9%');
    status.runEvent({ kind: 'phase_started', uri: URI, phase: 6, name: 'code generation', percent: 45.5 });
    status.runEvent({ kind: 'task_started', uri: URI, phase: 6, task_id: 'model:Task', percent: 46 });
    const running = status.view(URI);
    expect(running.text).toBe('$(sync~spin) Specloom: 6/11 code generation 46%');
    expect(running.running).toBe(true);
    expect(running.tooltip).toContain('task model:Task');
    // a late, lower percentage never moves the bar back
    status.progress('tok', { kind: 'report', message: 'phase 6/11 code generation', percentage: 30 });
    expect(status.get(URI)?.percent).toBe(46);
    status.progress('tok', { kind: 'end', message: 'incomplete' });
    status.finished(URI, 'specloom.generate', {
      status: 'incomplete',
      error: 'not verified',
      phases: [
        { number: 1, name: 'spec ingestion', status: 'passed', duration_ms: 12.3 },
        { number: 7, name: 'deployment', status: 'skipped', duration_ms: 0, message: 'not trusted' },
      ],
      trust: { trusted: false, reason: 'the trust setting is false' },
    });
    const done = status.view(URI);
    expect(done.text).toBe('$(warning) Specloom: incomplete');
    expect(done.running).toBe(false);
    expect(done.tooltip).toContain('✓ 1 spec ingestion: passed 12 ms');
    expect(done.tooltip).toContain('– 7 deployment: skipped 0 ms — not trusted');
    expect(done.tooltip).toContain('not trusted: the trust setting is false');
  });

  it('ignores progress and events of other specs and unknown tokens', () => {
    const status = new RunStatus(clock());
    status.started(URI, 'specloom.plan');
    status.progress('other', { kind: 'begin', title: 'Specloom: generate library.spec.md' });
    status.progress('other', { kind: 'report', message: 'phase 5/11 DAG construction', percentage: 40 });
    status.runEvent({ kind: 'phase_started', uri: 'file:///ws/library.spec.md', phase: 9, percent: 80 });
    expect(status.get(URI)?.percent).toBe(0);
    expect(status.get('file:///ws/library.spec.md')).toBeUndefined();
  });

  it('shows a plan, an error and a cancel', () => {
    const status = new RunStatus(clock());
    status.started(URI, 'specloom.plan');
    status.finished(URI, 'specloom.plan', { status: 'planned', tasks: 30, dependencies: 86, levels: 8 });
    expect(status.view(URI).text).toBe('$(type-hierarchy) Specloom: planned 30 tasks');
    expect(status.view(URI).tooltip).toContain('30 tasks, 86 dependencies, 8 levels');
    status.started(URI, 'specloom.validate');
    status.finished(URI, 'specloom.validate', undefined, 'nothing to validate');
    expect(status.view(URI).text).toBe('$(error) Specloom: validate failed');
    expect(status.view(URI).tooltip).toContain('nothing to validate');
    status.started(URI, 'specloom.generate');
    status.finished(URI, 'specloom.generate', { status: 'cancelled' });
    expect(status.view(URI).text).toBe('$(circle-slash) Specloom: cancelled');
  });

  it("shows the active spec's run, else the latest", () => {
    const status = new RunStatus(clock());
    const other = 'file:///ws/library.spec.md';
    status.started(URI, 'specloom.generate');
    status.finished(URI, 'specloom.generate', { status: 'passed' });
    status.started(other, 'specloom.generate');
    expect(status.view().uri).toBe(other);
    expect(status.view(URI).text).toBe('$(pass) Specloom: passed');
    expect(status.isRunning()).toBe(true);
    expect(status.isRunning(URI)).toBe(false);
  });

  it('ends the runs in flight when the server stops', () => {
    const status = new RunStatus(clock());
    status.started(URI, 'specloom.generate');
    status.abortAll('the server stopped');
    expect(status.isRunning()).toBe(false);
    expect(status.view(URI).text).toBe('$(error) Specloom: generate failed');
    expect(status.view(URI).tooltip).toContain('the server stopped');
  });

  it('takes a known run from specloom.status unless one is running', () => {
    const status = new RunStatus(clock());
    status.known(URI, { status: 'failed', phases: [] });
    expect(status.view(URI).text).toBe('$(error) Specloom: failed');
    status.started(URI, 'specloom.generate');
    status.known(URI, { status: 'passed' });
    expect(status.view(URI).running).toBe(true);
  });
});

describe('results', () => {
  it('maps statuses', () => {
    expect(stateOf('specloom.generate', { status: 'passed' })).toBe('passed');
    expect(stateOf('specloom.plan', { status: 'planned' })).toBe('planned');
    expect(stateOf('specloom.generate', null)).toBe('error');
  });

  it('says what a command gave', () => {
    expect(resultMessage('specloom.plan', URI, { tasks: 30, dependencies: 86, levels: 8 })).toBe(
      'Specloom plan of todo.spec.md: 30 tasks, 86 dependencies, 8 levels',
    );
    expect(
      resultMessage('specloom.generate', URI, {
        status: 'incomplete',
        error: 'not verified',
        output: { conflicts: [{ path: 'app/x.py' }] },
      }),
    ).toBe('Specloom generate of todo.spec.md: incomplete — not verified — 1 conflicts (your edits kept)');
  });
});
