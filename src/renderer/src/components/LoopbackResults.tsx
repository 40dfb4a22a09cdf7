import { useCallback, useEffect, useState } from 'react';
import type { LabApi } from '../../../shared/api';
import { formatCount, formatFigure } from '../../../shared/format-figures';
import type { LoopbackListEntry } from '../../../shared/report';
import { formatDateTime } from '../format/format';
import { messageOf } from '../session';
import { Term } from './Term';

interface SavedSummary {
  sent?: number;
  matched?: number;
  latency?: { p50Us?: number; p99Us?: number } | null;
  clock?: { residualUs?: number } | null;
}

const ms = (us: number | undefined): string => (us === undefined ? '–' : `${formatFigure(us / 1000)} ms`);

/**
 * Saved loop-back measurements on the Reports page: found again later, and attached to the run
 * they belong with (made during a load run they are attached already; one made alone can be).
 */
export function LoopbackResults({
  lab,
  openedRunId,
  onAttached,
  refreshKey,
}: {
  lab: LabApi;
  openedRunId: string | null;
  /** Changes whenever the page's run list is fetched again (Refresh, a finished run): the list follows. */
  refreshKey: unknown;
  onAttached(): void;
}): React.JSX.Element {
  const [entries, setEntries] = useState<LoopbackListEntry[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const refresh = useCallback(() => {
    lab.listLoopbackResults().then(setEntries, (error: unknown) => setMessage(messageOf(error)));
  }, [lab]);
  useEffect(refresh, [refresh, refreshKey]);

  const attach = async (id: string, runId: string | null): Promise<void> => {
    try {
      setMessage(null);
      await lab.attachLoopback(id, runId);
      refresh();
      onAttached();
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  return (
    <section className="loopback-results" aria-label="loop-back measurements">
      <h3>Loop-back measurements</h3>
      <p className="dim">
        Hardware latency through the probe (OSC out → converter → CV → probe). Latency is timed through the clock model;
        <Term name="fit residual"> fit residual</Term> is its uncertainty. A measurement made during a load run belongs to
        that run; attach one made alone to the run it goes with.
      </p>
      {message && <div className="notice bad">{message}</div>}
      <table className="data-table" aria-label="saved loop-back measurements">
        <thead>
          <tr>
            <th>started</th>
            <th>rig</th>
            <th className="numeric">p50</th>
            <th className="numeric">p99</th>
            <th className="numeric">matched</th>
            <th className="numeric">fit residual</th>
            <th>run</th>
            <th aria-label="actions" />
          </tr>
        </thead>
        <tbody>
          {(entries ?? []).map((entry) => {
            const summary = entry.summary as SavedSummary;
            return (
              <tr key={entry.id} data-loopback-id={entry.id}>
                <td className="numeric">{formatDateTime(entry.startedAtMs)}</td>
                <td>{entry.rig}</td>
                <td className="numeric">{ms(summary.latency?.p50Us ?? undefined)}</td>
                <td className="numeric">{ms(summary.latency?.p99Us ?? undefined)}</td>
                <td className="numeric">
                  {formatCount(summary.matched)}/{formatCount(summary.sent)}
                </td>
                <td className="numeric">
                  {summary.clock?.residualUs === undefined ? '–' : `${formatFigure(summary.clock.residualUs)} µs`}
                </td>
                <td>{entry.runId ?? <span className="dim">on its own</span>}</td>
                <td>
                  {openedRunId && entry.runId !== openedRunId && (
                    <button type="button" className="button-small" onClick={() => void attach(entry.id, openedRunId)}>
                      Attach to the opened run
                    </button>
                  )}
                  {entry.runId !== null && (
                    <button type="button" className="button-small" onClick={() => void attach(entry.id, null)}>
                      Detach
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
          {entries?.length === 0 && (
            <tr>
              <td colSpan={8} className="dim">
                No loop-back measurement saved yet: run one on the Loop-back page.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
