import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits on a browser or a projector: vitest's 1 s default is shorter than a
    // PostgreSQL round trip on a loaded two-core CI machine.
    expect: { poll: { timeout: 15_000 } },
  },
});
