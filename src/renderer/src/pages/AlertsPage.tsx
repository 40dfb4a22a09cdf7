import { useSession } from '../session';

/** Alerts: what the engine raised during this session, newest first. */
export function AlertsPage(): React.JSX.Element {
  const { alerts } = useSession();
  return (
    <div className="page page-alerts">
      <h2>Alerts</h2>
      {alerts.length === 0 ? (
        <p className="dim">No alerts in this session.</p>
      ) : (
        <table className="data-table wide">
          <thead>
            <tr>
              <th>state</th>
              <th>severity</th>
              <th>rule</th>
              <th>condition</th>
              <th>value</th>
              <th>fired</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((alert) => (
              <tr key={`${alert.alertId}-${alert.kind}`} className={alert.kind === 'firing' ? 'bad' : 'ok'}>
                <td>{alert.kind}</td>
                <td>{alert.severity}</td>
                <td>{alert.ruleName}</td>
                <td>
                  <code>
                    {alert.metric} {alert.comparison} {alert.threshold}
                  </code>
                </td>
                <td className="numeric">{alert.value ?? '–'}</td>
                <td className="numeric">{(alert.firedAtMs / 1000).toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
