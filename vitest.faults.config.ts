import { defineConfig } from 'vitest/config';

/**
 * The fault drills (`npm run test:faults`): real child processes killed, a receiver that fails, a
 * database restarted, hostile input. Slower than the main suite, so kept out of `npm test`.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The drills load the machine on purpose; one file at a time keeps them from starving each other.
    maxWorkers: 1,
  },
});
