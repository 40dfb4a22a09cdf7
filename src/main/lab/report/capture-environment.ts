import { arch, cpus, hostname, release, totalmem, type } from 'node:os';
import type { ReportEnvironment } from '../../../shared/report';

/** Where this process runs: versions, CPU, OS; saved with each run for its report. */
export function captureEnvironment(): ReportEnvironment {
  const processors = cpus();
  return {
    node: process.versions.node,
    electron: process.versions['electron'] ?? null,
    cpuModel: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    os: `${type()} ${release()}`,
    arch: arch(),
    totalMemoryBytes: totalmem(),
    hostname: hostname(),
  };
}
