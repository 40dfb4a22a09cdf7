/** One stage's row: p50, p95, p99, p99.9 and max already formatted in ms, and its sample count. */
export interface StageRow {
  stage: string;
  values: readonly [string, string, string, string, string];
  count: number;
}

/** The per-stage percentile table of a run summary or a saved report. */
export function StageTable({ rows }: { rows: readonly StageRow[] }): React.JSX.Element {
  return (
    <table className="data-table">
      <caption>Stages (ms)</caption>
      <thead>
        <tr>
          <th>stage</th>
          <th>p50</th>
          <th>p95</th>
          <th>p99</th>
          <th>p99.9</th>
          <th>max</th>
          <th>samples</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.stage}>
            <td>{row.stage}</td>
            {row.values.map((value, index) => (
              <td key={index} className="numeric">
                {value}
              </td>
            ))}
            <td className="numeric">{row.count.toLocaleString()}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
