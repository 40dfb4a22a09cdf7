import type { RunSummary, StageStatistics } from '../../../shared/run';
import { formatCount, formatNsAsMs as ms, formatValue } from '../format/format';

/** One instance of a multi-instance run, as its summary carries it (a saved report: the same, as stored). */
interface InstanceView {
  readonly agentId?: string;
  readonly host?: string;
  readonly local?: boolean;
  readonly share?: { readonly index?: number; readonly count?: number; readonly sendsOsc?: boolean };
  readonly summary?: {
    readonly sent?: number;
    readonly outcomes?: { readonly accepted?: number; readonly rejected?: number };
    readonly stages?: { readonly e2e?: Partial<StageStatistics> };
    readonly resources?: { readonly cpuPercentMean?: number };
  };
  readonly propagation?: Partial<StageStatistics>;
  readonly remoteChanges?: number;
}

/** What a multi-instance or fan-out run adds to a summary; every part may be missing (older or other runs). */
export interface RunKindView {
  readonly perInstance?: readonly InstanceView[];
  readonly lost?: readonly { readonly agentId?: string; readonly local?: boolean; readonly reason?: string }[];
  readonly propagation?: StageStatistics;
  readonly multiInstance?: { readonly instances?: number; readonly joined?: number; readonly oscFrom?: string; readonly oscTakenOverBy?: string; readonly lostMessages?: number };
  readonly fanout?: {
    readonly subscribers?: number;
    readonly stalledSubscribers?: number;
    readonly latency?: StageStatistics;
    readonly counters?: { readonly published?: number; readonly sent?: number; readonly coalesced?: number; readonly dropped?: number; readonly refused?: number; readonly disconnected?: number };
    readonly subscribersWithGaps?: number;
    readonly subscribersOutOfOrder?: number;
  };
}

/** A summary's multi-instance and fan-out parts (the engine's summary of those kinds carries them beside the merged figures). */
export function runKindOf(summary: RunSummary | Readonly<Record<string, unknown>> | null | undefined): RunKindView {
  return (summary ?? {}) as RunKindView;
}

const msOf = (ns: number | undefined): string => (ns === undefined ? '–' : ms(ns));

/** The instances of a multi-instance run: each one's share, own figures and propagation, and the instances lost. */
export function InstancesSection({ view }: { view: RunKindView }): React.JSX.Element | null {
  const instances = view.perInstance;
  if (!instances) return null;
  const lost = view.lost ?? [];
  const facts = view.multiInstance;
  return (
    <section className="run-kind-section" aria-label="instances" data-testid="instances-section">
      <table className="data-table">
        <caption>
          Instances{facts ? ` · ${formatCount(facts.joined)} of ${formatCount(facts.instances)} joined · OSC from ${facts.oscFrom === 'all' ? 'every instance' : 'one'}` : ''}
          {facts?.oscTakenOverBy ? ` · OSC taken over by ${facts.oscTakenOverBy}` : ''}
        </caption>
        <thead>
          <tr>
            <th>instance</th>
            <th>host</th>
            <th>share</th>
            <th>OSC</th>
            <th className="numeric">sent</th>
            <th className="numeric">accepted</th>
            <th className="numeric">rejected</th>
            <th className="numeric">e2e p50 ms</th>
            <th className="numeric">e2e p99 ms</th>
            <th className="numeric">propagation p99 ms</th>
            <th className="numeric">changes seen</th>
            <th className="numeric">CPU % mean</th>
          </tr>
        </thead>
        <tbody>
          {instances.map((instance, index) => (
            <tr key={instance.agentId ?? index}>
              <td>
                <code>{instance.agentId ?? '?'}</code>
              </td>
              <td>
                {instance.host ?? '?'}
                {instance.local ? ' (local)' : ''}
              </td>
              <td>{instance.share ? `${(instance.share.index ?? 0) + 1}/${instance.share.count ?? '?'}` : '–'}</td>
              <td>{instance.share?.sendsOsc ? 'yes' : ''}</td>
              <td className="numeric">{formatCount(instance.summary?.sent ?? 0)}</td>
              <td className="numeric">{formatCount(instance.summary?.outcomes?.accepted ?? 0)}</td>
              <td className="numeric">{formatCount(instance.summary?.outcomes?.rejected ?? 0)}</td>
              <td className="numeric">{msOf(instance.summary?.stages?.e2e?.p50)}</td>
              <td className="numeric">{msOf(instance.summary?.stages?.e2e?.p99)}</td>
              <td className="numeric">{msOf(instance.propagation?.p99)}</td>
              <td className="numeric">{formatCount(instance.remoteChanges ?? 0)}</td>
              <td className="numeric">{instance.summary?.resources?.cpuPercentMean === undefined ? '–' : formatValue(instance.summary.resources.cpuPercentMean)}</td>
            </tr>
          ))}
          {lost.map((instance, index) => (
            <tr key={`lost-${instance.agentId ?? index}`} className="bad">
              <td>
                <code>{instance.agentId ?? '?'}</code>
              </td>
              <td colSpan={11}>
                lost{instance.local ? ' (local)' : ''}: {instance.reason ?? 'no reason given'}
                {facts?.lostMessages ? ` · ${formatCount(facts.lostMessages)} planned messages of lost shares counted as lost` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** A fan-out run's subscribers: how many, how many stalled on purpose, what the server coalesced, dropped or refused. */
export function FanoutSection({ view }: { view: RunKindView }): React.JSX.Element | null {
  const fanout = view.fanout;
  if (!fanout) return null;
  const counters = fanout.counters ?? {};
  return (
    <section className="run-kind-section" aria-label="fan-out" data-testid="fanout-section">
      <table className="data-table">
        <caption>Fan-out to WebSocket subscribers</caption>
        <tbody>
          <tr>
            <td>subscribers (stalled on purpose)</td>
            <td className="numeric">
              {formatCount(fanout.subscribers)} ({formatCount(fanout.stalledSubscribers)})
            </td>
          </tr>
          <tr>
            <td>changes published / frames sent</td>
            <td className="numeric">
              {formatCount(counters.published)} / {formatCount(counters.sent)}
            </td>
          </tr>
          <tr>
            <td>coalesced / dropped for slow subscribers</td>
            <td className="numeric">
              {formatCount(counters.coalesced)} / {formatCount(counters.dropped)}
            </td>
          </tr>
          <tr className={(counters.refused ?? 0) + (counters.disconnected ?? 0) > 0 ? 'bad' : ''}>
            <td>refused / disconnected</td>
            <td className="numeric">
              {formatCount(counters.refused)} / {formatCount(counters.disconnected)}
            </td>
          </tr>
          <tr className={(fanout.subscribersWithGaps ?? 0) + (fanout.subscribersOutOfOrder ?? 0) > 0 ? 'bad' : ''}>
            <td>subscribers with gaps / out of order</td>
            <td className="numeric">
              {formatCount(fanout.subscribersWithGaps)} / {formatCount(fanout.subscribersOutOfOrder)}
            </td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
