import { layoutDistributionStrip } from '../../../shared/distribution-strip';
import { comparisonRowTone, wholeRunDriver } from '../../../shared/comparison-words';
import { formatChange, formatFigure, formatRatioAsPercent } from '../../../shared/format-figures';
import type { PercentileComparisonRow, RunComparison } from '../../../shared/report';
import { formatCount } from '../format/format';
import { Term } from './Term';
import { NoteList } from './Notebook';

/** Percentiles spelled one way everywhere. */
const percentileName = (percentile: string): string => (percentile === 'p999' ? 'p99.9' : percentile);
/** The rows a technician reads first; the rest are folded. */
const KEY_ROWS = new Set(['e2e p50', 'e2e p99', 'e2e p999', 'e2e max', 'tap p99']);

/** Cliff's delta in words (Romano et al.'s thresholds). */
function effectSize(delta: number): string {
  const size = Math.abs(delta);
  return size < 0.147 ? 'negligible' : size < 0.33 ? 'small' : size < 0.474 ? 'medium' : 'large';
}

/** A change only where both figures print apart; else the percentage would claim what the digits do not show. */
function changeCell(row: { baselineMs: number | null; candidateMs: number | null; change: number | null }): string {
  if (row.baselineMs !== null && row.candidateMs !== null && formatFigure(row.baselineMs) === formatFigure(row.candidateMs)) return '±0\u00a0%';
  return formatChange(row.change);
}

function ComparisonRows({ rows, comparison }: { rows: readonly PercentileComparisonRow[]; comparison: RunComparison }): React.JSX.Element {
  const tested = comparison.test.metric;
  const driver = comparison.verdict === 'regressed' || comparison.verdict === 'improved' ? null : wholeRunDriver(comparison.reading);
  return (
    <>
      {rows.map((row) => (
        <tr key={`${row.stage}-${row.percentile}`} className={comparisonRowTone(row.change, comparison.verdict)} data-testid={`${row.stage}.${row.percentile}` === tested ? 'whole-run-row' : undefined}>
          <td>
            {row.stage} {percentileName(row.percentile)}
            {`${row.stage}.${row.percentile}` === tested && (
              <>
                {' '}
                <Term name="whole run">(whole run)</Term>
                {driver && (
                  <div className="dim row-note" data-testid="whole-run-driver">
                    {driver}; the verdict is about the typical interval
                  </div>
                )}
              </>
            )}
          </td>
          <td className="numeric">{formatFigure(row.baselineMs)}</td>
          <td className="numeric">{formatFigure(row.candidateMs)}</td>
          <td className="numeric">{changeCell(row)}</td>
        </tr>
      ))}
    </>
  );
}

