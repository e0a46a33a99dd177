import { describe, expect, it } from 'vitest';

import { commandArguments, looksLikeSpec, uriString } from '../../src/args';

const uriObject = { scheme: 'file', toString: () => 'file:///ws/todo.spec.md' };

describe('commandArguments', () => {
  it('keeps a code lens string argument', () => {
    expect(commandArguments(['file:///ws/a.spec.md'], 'file:///ws/b.spec.md')).toEqual({
      uri: 'file:///ws/a.spec.md',
      args: ['file:///ws/a.spec.md'],
    });
  });

  it('turns an editor-title Uri into a string and keeps the other arguments', () => {
    expect(commandArguments([uriObject, { extra: 1 }], undefined)).toEqual({
      uri: 'file:///ws/todo.spec.md',
      args: ['file:///ws/todo.spec.md', { extra: 1 }],
    });
  });

  it("uses the active spec from the palette, else nothing", () => {
    expect(commandArguments([], 'file:///ws/b.spec.md')?.args).toEqual(['file:///ws/b.spec.md']);
    expect(commandArguments([], undefined)).toBeUndefined();
    expect(uriString(42)).toBeUndefined();
  });

  it('recognises specs', () => {
    expect(looksLikeSpec('/ws/todo.spec.md')).toBe(true);
    expect(looksLikeSpec('/ws/README.md', 'markdown')).toBe(false);
    expect(looksLikeSpec('/ws/notes.md', 'specloom')).toBe(true);
  });
});
