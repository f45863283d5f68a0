import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'web/test/**/*.test.ts'],
    // The fault drills have their own config (vitest.faults.config.ts, `npm run test:faults`).
    exclude: ['test/faults/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel worker processes; each file makes its own database.
    pool: 'forks',
    maxWorkers: 2,
  },
});
