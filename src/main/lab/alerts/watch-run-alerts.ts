import type { AlertEvent, AlertNotification } from '../../../shared/alerts';
import type { Event } from '../../../shared/emitter';
import type { RunFrame, RunSummary } from '../../../shared/run';
import { alertFrameOf } from './alert-frame-of';
import type { AlertMonitor } from './alert-monitor';

/** The two events of a RunController the alerts need. */
export interface RunEvents {
  readonly onDidRunFrame: Event<RunFrame>;
  readonly onDidFinishRun: Event<RunSummary>;
}

/**
 * Feeds a run's interval frames to an alert monitor and closes it when the run ends (what still
 * fires is resolved then). Resolves with the run's alert log.
 */
export function watchRunAlerts(run: RunEvents, monitor: AlertMonitor, extraCounters?: () => Readonly<Record<string, number>>): { readonly done: Promise<AlertEvent[]>; readonly notifications: AlertNotification[] } {
  const notifications: AlertNotification[] = [];
  let startedAtMs: number | undefined;
  let last: RunFrame | undefined;
  const frames = run.onDidRunFrame((frame) => {
    startedAtMs ??= Date.now() - frame.atMs;
    last = frame;
    notifications.push(...monitor.observe(alertFrameOf(frame, startedAtMs, extraCounters?.())));
  });
  const done = new Promise<AlertEvent[]>((resolve) => {
    const finish = run.onDidFinishRun(() => {
      frames.dispose();
      finish.dispose();
      const at = last && startedAtMs !== undefined ? startedAtMs + last.atMs : Date.now();
      resolve(monitor.finish({ atMs: at }));
    });
  });
  return { done, notifications };
}
