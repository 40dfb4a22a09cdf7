import { defineConfig } from 'vitest/config';

// Unit tests touch no shared service and run in parallel first. Then the integration, fault and
// browser tests in two lanes side by side, each lane one file at a time: the machine has two
// cores, and a single lane left one of them idle while tests wait on servers, browsers and
// child processes. Each test keeps to its own ports, PostgreSQL schema, Redis namespace and data
// folder, so the lanes never share state; the lane of spawned processes (the command line,
// Chromium, private servers) is listed here, every other file falls into the first lane.
const integrationFiles = ['test/integration/**/*.test.ts', 'test/faults/**/*.test.ts', 'test/e2e/**/*.test.ts'];
const processLane = [
  'test/e2e/**/*.test.ts',
  'test/faults/postgres-storage.test.ts',
  'test/faults/full-disk.test.ts',
  'test/integration/cli-exit-codes.test.ts',
  'test/integration/cli-cleanup.test.ts',
  'test/integration/blackbox-cli.test.ts',
  'test/integration/replay-cli.test.ts',
  'test/integration/load-cli.test.ts',
  'test/integration/osc-wire.test.ts',
  'test/integration/chat-record-replay.test.ts',
];

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
        test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'src/**/*.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'integration', include: integrationFiles, exclude: processLane, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'processes', include: processLane, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
