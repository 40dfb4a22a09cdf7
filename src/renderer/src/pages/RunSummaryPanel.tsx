import type { BotResources, RunSummary, ThresholdVerdict } from '../../../shared/run';
import type { ThresholdUnit } from '../../../shared/scenario';
import { describeDegradedIntervals } from '../../../shared/describe-degraded-intervals';
import { StageTable } from '../components/StageTable';
import { Term } from '../components/Term';
import { TERM_GLOSSARY } from '../glossary';
import { BlackBoxSection, stageRow } from '../components/BlackBoxSection';
import { CvDecompositionOfSummary } from '../components/CvDecompositionView';
import { FanoutSection, InstancesSection, runKindOf } from '../components/RunKindSections';
import { formatCount, formatDateTime, formatNsAsMs as ms, formatPercent, formatValue } from '../format/format';

const STAGE_ORDER = ['e2e', 'tap', 'validate', 'limit', 'store', 'encode', 'send', 'slip', 'chatToOsc', 'botReply', 'cv', 'chatToCv', 'oscToCv'] as const;

function inUnit(value: number | undefined, unit: ThresholdUnit): string {
  if (value === undefined) return '–';
  if (unit === 'ns') return `${ms(value)} ms`;
  if (unit === 'ratio') return formatPercent(value);
  if (unit === 'per_second') return `${formatValue(value)} /s`;
  if (unit === 'bytes_per_hour') return `${formatValue(value / 1048576 / 60)} MiB/min`;
  return formatCount(value);
}

/** The bot's own CPU and memory beside the engine's (black-box runs), or why they were not measured. */
function BotHealth({ resources }: { resources: BotResources }): React.JSX.Element {
  const leak = resources.leak;
  const slope = leak?.slopeBytesPerHour ?? resources.rss?.slopeBytesPerHour;
  return (
    <table className="data-table" data-testid="bot-health">
      <caption>Bot</caption>
      <tbody>
        {resources.unavailable !== undefined ? (
          <tr>
            <td>not measured</td>
            <td>{resources.unavailable}</td>
          </tr>
        ) : (
          <>
            <tr>
              <td>CPU mean / max</td>
              <td className="numeric">{resources.cpu ? `${formatValue(resources.cpu.meanPercent)} / ${formatValue(resources.cpu.maxPercent)} %` : '–'}</td>
            </tr>
            <tr>
              <td>RSS start → end (max)</td>
              <td className="numeric">
                {resources.rss ? `${formatValue(resources.rss.startBytes / 1048576)} → ${formatValue(resources.rss.endBytes / 1048576)} (${formatValue(resources.rss.maxBytes / 1048576)}) MiB` : '–'}
              </td>
            </tr>
            {slope !== undefined && (
              <tr className={leak ? (leak.leaking ? 'bad' : 'ok') : undefined}>
                <td>memory slope{leak ? (leak.leaking ? ' — LEAK' : ' — no leak') : ''}</td>
                <td className="numeric">{formatValue(slope / 1048576 / 60)} MiB/min</td>
              </tr>
            )}
            <tr>
              <td>processes</td>
              <td className="numeric">{resources.processes.map((process) => process.name).join(', ')}</td>
            </tr>
          </>
        )}
      </tbody>
    </table>
  );
}

function Verdict({ verdict }: { verdict: ThresholdVerdict }): React.JSX.Element {
  return (
    <tr className={verdict.passed ? 'ok' : 'bad'}>
      <td>
        <code>{verdict.key}</code>
      </td>
      <td>
        <code>{verdict.expression}</code>
      </td>
      <td className="numeric">{inUnit(verdict.actual, verdict.unit)}</td>
      <td className="numeric">{formatCount(verdict.samples)}</td>
      <td className="verdict">{verdict.passed ? 'PASS' : 'FAIL'}</td>
    </tr>
  );
}

