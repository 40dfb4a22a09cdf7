import { formatAlertValue } from '../format/alert-metric';
import { formatDateTime, formatDuration, formatTimeOfDay } from '../format/format';
import { useSession } from '../session';

/** Alerts of the current and last run: one row per alert, its state, when, how long, and the values with units. */
export function AlertsPage(): React.JSX.Element {
  const { alerts } = useSession();
  return (
    <div className="page page-alerts">
      <h2>Alerts</h2>
      <p className="dim">
        The alert rules watch every run from this console; this list holds the current and the last run, and stays
        across a reload. Each run&apos;s report keeps its own alerts.
      </p>
      {alerts.length === 0 ? (
        <p className="dim" data-testid="no-alerts">
          No alert fired in the current or the last run.
        </p>
      ) : (
        <div className="table-scroll">
          <table className="data-table wide" aria-label="alerts">
            <thead>
              <tr>
                <th>state</th>
                <th>severity</th>
                <th>rule</th>
                <th>condition</th>
                <th className="numeric">value when fired</th>
                <th className="numeric">value when resolved</th>
                <th className="numeric">fired</th>
                <th className="numeric">lasted</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map(({ alertId, firing, resolved }) => (
                <tr key={alertId} className={resolved ? '' : 'bad'} data-alert-state={resolved ? 'resolved' : 'firing'}>
                  <td className="verdict">{resolved ? 'resolved' : 'FIRING'}</td>
                  <td>{firing.severity}</td>
                  <td>{firing.ruleName}</td>
                  <td className="nowrap">
                    <code>
                      {firing.metric} {firing.comparison} {formatAlertValue(firing.metric, firing.threshold, true)}
                    </code>
                  </td>
                  <td className="numeric">{formatAlertValue(firing.metric, firing.value)}</td>
                  <td className="numeric">{resolved ? formatAlertValue(firing.metric, resolved.value) : '–'}</td>
                  <td className="numeric" title={formatDateTime(firing.firedAtMs)}>
                    {formatTimeOfDay(firing.firedAtMs)}
                  </td>
                  <td className="numeric">
                    {resolved?.resolvedAtMs !== undefined
                      ? formatDuration(resolved.resolvedAtMs - firing.firedAtMs)
                      : 'still firing'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
