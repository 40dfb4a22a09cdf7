import { defineConfig } from 'vitest/config';

// Unit tests touch no shared service and run in parallel first. Then the integration, fault and
// browser tests, two files at a time: most of their time is spent waiting on servers, browsers and
// child processes, and one at a time left a core idle. (A project with fileParallelism off gets a
// single worker, and projects of one group share the group's workers: two such "lanes" still ran
// one file at a time.) Each test keeps to its own ports, PostgreSQL schema, Redis namespace and
// data folder, so no two files share state.
const integrationFiles = ['test/integration/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/e2e/**/*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/setup/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll gives up after 1 s by default; behind a busy machine a page or a server can take
    // longer to answer, and a test that waits for a condition should not fail on the machine's speed.
    expect: { poll: { timeout: 10_000 } },
    // The embedded database normally runs at nice 19 so saving never takes the CPU from a run;
    // tests check what is saved, and behind other busy processes nice 19 starves it for minutes.
    // The same for the host thread's nice value once an engine thread runs (CVLAB_HOST_NICE): the
    // test runner is that thread.
    env: { CVLAB_EMBEDDED_DATABASE_NICE: '0', CVLAB_HOST_NICE: '0' },
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'], maxWorkers: 2, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'integration', include: integrationFiles, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
