import { stageHelp } from '../glossary';
import { formatCount } from '../format/format';

/** One stage's row: p50, p95, p99, p99.9 and max already formatted in ms, and its sample count. */
export interface StageRow {
  stage: string;
  values: readonly [string, string, string, string, string];
  count: number;
}

/** The per-stage percentile table of a run summary or a saved report. */
export function StageTable({ rows }: { rows: readonly StageRow[] }): React.JSX.Element {
  return (
    <table className="data-table stage-table">
      <caption>Stages (ms)</caption>
      <thead>
        <tr>
          <th>stage</th>
          <th className="numeric">p50</th>
          <th className="numeric">p95</th>
          <th className="numeric">p99</th>
          <th className="numeric">p99.9</th>
          <th className="numeric">max</th>
          <th className="numeric">samples</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.stage}>
            <td title={stageHelp(row.stage)} className={stageHelp(row.stage) ? 'has-help' : ''}>
              {row.stage}
            </td>
            {row.values.map((value, index) => (
              <td key={index} className="numeric">
                {value}
              </td>
            ))}
            <td className="numeric">{formatCount(row.count)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
