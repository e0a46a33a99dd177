import { defineConfig } from 'vitest/config';

// Drives the real server (`python -m specloom_lsp`) over stdio, as VS Code would.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
