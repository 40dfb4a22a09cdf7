import type { ChatToCvSummary, StageStatistics } from '../../shared/run';
import { formatNs } from './format';

/** The chat → CV part of the end-of-run report: the probe, the counts, the path in legs, the clock's bound. */
export function formatChatToCv(cv: ChatToCvSummary, stages: { readonly cv?: StageStatistics; readonly chatToCv?: StageStatistics; readonly oscToCv?: StageStatistics }): string {
  const leg = (name: string, statistics: StageStatistics | undefined): string =>
    statistics ? `${name} p50 ${formatNs(statistics.p50)}, p99 ${formatNs(statistics.p99)} (${statistics.count} edges)` : `${name} —`;
  const bound = cv.clock ? `± ${formatNs(cv.clock.boundUs * 1000)}` : 'no clock fit';
  const decomposition = cv.decomposition;
  const lines = [
    `chat → CV: probe on ${cv.probe.path}${cv.probe.firmware ? ` (${cv.probe.firmware}, ${cv.probe.link} link)` : ` (${cv.probe.link} link)`} watching ${cv.variable} (${cv.address}) at ${cv.thresholdMv} mV; ${cv.viewers} probe viewers at ${cv.rateHz} Hz`,
    `probe messages ${cv.sent}: passed on ${cv.passedOn}, not passed on ${cv.notPassedOn}; edges expected ${cv.expectedEdges}, matched ${cv.matched}, MISSED ${cv.missed}; unexplained edges ${cv.unexplained}`,
    [leg('cv (due → edge)', stages.cv), leg('chatToCv (line written → edge)', stages.chatToCv), leg('oscToCv (datagram → edge)', stages.oscToCv)].join('; '),
    `path at p50: chat → OSC ${formatNs(decomposition.chatToOscP50)} + OSC → CV ${formatNs(decomposition.oscToCvP50)} ≈ chat → CV ${formatNs(decomposition.chatToCvP50)}; every CV figure ${bound} (clock fit${cv.clock ? `, residual ${formatNs(cv.clock.residualUs * 1000)}, ${cv.clock.samples} PINGs${cv.clock.linkFit && cv.clock.linkFit !== 'fits' ? `, link: ${cv.clock.linkFit}` : ''}` : ''})`,
  ];
  // Each leg's p99 on its own (legs' p99s do not add up: the slowest messages differ per leg).
  if (decomposition.chatToOscP99 !== undefined || decomposition.oscToCvP99 !== undefined)
    lines.push(`each leg at p99: chat → OSC ${formatNs(decomposition.chatToOscP99)}, OSC → CV ${formatNs(decomposition.oscToCvP99)}, chat → CV ${formatNs(decomposition.chatToCvP99)}`);
  if (cv.problem) lines.push(`PARTIAL: ${cv.problem}; the edges up to then are kept`);
  return lines.join('\n');
}
