import { arch, cpus, hostname, release, totalmem, type } from 'node:os';
import type { ReportEnvironment, RunHost } from '../../../shared/report';

/** Where this process runs: versions, CPU, OS, and the host the run was started from; saved with each run for its report. */
export function captureEnvironment(startedFrom?: RunHost): ReportEnvironment {
  const processors = cpus();
  return {
    node: process.versions.node,
    electron: process.versions['electron'] ?? null,
    ...(startedFrom ? { startedFrom } : {}),
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    os: `${type()} ${release()}`,
    arch: arch(),
    totalMemoryBytes: totalmem(),
    hostname: hostname(),
  };
}
