// Desktop notifications for alerts: Electron main only (the engine never imports electron).
import { Notification } from 'electron';
import type { AlertHandler } from './lab/alerts/alert-handler';
import { formatAlertLine } from './lab/alerts/terminal-alert-handler';

/**
 * The desktop-notification handler: one notification when a group of correlated alerts
 * opens and one when it closes; alerts joining an open group stay quiet (they are on the
 * Alerts page).
 */
export function createNotificationAlertHandler(onClick?: (groupId: string) => void): AlertHandler {
  return {
    name: 'desktop',
    handle(notification) {
      if (!Notification.isSupported()) return;
      if (notification.change !== 'open' && notification.change !== 'close') return;
      const { event, group } = notification;
      const title =
        notification.change === 'open'
          ? `cvlab ${event.severity}: ${event.ruleName}`
          : `cvlab resolved: ${group.ruleIds.length > 1 ? `${group.ruleIds.length} correlated alerts` : event.ruleName}`;
      const desktop = new Notification({ title, body: formatAlertLine(notification), urgency: event.severity === 'critical' ? 'critical' : 'normal' });
      if (onClick) desktop.on('click', () => onClick(group.id));
      desktop.show();
    },
  };
}
