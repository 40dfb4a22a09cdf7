import { Fragment, useCallback, useEffect, useRef, useState } from 'react';
import type { LabApi } from '../../../shared/api';
import { formatCount, formatFigure } from '../../../shared/format-figures';
import type { LoopbackListEntry } from '../../../shared/report';
import { formatDateTime } from '../format/format';
import { messageOf } from '../session';
import { Term } from './Term';
import { NoteForm, NoteList } from './Notebook';

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
  expectNew,
}: {
  lab: LabApi;
  openedRunId: string | null;
  /** Changes whenever the page's run list is fetched again (Refresh, a finished run): the list follows. */
  refreshKey: unknown;
  onAttached(): void;
  /**
   * Changes when a measurement has just ended (the Loop-back page): it is saved just after its
   * result is shown, so the list looks again for a while until a new one appears.
   */
  expectNew?: unknown;
}): React.JSX.Element {
  const [entries, setEntries] = useState<LoopbackListEntry[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  // The measurement whose note line is open (one at a time keeps the table narrow).
  const [noting, setNoting] = useState<string | null>(null);
  // The ids listed last: a measurement not among them is the new one.
  const known = useRef<ReadonlySet<string> | null>(null);
  const refresh = useCallback(() => {
    lab.listLoopbackResults().then(
      (list) => {
        known.current = new Set(list.map((entry) => entry.id));
        setEntries(list);
      },
      (error: unknown) => setMessage(messageOf(error)),
    );
  }, [lab]);
  useEffect(refresh, [refresh, refreshKey]);
  useEffect(() => {
    if (expectNew === undefined || expectNew === null) return;
    const before = known.current ?? new Set<string>();
    let tries = 0;
    const timer = setInterval(() => {
      tries += 1;
      lab.listLoopbackResults().then((list) => {
        setEntries(list);
        if (list.some((entry) => !before.has(entry.id)) || tries >= 60) {
          known.current = new Set(list.map((entry) => entry.id));
          clearInterval(timer);
        }
      }, () => undefined);
    }, 500);
    return () => clearInterval(timer);
  }, [expectNew, lab]);

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
        <Term name="fit residual"> fit residual</Term> is its uncertainty. A measurement made during a load run belongs
        to that run; attach one made alone to the run it goes with.
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
            <th>notes</th>
            <th aria-label="actions" />
          </tr>
        </thead>
        <tbody>
          {(entries ?? []).map((entry) => {
            const summary = entry.summary as SavedSummary;
            return (
              <Fragment key={entry.id}>
                <tr data-loopback-id={entry.id}>
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
                    <NoteList notes={entry.notes} label="notes of this measurement" />
                  </td>
                  <td>
                    <button
                      type="button"
                      className="button-small"
                      aria-expanded={noting === entry.id}
                      onClick={() => setNoting(noting === entry.id ? null : entry.id)}
                    >
                      Note…
                    </button>
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
                {noting === entry.id && (
                  <tr>
                    <td colSpan={9}>
                      <NoteForm
                        lab={lab}
                        kind="loopback"
                        id={entry.id}
                        onAdded={() => {
                          setNoting(null);
                          refresh();
                        }}
                      />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
          {entries === null && !message && (
            <tr>
              <td colSpan={9} className="dim">
                Reading the saved measurements… (the first read opens the database)
              </td>
            </tr>
          )}
          {entries?.length === 0 && (
            <tr>
              <td colSpan={9} className="dim">
                No loop-back measurement saved yet: run one on the Loop-back page.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
