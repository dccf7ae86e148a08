import { defineConfig } from 'vitest/config';

// Integration tests start real processes (containerd, registry, brokers), so they run
// one file at a time per worker and with generous timeouts; speed is measured in bench/.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
