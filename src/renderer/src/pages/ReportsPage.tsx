import { useCallback, useEffect, useState } from 'react';
import type {
  RunComparison,
  RunListEntry,
  RunReport,
  TrendPoint,
} from '../../../shared/report';
import type { StageStatistics } from '../../../shared/run';
import { describeStartedFrom } from '../../../shared/report';
import { messageOf, useSession } from '../session';
import { StageTable } from '../components/StageTable';
import { BlackBoxSection, isBlackBox } from '../components/BlackBoxSection';
import { FanoutSection, InstancesSection, runKindOf } from '../components/RunKindSections';
import { ComparisonView } from '../components/ComparisonView';
import { CvDecompositionOfSummary, isChatToCv } from '../components/CvDecompositionView';
import { LoopbackResults } from '../components/LoopbackResults';
import { NoteList, Notebook } from '../components/Notebook';
import { ScenarioFactsLine } from '../components/ScenarioFactsLine';
import { formatCount, formatDateTime as when, formatPercent } from '../format/format';
import { formatFigure } from '../../../shared/format-figures';

const number = (value: number | null | undefined): string => formatFigure(value);
/** Stage tables read the same on every page: the end-to-end figures first. */
const STAGE_ORDER = ['e2e', 'tap', 'validate', 'limit', 'store', 'encode', 'send', 'slip', 'chatToOsc', 'botReply', 'propagation', 'fanout'];
const stageRank = (stage: string): number => {
  const index = STAGE_ORDER.indexOf(stage);
  return index < 0 ? STAGE_ORDER.length : index;
};

