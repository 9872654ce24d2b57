import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: DuckDB and tfjs-wasm tests contend for CPU, so keep workers low.
    maxWorkers: 2,
    pool: 'forks',
  },
});
