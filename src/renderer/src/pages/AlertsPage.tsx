import type { AlertEvent } from '../../../shared/alerts';
import { formatAlertValue } from '../format/alert-metric';
import { formatDateTime, formatDuration, formatTimeOfDay } from '../format/format';
import { useSession } from '../session';

/** The run an alert belongs to: named on the event, else the id prefix of its alert id (the run id). */
function runIdOf(event: AlertEvent): string {
  return event.run?.id ?? event.alertId.replace(/-\d+$/, '');
}

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
      <p className="dim" data-testid="alerts-vs-thresholds">
        Alerts and thresholds judge different things. An alert rule watches each 100 ms interval and fires when its
        condition holds for a while (the default: e2e p99 over 10 ms for 1 s). A scenario&apos;s threshold judges the
        whole run once, at its end, from every message merged. So a run can fail <code>e2e.p99 &lt; 10ms</code> from a
        few slow moments that never lasted long enough to fire an alert; give the scenario its own{' '}
        <code>alerts</code> rules to watch it more tightly.
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
                <th>run</th>
                <th>state</th>
                <th>rule and its condition</th>
                <th className="numeric">value fired → resolved</th>
                <th className="numeric">fired</th>
                <th className="numeric">lasted</th>
              </tr>
            </thead>
            <tbody>
              {alerts.map(({ alertId, firing, resolved }) => (
                <tr key={alertId} className={resolved ? '' : 'bad'} data-alert-state={resolved ? 'resolved' : 'firing'}>
                  <td title={runIdOf(firing)}>
                    {firing.run?.scenario ?? '–'}
                    <div className="dim alert-run-id">{runIdOf(firing)}</div>
                  </td>
                  <td className="verdict">
                    {resolved ? 'resolved' : 'FIRING'}
                    <div className="dim">{firing.severity}</div>
                  </td>
                  <td className="alert-rule">
                    {firing.ruleName}
                    <div className="alert-condition">
                      <code>
                        {firing.metric} {firing.comparison} {formatAlertValue(firing.metric, firing.threshold, true)}
                      </code>
                    </div>
                  </td>
                  <td className="numeric alert-value">
                    {formatAlertValue(firing.metric, firing.value)} →{' '}
                    {resolved
                      ? resolved.value === undefined
                        ? 'no reading in that interval'
                        : formatAlertValue(firing.metric, resolved.value)
                      : 'firing'}
                  </td>
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
