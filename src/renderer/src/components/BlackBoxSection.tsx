import type { BlackBoxSummary, StageStatistics } from '../../../shared/run';
import { formatCount, formatNsAsMs as ms, formatPercent } from '../format/format';
import { StageTable, type StageRow } from './StageTable';

/** A stage's row, percentiles capped at the exact max (HDR percentiles are bucket edges). */
export function stageRow(stage: string, statistics: StageStatistics | undefined): StageRow[] {
  if (!statistics || statistics.count === 0) return [];
  const { p50, p95, p99, p999, max, count } = statistics;
  const capped = (ns: number): string => ms(Math.min(ns, max));
  return [{ stage, values: [capped(p50), capped(p95), capped(p99), capped(p999), ms(max)], count }];
}

/** A saved summary's black-box part, as stored (a run of cvlab's own pipeline has none). */
export function isBlackBox(value: unknown): value is BlackBoxSummary {
  const candidate = value as Partial<BlackBoxSummary> | null | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.chatSent === 'number' && typeof candidate.bot === 'object' && typeof candidate.missing === 'object';
}

/** How the bot ended, in words: still running, its exit code, or the signal that ended it. */
export function describeExit(exitCode: number | null | undefined, signal: string | null | undefined, started: boolean): string {
  if (!started) return 'started elsewhere (not by cvlab)';
  if (signal) return `ended by ${signal}`;
  if (exitCode === null || exitCode === undefined) return 'running';
  return `exit code ${exitCode}`;
}

function Row({ label, value, title, tone }: { label: string; value: string; title?: string; tone?: 'ok' | 'bad' }): React.JSX.Element {
  return (
    <tr className={tone ?? ''}>
      <td title={title} className={title ? 'has-help' : ''}>
        {label}
      </td>
      <td className="numeric">{value}</td>
    </tr>
  );
}

/**
 * The black-box part of a run's end, on the Run page and in the Reports page: how many chat
 * messages the bot's OSC was matched to (and how), the messages with no OSC split by what the
 * rig's own model says of them, the chat → OSC and reply stages, and how the bot ended.
 */
export function BlackBoxSection({ blackBox }: { blackBox: BlackBoxSummary }): React.JSX.Element {
  const decided = blackBox.matched + blackBox.missing.rejectedByModel + blackBox.missing.acceptedButSilent;
  const bot = blackBox.bot;
  const stdout = bot.stdoutTail.trimEnd().split('\n').slice(-12).join('\n');
  const stderr = bot.stderrTail.trimEnd().split('\n').slice(-12).join('\n');
  return (
    <section className="black-box-section" aria-label="black box" data-testid="black-box-section">
      <h3>
        Your bot <span className="dim">· black box</span>
      </h3>
      <div className="black-box-facts dim">
        {bot.command ? (
          <>
            started <code>{bot.command}</code>
          </>
        ) : (
          'started elsewhere'
        )}
        {bot.version && <> · {bot.version}</>} · {bot.nick ?? 'no nick'} over {bot.transport === 'tcp' ? 'IRC over TCP' : 'IRC over WebSocket'} · chat{' '}
        <code>
          {blackBox.endpoint.chatHost}:{blackBox.endpoint.chatPort}
        </code>{' '}
        {blackBox.endpoint.channel} · OSC caught on{' '}
        <code>
          {blackBox.endpoint.oscHost}:{blackBox.endpoint.oscPort}
        </code>
        {blackBox.endpoint.forward ? (
          <>
            {' '}
            → forwarded to <code>{blackBox.endpoint.forward}</code> ({formatCount(blackBox.forwarded)})
          </>
        ) : (
          ' · not forwarded'
        )}{' '}
        · <span data-testid="bot-exit">{describeExit(bot.exitCode, bot.signal, bot.command !== undefined)}</span>
        {bot.exitedDuringRun && <span className="bad-text"> · it left during the run: the result is partial</span>}
      </div>
      <div className="summary-grid">
        <table className="data-table" data-testid="black-box-matches">
          <caption>Chat → OSC matching (messages)</caption>
          <tbody>
            <Row label="chat lines sent" value={formatCount(blackBox.chatSent)} />
            <Row label="OSC datagrams caught" value={`${formatCount(blackBox.oscReceived)} (${formatCount(blackBox.oscMessages)} messages)`} />
            <Row label="matched to their chat message" value={`${formatCount(blackBox.matched)} (${formatPercent(decided > 0 ? blackBox.matched / decided : 0)})`} tone="ok" />
            <Row label="· by value / by order" value={`${formatCount(blackBox.matchedByValue)} / ${formatCount(blackBox.matchedByOrder)}`} title="by value: the OSC value the rig's scaling predicts; by order: same address, first come first matched" />
            {blackBox.partial > 0 && <Row label="· partly (some assignments missing)" value={formatCount(blackBox.partial)} />}
            {blackBox.ambiguous > 0 && <Row label="· ambiguous (several expected that value)" value={formatCount(blackBox.ambiguous)} />}
            <Row label="OSC no chat message explains" value={formatCount(blackBox.unmatchedOsc)} tone={blackBox.unmatchedOsc > 0 ? 'bad' : undefined} title={blackBox.unmatchedAddresses.join(', ')} />
            {blackBox.decodeErrors > 0 && <Row label="datagrams that did not decode" value={formatCount(blackBox.decodeErrors)} tone="bad" />}
          </tbody>
        </table>
        <table className="data-table" data-testid="black-box-no-osc">
          <caption>No OSC within {formatCount(blackBox.endpoint.windowMs)} ms</caption>
          <tbody>
            <Row label="the rig rejects it too" value={formatCount(blackBox.missing.rejectedByModel)} title="cvlab's own validator and limiter reject these messages as well: silence is right" />
            <Row
              label="the rig accepts it, the bot sent nothing"
              value={formatCount(blackBox.missing.acceptedButSilent)}
              tone={blackBox.missing.acceptedButSilent > 0 ? 'bad' : undefined}
              title="cvlab's model accepts these messages; the bot dropped them (stricter limits, a bug, or too slow)"
            />
            <Row label="matched although the rig rejects it" value={formatCount(blackBox.acceptedAgainstModel)} title="the bot is more lenient than the rig's limits" />
            <Row label="bot replies (matched / received)" value={`${formatCount(blackBox.replies.matched)} / ${formatCount(blackBox.replies.received)}`} />
            <Row label="slow reader: most bytes queued" value={formatCount(blackBox.slowReader.maxBufferedBytes)} />
          </tbody>
        </table>
        <StageTable rows={[...stageRow('chatToOsc', blackBox.latency.chatToOsc), ...stageRow('botReply', blackBox.latency.botReply)]} />
      </div>
      {(stdout || stderr) && (
        <details className="bot-output">
          <summary>the bot’s last output</summary>
          {stdout && <pre aria-label="bot standard output">{stdout}</pre>}
          {stderr && <pre aria-label="bot standard error" className="stderr">{stderr}</pre>}
        </details>
      )}
    </section>
  );
}
