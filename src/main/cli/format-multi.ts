import type { FanoutScalingSummary, MultiInstanceSummary } from '../../shared/run';
import { formatNs, formatTable } from './format';

/** Per-instance figures, the merged propagation stage and any lost instance, for the terminal. */
export function formatMultiInstance(summary: MultiInstanceSummary): string {
  const { multiInstance: setup } = summary;
  const out: string[] = [];
  out.push(
    `${setup.instances} instances (${setup.joined} joined agents) on namespace ${setup.namespace}; OSC from ${setup.oscFrom === 'one' ? 'one instance' : 'every instance'}`,
  );
  out.push(
    formatTable(
      [
        'instance',
        'share',
        'osc',
        'sent',
        'accepted',
        'rejected',
        'e2e p50',
        'e2e p99',
        'propagation p50',
        'propagation p99',
        'changes seen',
      ],
      summary.perInstance.map((instance) => {
        const e2e = instance.summary.stages['e2e'];
        return [
          instance.agentId,
          `${instance.share.index + 1}/${instance.share.count}`,
          instance.share.sendsOsc ? 'yes' : '',
          String(instance.summary.sent),
          String(instance.summary.outcomes.accepted),
          String(instance.summary.outcomes.rejected),
          formatNs(e2e?.p50),
          formatNs(e2e?.p99),
          formatNs(instance.propagation?.p50),
          formatNs(instance.propagation?.p99),
          String(instance.remoteChanges),
        ];
      }),
    ),
  );
  const propagation = summary.propagation;
  out.push(
    propagation
      ? `propagation (publish → seen by each other instance, merged over ${propagation.count} samples): p50 ${formatNs(propagation.p50)}, p95 ${formatNs(propagation.p95)}, p99 ${formatNs(propagation.p99)}, max ${formatNs(propagation.max)}`
      : 'propagation: no change reached another instance',
  );
  for (const lost of summary.lost)
    out.push(
      `LOST ${lost.agentId}${lost.local ? '' : ' (agent)'}: ${lost.reason}; the other instances' results are kept`,
    );
  out.push(`Redis keys of the run removed: ${setup.keysRemoved}`);
  return out.join('\n');
}

/** The fan-out stage of a websocket-scaling run. */
export function formatFanout(summary: FanoutScalingSummary): string {
  const { fanout } = summary;
  const latency = fanout.latency;
  const counters = Object.entries(fanout.counters)
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
  return [
    `fan-out to ${fanout.subscribers} subscribers (${fanout.stalledSubscribers} stalled on purpose)`,
    latency
      ? `fan-out latency (accepted → received, ${latency.count} deliveries): p50 ${formatNs(latency.p50)}, p95 ${formatNs(latency.p95)}, p99 ${formatNs(latency.p99)}, max ${formatNs(latency.max)}`
      : 'fan-out latency: nothing was delivered',
    `subscribers with gaps ${fanout.subscribersWithGaps}, out of order ${fanout.subscribersOutOfOrder}; ${counters}`,
  ].join('\n');
}