/** Offers text as a file download (the engine wrote it; the page only hands it to the browser). */
function download(fileName: string, mimeType: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Reports: saved runs, one opened, exports, baseline, comparison and trend. */
export function ReportsPage(): React.JSX.Element {
  const { lab, page, summary } = useSession();
  const [runs, setRuns] = useState<RunListEntry[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [report, setReport] = useState<RunReport | null>(null);
  const [comparison, setComparison] = useState<RunComparison | null>(null);
  const [trend, setTrend] = useState<TrendPoint[] | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [noBaseline, setNoBaseline] = useState(false);
  /** The run to compare the opened one with: '' = its baseline. */
  const [compareWith, setCompareWith] = useState('');
  /** The run list's notebook filter: a tag, and words in notes, scenario, rig or id. */
  const [tagFilter, setTagFilter] = useState('');
  const [textFilter, setTextFilter] = useState('');

  const refresh = useCallback(() => {
    lab
      .listReports({ limit: 200, ...(tagFilter.trim() ? { tag: tagFilter.trim() } : {}), ...(textFilter.trim() ? { text: textFilter.trim() } : {}) })
      .then(setRuns, (error: unknown) => setMessage(messageOf(error)));
  }, [lab, tagFilter, textFilter]);

  // The list follows the page being shown and each finished run.
  useEffect(() => {
    if (page === 'reports') refresh();
  }, [page, refresh, summary]);

  const open = async (id: string): Promise<void> => {
    setSelected(id);
    setComparison(null);
    setCompareWith('');
    setNoBaseline(false);
    setMessage(null);
    try {
      const opened = await lab.openReport(id);
      setReport(opened);
      const points = await lab.reportTrend({
        rig: opened.run.rig,
        scenario: opened.run.scenario,
        stage: 'e2e',
        percentile: 'p99',
        limit: 20,
      });
      // Newest first, like the run list above it.
      setTrend([...points].reverse());
    } catch (error) {
      setReport(null);
      setMessage(messageOf(error));
    }
  };

  const act = async (action: () => Promise<void>): Promise<void> => {
    try {
      setMessage(null);
      await action();
    } catch (error) {
      setMessage(messageOf(error));
    }
  };

  return (
    <div className="page page-reports">
      <header className="run-bar">
        <h2>Reports</h2>
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </header>
      {message && <div className="notice bad">{message}</div>}
      {runs === null && !message && (
        <p className="dim" role="status">
          Loading the saved runs…
        </p>
      )}
      <div className="reports-layout">
        <div className="run-list">
          <form
            className="run-filters"
            aria-label="filter runs"
            onSubmit={(event) => {
              event.preventDefault();
              refresh();
            }}
          >
            <input aria-label="filter by tag" placeholder="tag" value={tagFilter} onChange={(event) => setTagFilter(event.target.value)} />
            <input
              aria-label="filter by text"
              placeholder="words in notes, scenario, rig"
              value={textFilter}
              onChange={(event) => setTextFilter(event.target.value)}
            />
            <button type="submit" className="button-small">
              Filter
            </button>
          </form>
          <table className="data-table" aria-label="saved runs">
            <thead>
              <tr>
                <th>started</th>
                <th>scenario</th>
                <th>rig</th>
                <th>status</th>
                <th className="numeric">e2e p99 (ms)</th>
                <th aria-label="baseline" />
              </tr>
            </thead>
            <tbody>
              {(runs ?? []).map((run) => (
                <tr
                  key={run.id}
                  data-run-id={run.id}
                  className={`${run.status === 'passed' ? 'ok' : run.status === 'running' ? '' : 'bad'} ${selected === run.id ? 'selected' : ''}`}
                  tabIndex={0}
                  aria-selected={selected === run.id}
                  onClick={() => void open(run.id)}
                  onKeyDown={(event) => {
                    if (event.key === 'Enter' || event.key === ' ') {
                      event.preventDefault();
                      void open(run.id);
                    }
                  }}
                >
                  <td className="numeric">{when(run.startedAtMs)}</td>
                  <td>
                    {run.scenario}
                    {(run.notes?.length ?? 0) > 0 && (
                      <div className="dim run-note" title={run.notes?.map((note) => note.text).join('\n')}>
                        ✎ {run.notes?.at(-1)?.text}
                        {run.notes?.flatMap((note) => note.tags).map((tag) => ` #${tag}`)}
                      </div>
                    )}
                  </td>
                  <td>{run.rig}</td>
                  <td className="verdict">{run.status}</td>
                  <td className="numeric">{number(run.e2eP99Ms)}</td>
                  <td>{run.baseline ? '★ baseline' : ''}</td>
                </tr>
              ))}
              {runs?.length === 0 && (
                <tr>
                  <td colSpan={6} className="dim">
                    No saved runs yet: every run started here or with <code>cvlab run</code> is saved and listed here.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>

        {report && (
          <section className="report" aria-label="report">
            <header className="editor-header">
              <div>
                <h2>
                  {report.run.scenario} on {report.run.rig}{' '}
                  <span className={`badge ${report.run.status === 'passed' ? 'ok' : 'bad'}`}>{report.run.status}</span>
                  {report.run.baseline && <span className="badge">baseline</span>}
                </h2>
                <div className="dim">
                  {report.run.id} · {when(report.run.startedAtMs)} · {formatCount(report.intervals.length)} intervals
                  {report.environment
                    ? ` · ${report.environment.cpuModel} ×${report.environment.cores}, ${report.environment.os} · started from ${describeStartedFrom(report.environment)}`
                    : ''}
                </div>
                <div className="dim">
                  <ScenarioFactsLine scenario={report.scenario} />
                </div>
              </div>
              <div className="editor-actions">
                {(['html', 'json', 'csv'] as const).map((format) => (
                  <button
                    key={format}
                    type="button"
                    onClick={() =>
                      void act(async () => {
                        const exported = await lab.exportReport(report.run.id, format);
                        download(exported.fileName, exported.mimeType, exported.text);
                      })
                    }
                  >
                    Export {format.toUpperCase()}
                  </button>
                ))}
                <button
                  type="button"
                  disabled={report.run.baseline}
                  onClick={() =>
                    void act(async () => {
                      await lab.markBaseline(report.run.id);
                      refresh();
                      await open(report.run.id);
                    })
                  }
                >
                  Mark baseline
                </button>
                <span className="compare-picker">
                  <label htmlFor="compare-with">Compare with</label>
                  <select id="compare-with" value={compareWith} onChange={(event) => setCompareWith(event.target.value)}>
                    <option value="">its baseline</option>
                    {(runs ?? [])
                      .filter((run) => run.id !== report.run.id)
                      // The same rig and scenario first: those compare fairly.
                      .sort(
                        (a, b) =>
                          Number(b.rig === report.run.rig && b.scenario === report.run.scenario) -
                            Number(a.rig === report.run.rig && a.scenario === report.run.scenario) ||
                          b.startedAtMs - a.startedAtMs,
                      )
                      .map((run) => (
                        <option key={run.id} value={run.id}>
                          {when(run.startedAtMs)} {run.scenario} on {run.rig} · {run.status}
                          {run.baseline ? ' ★' : ''}
                        </option>
                      ))}
                  </select>
                  <button
                    type="button"
                    className="primary"
                    disabled={report.run.baseline && compareWith === ''}
                    title={report.run.baseline && compareWith === '' ? 'This run is the baseline: pick another run to compare it with' : undefined}
                    onClick={() =>
                      void act(async () => {
                        setNoBaseline(false);
                        try {
                          setComparison(await lab.compareReports(report.run.id, compareWith === '' ? null : compareWith));
                        } catch (error) {
                          // No baseline yet: offer the button here rather than a command to type.
                          if (/No baseline is marked/.test(messageOf(error))) setNoBaseline(true);
                          else throw error;
                        }
                      })
                    }
                  >
                    Compare
                  </button>
                </span>
              </div>
            </header>

            {report.run.status === 'running' && (
              <div className="notice warn" data-testid="report-running">
                This run has not ended yet, or its end is still being saved: its summary, stages and thresholds appear
                when it has.{' '}
                <button type="button" className="button-small" onClick={() => void open(report.run.id)}>
                  Reload this report
                </button>
              </div>
            )}
            {noBaseline && (
              <div className="notice warn" data-testid="no-baseline">
                No run is marked as the baseline of {report.run.scenario} on {report.run.rig} yet.{' '}
                <button
                  type="button"
                  className="button-small"
                  onClick={() =>
                    void act(async () => {
                      await lab.markBaseline(report.run.id);
                      setNoBaseline(false);
                      refresh();
                      await open(report.run.id);
                    })
                  }
                >
                  Mark this run as the baseline
                </button>
              </div>
            )}

            <Notebook lab={lab} runId={report.run.id} notes={report.run.notes} onAdded={() => void open(report.run.id).then(refresh)} />
            {comparison && <ComparisonView comparison={comparison} />}

            <div className="summary-grid report-grid">
              <StageTable
                rows={[...report.summary.stages]
                  .sort((a, b) => stageRank(a.stage) - stageRank(b.stage))
                  .map((stage) => ({
                    stage: stage.stage,
                    values: [
                      number(Math.min(stage.p50, stage.max)),
                      number(Math.min(stage.p95, stage.max)),
                      number(Math.min(stage.p99, stage.max)),
                      number(Math.min(stage.p999, stage.max)),
                      number(stage.max),
                    ],
                    count: stage.count,
                  }))}
              />
              <table className="data-table">
                <caption>Thresholds</caption>
                <tbody>
                  {report.thresholds.map((threshold) => (
                    <tr key={threshold.key} className={threshold.passed ? 'ok' : 'bad'}>
                      <td>
                        <code>{threshold.key}</code> <code>{threshold.expression}</code>
                      </td>
                      <td className="numeric">
                        {threshold.unit === 'ratio'
                          ? formatPercent(threshold.actual)
                          : threshold.unit === 'count'
                            ? formatCount(threshold.actual)
                            : `${number(threshold.actual)} ${threshold.unit}`}
                      </td>
                      <td className="verdict">{threshold.passed ? 'PASS' : 'FAIL'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {trend && trend.length > 0 && (
                <table className="data-table">
                  <caption>Trend: e2e p99 of the last {trend.length} runs, newest first</caption>
                  <thead>
                    <tr>
                      <th>started</th>
                      <th className="numeric">ms</th>
                      <th />
                      <th />
                      <th aria-label="notes marked" />
                    </tr>
                  </thead>
                  <tbody>
                    {trend.map((point) => (
                      <tr key={point.runId} className={point.runId === report.run.id ? 'selected' : ''}>
                        <td className="numeric">{when(point.startedAtMs)}</td>
                        <td className="numeric">{number(point.valueMs)}</td>
                        <td className="bar-cell">
                          <span
                            className="bar"
                            style={{
                              width: `${Math.min(100, ((point.valueMs ?? 0) / Math.max(...trend.map((entry) => entry.valueMs ?? 0), 1e-9)) * 100)}%`,
                            }}
                          />
                        </td>
                        <td>{point.baseline ? '★' : ''}</td>
                        <td>
                          {point.notes?.length ? (
                            <span
                              className="trend-note-mark"
                              title={point.notes.map((note) => note.text).join('\n')}
                              data-testid="trend-note-mark"
                            >
                              ✎
                            </span>
                          ) : null}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                  {trend.some((point) => point.notes?.length) && (
                    <tfoot>
                      <tr>
                        <td colSpan={5}>
                          <div className="label">what changed (✎ in the trend)</div>
                          <NoteList
                            notes={trend.flatMap((point) => point.notes ?? [])}
                            label="notes in the trend"
                          />
                        </td>
                      </tr>
                    </tfoot>
                  )}
                </table>
              )}
            </div>
            <InstancesSection view={runKindOf(report.summary.raw)} />
            <FanoutSection view={runKindOf(report.summary.raw)} />
            {isBlackBox(report.summary.raw?.['blackBox']) && <BlackBoxSection blackBox={report.summary.raw['blackBox']} />}
            {isChatToCv(report.summary.raw?.['chatToCv']) && (
              <CvDecompositionOfSummary
                chatToCv={report.summary.raw['chatToCv']}
                stages={(report.summary.raw['stages'] ?? {}) as Readonly<Record<string, StageStatistics>>}
                blackBox={isBlackBox(report.summary.raw['blackBox'])}
              />
            )}
          </section>
        )}
      </div>
      {page === 'reports' && (
        <LoopbackResults
          lab={lab}
          openedRunId={report?.run.id ?? null}
          refreshKey={runs}
          onAttached={() => {
            if (report) void open(report.run.id);
          }}
        />
      )}
    </div>
  );
}
