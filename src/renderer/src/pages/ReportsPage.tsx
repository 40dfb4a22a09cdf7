/** Reports: saved runs, export, baselines, comparison and trend. Its content arrives with the report work. */
export function ReportsPage(): React.JSX.Element {
  return (
    <div className="page page-placeholder">
      <h2>Reports</h2>
      <p className="lead">Every bench session is saved as a report: open one, export it as self-contained HTML, JSON or CSV, mark a baseline and compare later runs against it.</p>
      <p className="dim">This console does not list saved reports yet; the summary of the last run is on the Run page.</p>
    </div>
  );
}
