import { useEffect, useState } from 'react';
import type { LabFile } from '../../../shared/api';
import type { ChatLogStats } from '../../../shared/chat-log';
import { formatCount, formatDuration, formatPercent, formatValue } from '../format/format';
import { messageOf, useSession } from '../session';

const TIMELINE_WIDTH = 480;
const TIMELINE_HEIGHT = 64;

/** The replay executor of a draft, when it is one. */
function replayOf(draft: unknown): { file?: unknown; from?: unknown; to?: unknown } | undefined {
  const executor = (draft as { executor?: { type?: unknown } } | null)?.executor;
  return executor?.type === 'replay' ? (executor as { file?: unknown }) : undefined;
}

/** Offsets as a scenario writes them ("3m", "90s", 1500) in ms; undefined when absent or unreadable. */
function offsetMs(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/i.exec(value);
  if (!match) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's').toLowerCase()] ?? 1;
  return Number(match[1]) * unit;
}

/** The log's rate over its span, the replay's window shaded. */
function RateTimeline({ stats, fromMs, toMs }: { stats: ChatLogStats; fromMs?: number | undefined; toMs?: number | undefined }): React.JSX.Element {
  const { counts, bucketMs } = stats.timeline;
  const peak = Math.max(1, ...counts);
  const step = TIMELINE_WIDTH / Math.max(1, counts.length);
  const points = counts.map((count, index) => `${(index * step + step / 2).toFixed(1)},${(TIMELINE_HEIGHT - 2 - (count / peak) * (TIMELINE_HEIGHT - 6)).toFixed(1)}`).join(' ');
  const total = counts.length * bucketMs;
  const x = (ms: number): number => Math.max(0, Math.min(TIMELINE_WIDTH, (ms / total) * TIMELINE_WIDTH));
  const windowed = fromMs !== undefined || toMs !== undefined;
  return (
    <svg
      className="chat-log-timeline"
      data-testid="chat-log-timeline"
      viewBox={`0 0 ${TIMELINE_WIDTH} ${TIMELINE_HEIGHT}`}
      role="img"
      aria-label={`messages per ${formatValue(bucketMs / 1000)} s over ${formatDuration(stats.spanMs)}, at most ${formatCount(peak)}`}
    >
      {windowed && <rect className="window" x={x(fromMs ?? 0)} y={0} width={x(toMs ?? total) - x(fromMs ?? 0)} height={TIMELINE_HEIGHT} />}
      <polyline points={points} />
    </svg>
  );
}

/**
 * The Scenarios page's chat logs: the shipped samples and the user's own (the data folder's
 * chat/). Choosing one makes the scenario a replay of it; the replay's log shows what is in
 * it — as the rig's grammar reads it — and a small timeline of its rate.
 */
export function ChatLogPanel({ draft, onChange }: { draft: unknown; onChange: (draft: unknown) => void }): React.JSX.Element {
  const { lab, rig } = useSession();
  const [logs, setLogs] = useState<LabFile[]>([]);
  const [listProblem, setListProblem] = useState<string | null>(null);
  // What was read, and for which log and rig: a reading of another choice is never shown.
  const [read, setRead] = useState<{ key: string; stats?: ChatLogStats; problem?: string } | null>(null);
  const replay = replayOf(draft);
  const file = typeof replay?.file === 'string' ? replay.file : undefined;
  const chosen = logs.find((log) => log.name === file || log.path === file);
  const chosenPath = chosen?.path;
  // The rig judges the lines: another rig, other figures.
  const key = `${chosenPath ?? ''}\n${rig?.rig.name ?? ''}`;

  useEffect(() => {
    lab.listChatLogs().then(setLogs, (error: unknown) => setListProblem(messageOf(error)));
  }, [lab]);

  useEffect(() => {
    if (!chosenPath) return;
    let cancelled = false;
    lab.chatLogStats(chosenPath).then(
      (stats) => !cancelled && setRead({ key, stats }),
      (error: unknown) => !cancelled && setRead({ key, problem: messageOf(error) }),
    );
    return () => {
      cancelled = true;
    };
  }, [lab, chosenPath, key]);

  const current = chosenPath && read?.key === key ? read : null;
  const stats = current?.stats ?? null;
  const problem = listProblem ?? current?.problem ?? null;

  const choose = (name: string): void => {
    const base = (draft ?? {}) as Record<string, unknown>;
    const kept = replay ? (base['executor'] as Record<string, unknown>) : { type: 'replay', speed: 1 };
    onChange({ ...base, executor: { ...kept, file: name } });
  };

  const rejected = stats ? Object.entries(stats.rejectedByCode).sort((a, b) => b[1] - a[1]) : [];
  return (
    <section className="chat-log-panel" aria-label="chat log to replay">
      <label className="chat-log-choice">
        <span className="label">replay a chat log</span>
        <select aria-label="chat log" value={chosen?.name ?? ''} onChange={(event) => event.target.value && choose(event.target.value)}>
          <option value="">{replay ? (file ? `${file} (not in the chat folders)` : 'choose a log…') : 'not a replay — choose a log to replay it'}</option>
          {logs.map((log) => (
            <option key={log.path} value={log.name}>
              {log.name} {log.builtIn ? '(shipped sample)' : '(yours)'}
            </option>
          ))}
        </select>
      </label>
      {problem && <div className="notice bad">{problem}</div>}
      {replay && chosen && !stats && !problem && <div className="dim">reading {chosen.name}…</div>}
      {stats && (
        <div className="chat-log-stats" data-testid="chat-log-stats">
          <div>
            <code>{stats.fileName}</code> · {stats.format} · {formatCount(stats.messages)} messages over {formatDuration(stats.spanMs)} ·{' '}
            {formatCount(stats.viewers)} viewers · sha256 <code title={stats.sha256}>{stats.sha256.slice(0, 12)}…</code>
          </div>
          <div>
            <span className="label">rate</span> mean {formatValue(stats.meanPerSecond)} /s · peak {formatCount(stats.peak1s)} in 1 s,{' '}
            {formatCount(stats.peak10s)} in 10 s
            {stats.longestBurst &&
              ` · longest burst ${formatDuration(stats.longestBurst.durationMs)} from ${formatDuration(stats.longestBurst.startMs)} (${formatCount(stats.longestBurst.messages)} messages)`}
          </div>
          <div>
            <span className="label">rig {stats.rig}</span> accepts {formatCount(stats.accepted)} ({formatPercent(stats.acceptedShare)})
            {rejected.length > 0 && ` · rejects ${rejected.map(([code, count]) => `${code} ${formatCount(count)}`).join(', ')}`}
          </div>
          {stats.topVariables.length > 0 && (
            <div>
              <span className="label">sets most</span> {stats.topVariables.map((variable) => `${variable.name} ${formatCount(variable.count)}`).join(', ')}
            </div>
          )}
          {stats.damaged > 0 && (
            <div className="warn-text">
              {formatCount(stats.damaged)} damaged lines skipped
              {stats.damagedLines[0] && ` (first: line ${stats.damagedLines[0].line}, ${stats.damagedLines[0].reason})`}
            </div>
          )}
          <RateTimeline stats={stats} fromMs={offsetMs(replay?.from)} toMs={offsetMs(replay?.to)} />
        </div>
      )}
    </section>
  );
}
