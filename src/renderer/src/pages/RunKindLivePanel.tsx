import type { FrameStageStatistics } from '../../../shared/run';
import { StageTable } from '../components/StageTable';
import { CvDecompositionLive } from '../components/CvDecompositionView';
import { formatCount, formatNsAsMs as ms } from '../format/format';
import { useRunProgress, useSession } from '../session';

function liveRow(stage: string, statistics: FrameStageStatistics | undefined): { stage: string; values: [string, string, string, string, string]; count: number }[] {
  if (!statistics || statistics.count === 0) return [];
  const capped = (ns: number): string => ms(Math.min(ns, statistics.max));
  return [{ stage, values: [capped(statistics.p50), capped(statistics.p95), capped(statistics.p99), '–', ms(statistics.max)], count: statistics.count }];
}

/**
 * The Run page's live view of what a run kind adds: a multi-instance run's instances (share,
 * counts, newest e2e p99, running / finished / lost) and its propagation stage so far; a fan-out
 * run's subscribers and fan-out stage so far; with a probe watching, chat → OSC → CV so far. The
 * summary's tables replace it once the run ends.
 */
export function RunKindLivePanel(): React.JSX.Element | null {
  const { run } = useSession();
  const progress = useRunProgress();
  if (!run || progress?.runId !== run.id) return null;
  const { instances, propagation, fanout, chatToCv } = progress;
  if (!instances && !fanout && !chatToCv) return null;
  if (!instances && !fanout && chatToCv) return <CvDecompositionLive progress={chatToCv} blackBox={Boolean(run.bot ?? progress.bot)} />;
  return (
    <section className="run-kind-live summary-grid" aria-label="run kind, live" data-testid="run-kind-live">
      {instances && (
        <table className="data-table" data-testid="instances-live">
          <caption>Instances, live</caption>
          <thead>
            <tr>
              <th>instance</th>
              <th>share</th>
              <th>OSC</th>
              <th className="numeric">sent</th>
              <th className="numeric">done</th>
              <th className="numeric">e2e p99 ms (newest)</th>
              <th>state</th>
            </tr>
          </thead>
          <tbody>
            {instances.map((instance) => (
              <tr key={instance.agentId} className={instance.state === 'lost' ? 'bad' : ''}>
                <td>
                  <code>{instance.agentId}</code>
                </td>
                <td>{instance.index !== undefined ? `${instance.index + 1}/${instance.count ?? '?'}` : '–'}</td>
                <td>{instance.sendsOsc ? 'yes' : ''}</td>
                <td className="numeric">{formatCount(instance.sent)}</td>
                <td className="numeric">{formatCount(instance.completed)}</td>
                <td className="numeric">{instance.e2eP99 === undefined ? '–' : ms(instance.e2eP99)}</td>
                <td title={instance.lostReason}>{instance.state === 'lost' ? `lost: ${instance.lostReason ?? ''}` : instance.state}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {fanout && (
        <div className="dim" data-testid="fanout-live">
          fan-out to {formatCount(fanout.subscribers)} WebSocket subscribers ({formatCount(fanout.stalledSubscribers)} stalled on purpose)
          {fanout.latency ? '' : ' · no change received yet'}
        </div>
      )}
      {(propagation || fanout?.latency) && <StageTable rows={[...liveRow('propagation', propagation), ...liveRow('fan-out', fanout?.latency)]} />}
      {chatToCv && <CvDecompositionLive progress={chatToCv} blackBox={Boolean(run.bot ?? progress.bot)} />}
    </section>
  );
}