/** The two runs' per-interval figures on one axis: box p25–p75, whiskers min–p95, dots the slowest intervals. */
export function DistributionStrip({ comparison }: { comparison: RunComparison }): React.JSX.Element | null {
  const distributions = comparison.distributions;
  if (!distributions) return null;
  const layout = layoutDistributionStrip([
    { label: comparison.baseline.baseline ? 'baseline' : 'other run', distribution: distributions.baseline },
    { label: 'this run', distribution: distributions.candidate },
  ]);
  const metric = comparison.test.metric.replace('.', ' ');
  return (
    <figure className="distribution-strip" data-testid="distribution-strip">
      <svg
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="img"
        aria-label={`per-interval ${metric} of both runs, in ms`}
      >
        {layout.ticks.map((tick) => (
          <g key={tick.label}>
            <line x1={tick.x} x2={tick.x} y1={4} y2={layout.height - 18} className="strip-grid" />
            <text x={tick.x} y={layout.height - 6} textAnchor="middle" className="strip-tick">
              {tick.label}
            </text>
          </g>
        ))}
        {layout.rows.map((row, index) => (
          <g key={row.label} className={index === 0 ? 'strip-other' : 'strip-this'}>
            <text x={4} y={row.y + 4} className="strip-label">
              {row.label}
            </text>
            <line x1={row.whisker[0]} x2={row.whisker[1]} y1={row.y} y2={row.y} className="strip-whisker" />
            <rect x={row.box[0]} y={row.y - 7} width={Math.max(1, row.box[1] - row.box[0])} height={14} className="strip-box" />
            <line x1={row.median} x2={row.median} y1={row.y - 9} y2={row.y + 9} className="strip-median" />
            {row.dots.map((dot, dotIndex) => (
              <circle key={dotIndex} cx={dot} cy={row.y} r={2.5} className="strip-dot" />
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="dim">
        Per-interval {metric} of each run (ms): box = middle half of the intervals, line in it = the{' '}
        <Term name="typical interval">typical interval</Term>, whiskers = fastest to p95, dots = the slowest intervals.
      </figcaption>
    </figure>
  );
}

/** A comparison of two saved runs that reads as one story: the verdict's figure, why the other moved, the picture. */
export function ComparisonView({ comparison }: { comparison: RunComparison }): React.JSX.Element {
  const { test } = comparison;
  const significant = test.pValue < test.alpha;
  const headline =
    comparison.verdict !== 'unchanged'
      ? comparison.verdict.toUpperCase()
      : significant
        ? 'NO PRACTICAL CHANGE'
        : 'NOT SIGNIFICANT';
  const otherName = `${comparison.baseline.id}${comparison.baseline.baseline ? ' (baseline)' : ''}`;
  return (
    <section className="comparison-block" aria-label="comparison">
      <div className={`comparison ${comparison.verdict === 'regressed' ? 'bad' : comparison.verdict === 'improved' ? 'ok' : ''}`}>
        <div className="comparison-verdict">{headline}</div>
        <div>
          <div data-testid="comparison-reading">{comparison.reading?.sentence ?? comparison.reason}</div>
          <div className="dim">
            <Term name="Mann-Whitney">Mann-Whitney U</Term> on {formatCount(test.samplesBaseline)} vs{' '}
            {formatCount(test.samplesCandidate)} intervals of {test.metric.replace('.', ' ')}: <Term name="p">p</Term> ={' '}
            {test.pValue.toPrecision(2)} ({significant ? '<' : '≥'} α = {test.alpha}), <Term name="Cliff's δ">Cliff&apos;s δ</Term> ={' '}
            {test.cliffsDelta.toFixed(2)} ({effectSize(test.cliffsDelta)}); against {otherName}.
          </div>
        </div>
      </div>
      {((comparison.baseline.notes?.length ?? 0) > 0 || (comparison.candidate.notes?.length ?? 0) > 0) && (
        <div className="comparison-notes" data-testid="comparison-notes">
          <div>
            <strong>What changed</strong> — notes of {otherName}:
            <NoteList notes={comparison.baseline.notes} label="notes of the other run" />
            {(comparison.baseline.notes?.length ?? 0) === 0 && <span className="dim"> none</span>}
          </div>
          <div>
            notes of {comparison.candidate.id}:
            <NoteList notes={comparison.candidate.notes} label="notes of this run" />
            {(comparison.candidate.notes?.length ?? 0) === 0 && <span className="dim"> none</span>}
          </div>
        </div>
      )}
      <DistributionStrip comparison={comparison} />
      {(comparison.differences?.length ?? 0) > 0 && (
        <div className="notice warn" data-testid="comparison-differences">
          These runs were not set up alike, so the comparison may mislead:
          <ul>
            {comparison.differences?.map((difference) =>
              difference.startsWith('executor') ? (
                <li key={difference}>
                  <Term name="executor">executor</Term>
                  {difference.slice('executor'.length)}
                </li>
              ) : (
                <li key={difference}>{difference}</li>
              ),
            )}
          </ul>
        </div>
      )}
      <table className="data-table comparison-table" aria-label="the two runs side by side">
        <caption>Side by side (ms, whole run)</caption>
        <thead>
          <tr>
            <th>figure</th>
            <th className="numeric">{otherName}</th>
            <th className="numeric">{comparison.candidate.id}</th>
            <th className="numeric">change</th>
          </tr>
        </thead>
        <tbody>
          {comparison.reading && (
            <tr className="tested">
              <td>
                {comparison.reading.figure} <Term name="typical interval">(typical interval)</Term>
              </td>
              <td className="numeric">{formatFigure(comparison.reading.typical.baselineMs)}</td>
              <td className="numeric">{formatFigure(comparison.reading.typical.candidateMs)}</td>
              <td className="numeric">{changeCell(comparison.reading.typical)}</td>
            </tr>
          )}
          <ComparisonRows rows={comparison.rows.filter((row) => KEY_ROWS.has(`${row.stage} ${row.percentile}`))} comparison={comparison} />
          {(comparison.totals ?? []).map((row) => (
            <tr key={row.name}>
              <td>{row.name === 'throughput' ? 'throughput (/s)' : 'errors (rate)'}</td>
              <td className="numeric">{row.unit === 'ratio' ? formatRatioAsPercent(row.baseline) : formatFigure(row.baseline)}</td>
              <td className="numeric">{row.unit === 'ratio' ? formatRatioAsPercent(row.candidate) : formatFigure(row.candidate)}</td>
              <td className="numeric">{row.unit === 'ratio' ? formatChange(row.change) : changeCell({ baselineMs: row.baseline, candidateMs: row.candidate, change: row.change })}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <details className="folded-rows">
        <summary>Every stage and percentile (ms)</summary>
        <table className="data-table">
          <tbody>
            <ComparisonRows rows={comparison.rows.filter((row) => !KEY_ROWS.has(`${row.stage} ${row.percentile}`))} comparison={comparison} />
          </tbody>
        </table>
      </details>
    </section>
  );
}
