import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/setup/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests share the real Redis and PostgreSQL; run files one at a time on 2 cores.
    fileParallelism: false,
    // The embedded database normally runs at nice 19 so saving never takes the CPU from a run;
    // tests check what is saved, and behind other busy processes nice 19 starves it for minutes.
    // The same for the host thread's nice value once an engine thread runs (CVLAB_HOST_NICE): the
    // test runner is that thread.
    env: { CVLAB_EMBEDDED_DATABASE_NICE: '0', CVLAB_HOST_NICE: '0' },
  },
});
