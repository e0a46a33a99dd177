import { describe, expect, it } from 'vitest';

import { CANCEL, commandLabel, gate, GENERATE, PLAN, REPAIR, STATUS, VALIDATE } from '../../src/trust';

describe('gate', () => {
  it('allows everything in a trusted workspace', () => {
    for (const command of [PLAN, GENERATE, VALIDATE, REPAIR, CANCEL, STATUS]) {
      expect(gate(command, true)).toEqual({ allowed: true });
    }
  });

  it('refuses the commands that run generated code in Restricted Mode, with the reason', () => {
    for (const command of [VALIDATE, REPAIR]) {
      const result = gate(command, false);
      expect(result.allowed).toBe(false);
      expect(result.reason).toContain('Restricted Mode');
      expect(result.reason).toContain(commandLabel(command));
    }
  });

  it('lets generate run unverified, and plan, cancel and status run, in Restricted Mode', () => {
    const generate = gate(GENERATE, false);
    expect(generate.allowed).toBe(true);
    expect(generate.reason).toContain('not verified');
    for (const command of [PLAN, CANCEL, STATUS]) {
      expect(gate(command, false)).toEqual({ allowed: true });
    }
  });

  it('labels commands', () => {
    expect(commandLabel('specloom.repair')).toBe('Repair');
  });
});
