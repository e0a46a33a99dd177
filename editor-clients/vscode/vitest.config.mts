import { defineConfig } from 'vitest/config';

// Unit tests of the extension's own logic (the modules with no `vscode` import).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
  },
});
