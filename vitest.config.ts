import { defineConfig } from 'vitest/config';

// Two projects: unit tests touch no shared service and run in parallel first; then the
// integration, fault and browser tests, which share the real Redis, PostgreSQL, loopback ports
// and the machine's two cores, run one file at a time.
export default defineConfig({
  test: {
    globalSetup: ['test/setup/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The embedded database normally runs at nice 19 so saving never takes the CPU from a run;
    // tests check what is saved, and behind other busy processes nice 19 starves it for minutes.
    // The same for the host thread's nice value once an engine thread runs (CVLAB_HOST_NICE): the
    // test runner is that thread.
    env: { CVLAB_EMBEDDED_DATABASE_NICE: '0', CVLAB_HOST_NICE: '0' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
