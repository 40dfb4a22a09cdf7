import { useCallback, useEffect, useState } from 'react';
import type { RunComparison, RunListEntry, RunReport, TrendPoint } from '../../../shared/report';
import { messageOf, useSession } from '../session';
import { StageTable } from '../components/StageTable';

const number = (value: number | null | undefined, digits = 2): string =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
/** "2026-11-26 19:10:59": sortable, 24-hour, the same on every bench. */
const when = (ms: number): string => new Date(ms).toLocaleString('sv-SE');

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

  const refresh = useCallback(() => {
    lab.listReports({ limit: 200 }).then(setRuns, (error: unknown) => setMessage(messageOf(error)));
  }, [lab]);

  // The list follows the page being shown and each finished run.
  useEffect(() => {
    if (page === 'reports') refresh();
  }, [page, refresh, summary]);

  const open = async (id: string): Promise<void> => {
    setSelected(id);
    setComparison(null);
    setMessage(null);
    try {
      const opened = await lab.openReport(id);
      setReport(opened);
      setTrend(
        await lab.reportTrend({
          rig: opened.run.rig,
          scenario: opened.run.scenario,
          stage: 'e2e',
          percentile: 'p99',
          limit: 20,
        }),
      );
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
      <div className="reports-layout">
        <div className="run-list">
          <table className="data-table" aria-label="saved runs">
            <thead>
              <tr>
                <th>started</th>
                <th>scenario</th>
                <th>rig</th>
                <th>status</th>
                <th>e2e p99 ms</th>
                <th aria-label="baseline" />
              </tr>
            </thead>
            <tbody>
              {(runs ?? []).map((run) => (
                <tr
                  key={run.id}
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
                  <td>{run.scenario}</td>
                  <td>{run.rig}</td>
                  <td className="verdict">{run.status}</td>
                  <td className="numeric">{number(run.e2eP99Ms)}</td>
                  <td>{run.baseline ? '★ baseline' : ''}</td>
                </tr>
              ))}
              {runs?.length === 0 && (
                <tr>
                  <td colSpan={6} className="dim">
                    No saved runs yet: every run started here or with `cvlab run` is saved.
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
                  {report.run.id} · {when(report.run.startedAtMs)} · {report.intervals.length} intervals
                  {report.environment
                    ? ` · ${report.environment.cpuModel} ×${report.environment.cores}, ${report.environment.os}`
                    : ''}
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
                <button
                  type="button"
                  className="primary"
                  onClick={() => void act(async () => setComparison(await lab.compareReports(report.run.id, null)))}
                >
                  Compare with baseline
                </button>
              </div>
            </header>

            {comparison && (
              <div
                className={`comparison ${comparison.verdict === 'regressed' ? 'bad' : comparison.verdict === 'improved' ? 'ok' : ''}`}
                aria-label="comparison"
              >
                <div className="comparison-verdict">{comparison.verdict.toUpperCase()}</div>
                <div>
                  <div>{comparison.reason}</div>
                  <div className="dim">
                    {comparison.test.method} on {comparison.test.metric}: p = {comparison.test.pValue.toPrecision(3)},
                    Cliff&apos;s δ = {comparison.test.cliffsDelta.toFixed(3)}, median ×
                    {comparison.test.medianRatio.toFixed(3)} ({comparison.test.samplesBaseline} vs{' '}
                    {comparison.test.samplesCandidate} intervals) against {comparison.baseline.id}
                  </div>
                </div>
              </div>
            )}

            <div className="summary-grid report-grid">
              <StageTable
                rows={report.summary.stages.map((stage) => ({
                  stage: stage.stage,
                  values: [
                    number(stage.p50, 3),
                    number(stage.p95, 3),
                    number(stage.p99, 3),
                    number(stage.p999, 3),
                    number(stage.max, 3),
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
                        {number(threshold.actual, 3)} {threshold.unit}
                      </td>
                      <td className="verdict">{threshold.passed ? 'PASS' : 'FAIL'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {comparison && (
                <table className="data-table">
                  <caption>Against the baseline (ms)</caption>
                  <thead>
                    <tr>
                      <th>stage</th>
                      <th>pct</th>
                      <th>baseline</th>
                      <th>this run</th>
                      <th>change</th>
                    </tr>
                  </thead>
                  <tbody>
                    {comparison.rows.map((row) => (
                      <tr
                        key={`${row.stage}-${row.percentile}`}
                        className={row.change !== null && row.change > 0.05 ? 'bad' : ''}
                      >
                        <td>{row.stage}</td>
                        <td>{row.percentile}</td>
                        <td className="numeric">{number(row.baselineMs, 3)}</td>
                        <td className="numeric">{number(row.candidateMs, 3)}</td>
                        <td className="numeric">
                          {row.change === null
                            ? '–'
                            : `${row.change >= 0 ? '+' : ''}${(row.change * 100).toFixed(1)} %`}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {trend && trend.length > 0 && (
                <table className="data-table">
                  <caption>Trend: e2e p99 of the last {trend.length} runs (ms)</caption>
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
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </section>
        )}
      </div>
    </div>
  );
}
