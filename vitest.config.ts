import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/setup/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share the real Redis and PostgreSQL; run files one at a time on 2 cores.
    fileParallelism: false,
  },
});