/** The end of a run: pass/fail, threshold verdicts, stage percentiles, outcomes by code. */
export function RunSummaryPanel({ summary }: { summary: RunSummary }): React.JSX.Element {
  const codes = Object.entries(summary.outcomes.byCode).sort((a, b) => b[1] - a[1]);
  // Multi-instance and fan-out runs carry their own stages and tables beside the merged figures.
  const kind = runKindOf(summary);
  return (
    <section className="summary" aria-label="run summary">
      <h3 className="summary-title" data-testid="summary-title">
        Result of the last run: {summary.run.scenario}{' '}
        <span className="dim">
          ({summary.run.id}, ended {formatDateTime(Date.parse(summary.endedAt))})
        </span>
      </h3>
      <header className="summary-header">
        <div className={`summary-verdict ${summary.passed ? 'ok' : 'bad'}`} data-testid="run-verdict">
          {summary.passed ? 'PASSED' : 'FAILED'}
        </div>
        <div className="summary-facts">
          <div>
            <span className="label">last run</span> <code>{summary.run.id}</code> ·{' '}
            <span className="label">scenario</span> {summary.run.scenario} · <span className="label">rig</span>{' '}
            {summary.run.rig} · <span className="label">seed</span> <code>{summary.run.seed}</code>
          </div>
          <div>
            <span className="label">ended</span>{' '}
            {summary.stopReason === 'aborted' ? (
              <span className="term" title={`Aborted on fail: ${TERM_GLOSSARY['abort grace']}`}>
                aborted
              </span>
            ) : (
              summary.stopReason
            )}
            {summary.reason ? ` — ${summary.reason}` : ''} after {(summary.elapsedMs / 1000).toFixed(1)} s ·{' '}
            {formatCount(summary.sent)} sent · {formatCount(summary.completed)} completed ·{' '}
            {formatValue(summary.throughput)} /s
            {summary.unaccounted > 0 ? ` · ${formatCount(summary.unaccounted)} unaccounted` : ''}
          </div>
          {summary.run.replay && (
            <div data-testid="replay-facts">
              <span className="label">replayed</span> <code>{summary.run.replay.log.fileName}</code> (sha256{' '}
              <code title={summary.run.replay.log.sha256}>{summary.run.replay.log.sha256.slice(0, 12)}…</code>) at speed{' '}
              {summary.run.replay.speed}: {formatCount(summary.sent)} of {formatCount(summary.run.plannedMessages)} recorded lines played,{' '}
              {summary.blackBox ? 'the bot acted on' : 'the rig accepted'} {formatCount(summary.outcomes.accepted)}
            </div>
          )}
        </div>
      </header>
      <div className="summary-grid">
        <table className="data-table">
          <caption>Thresholds</caption>
          <thead>
            <tr>
              <th>metric</th>
              <th>limit</th>
              <th>measured</th>
              <th>samples</th>
              <th>verdict</th>
            </tr>
          </thead>
          <tbody>
            {summary.thresholds.map((verdict) => (
              <Verdict key={verdict.key} verdict={verdict} />
            ))}
            {summary.thresholds.length === 0 && (
              <tr>
                <td colSpan={5} className="dim">
                  This scenario sets no thresholds.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        <StageTable
          rows={[
            ...STAGE_ORDER.flatMap((stage) => stageRow(stage, summary.stages[stage])),
            ...stageRow('propagation', kind.propagation),
            ...stageRow('fan-out', kind.fanout?.latency),
          ]}
        />
        <table className="data-table">
          <caption>Outcomes (messages)</caption>
          <tbody>
            <tr className="ok">
              <td>accepted</td>
              <td className="numeric">{formatCount(summary.outcomes.accepted)}</td>
            </tr>
            {codes.map(([code, count]) => (
              <tr key={code}>
                <td>{code}</td>
                <td className="numeric">{formatCount(count)}</td>
              </tr>
            ))}
            <tr>
              <td>
                <Term name="late">late</Term> (<Term name="slip">slip</Term> &gt; {ms(summary.slip.toleranceNs)} ms)
              </td>
              <td className="numeric">{formatCount(summary.slip.late)}</td>
            </tr>
          </tbody>
        </table>
        <table className="data-table">
          <caption>Engine</caption>
          <tbody>
            <tr>
              <td>CPU mean / max</td>
              <td className="numeric">
                {formatValue(summary.resources.cpuPercentMean)} / {formatValue(summary.resources.cpuPercentMax)} %
              </td>
            </tr>
            <tr>
              <td>event-loop delay p99 / max</td>
              <td className="numeric">
                {ms(summary.resources.eventLoopDelayP99)} / {ms(summary.resources.eventLoopDelayMax)} ms
              </td>
            </tr>
            <tr>
              <td>heap max</td>
              <td className="numeric">{formatValue(summary.resources.heapMaxBytes / 1048576)} MiB</td>
            </tr>
            <tr>
              <td>
                <Term name="limiter fallbacks">limiter fallbacks</Term>
              </td>
              <td className="numeric">{formatCount(summary.pipeline.limiterFallbacks)}</td>
            </tr>
            {summary.degradedIntervals && summary.degradedIntervals.length > 0 && (
              <tr data-testid="degraded-intervals">
                <td>Redis degraded</td>
                <td className="numeric">{describeDegradedIntervals(summary.degradedIntervals)}</td>
              </tr>
            )}
            {summary.capacity && (
              <tr>
                <td>capacity knee</td>
                <td className="numeric">
                  {summary.capacity.knee !== undefined ? `${formatCount(summary.capacity.knee)} /s` : 'none'}
                </td>
              </tr>
            )}
            {summary.leak && (
              <tr className={summary.leak.leaking ? 'bad' : 'ok'}>
                <td>heap slope</td>
                <td className="numeric">{(summary.leak.slopeBytesPerHour / 1048576).toFixed(1)} MiB/h</td>
              </tr>
            )}
          </tbody>
        </table>
        {summary.blackBox?.resources && <BotHealth resources={summary.blackBox.resources} />}
      </div>
      <InstancesSection view={kind} />
      <FanoutSection view={kind} />
      {summary.blackBox && <BlackBoxSection blackBox={summary.blackBox} />}
      {summary.chatToCv && <CvDecompositionOfSummary chatToCv={summary.chatToCv} stages={summary.stages} blackBox={summary.blackBox !== undefined} />}
    </section>
  );
}
