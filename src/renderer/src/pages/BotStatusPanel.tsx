import type { BotConnectionStatus } from '../../../shared/run';
import { botEnvironment, DEFAULT_CHAT_PORT, targetMode } from '../components/TargetPanel';
import { describeExit } from '../components/BlackBoxSection';
import { formatCount, formatPercent } from '../format/format';
import { useRunProgress, useSession } from '../session';

/** The bot's state in one word or two, from what the chat endpoint and its process say. */
export function botState(bot: BotConnectionStatus): { word: string; tone: 'ok' | 'warn' | 'bad' } {
  if (bot.signal || (bot.exitCode !== undefined && bot.exitCode !== null)) return { word: 'exited', tone: 'bad' };
  if (!bot.connected) return { word: 'disconnected', tone: 'bad' };
  if (!bot.joined) return { word: 'connected, not joined', tone: 'warn' };
  return { word: 'joined', tone: 'ok' };
}

function Figure({ label, value, testId }: { label: string; value: string; testId: string }): React.JSX.Element {
  return (
    <div className="bot-figure">
      <div className="label">{label}</div>
      <div className="bot-figure-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

/**
 * The Run page's bot, live: while Start waits for it, what it must connect to (and, for a bot
 * started by hand, the environment to set); during the run its state, the chat lines it read,
 * the OSC caught, the share matched to chat messages, its replies, its exit and its last output.
 */
export function BotStatusPanel(): React.JSX.Element | null {
  const { run, starting, scenario, rig } = useSession();
  const progress = useRunProgress();
  const bot = run && progress?.runId === run.id ? progress.bot : undefined;
  const mode = targetMode(scenario.draft);
  if (!bot && !(starting && mode !== 'pipeline')) return null;

  if (!bot) {
    const target = ((scenario.draft as { target?: Record<string, unknown> } | null)?.target ?? {}) as Record<string, unknown>;
    const chatPort = typeof target['chatPort'] === 'number' ? target['chatPort'] : DEFAULT_CHAT_PORT;
    const channel = typeof target['channel'] === 'string' ? target['channel'] : 'cvlab';
    return (
      <section className="bot-status" aria-label="your bot" data-testid="bot-status">
        <div className="bot-status-head">
          <span className="badge warn" data-testid="bot-state">
            connecting
          </span>
          {mode === 'start' ? (
            <>
              starting <code>{String(target['command'] ?? '')}</code>; waiting up to 10 s for it to join #{channel} on 127.0.0.1:{chatPort}
            </>
          ) : (
            <>waiting up to 2 minutes for your bot to join #{channel} on 127.0.0.1:{chatPort}</>
          )}
        </div>
        {mode === 'wait' && (
          <div className="bot-environment">
            <div className="label">start your bot with</div>
            <pre aria-label="environment to set">{botEnvironment(target, rig?.file?.path).map(([name, value]) => `${name}=${value}`).join('\n')}</pre>
          </div>
        )}
      </section>
    );
  }

  const state = botState(bot);
  const decided = bot.decided ?? 0;
  const output = [...(bot.output?.stdout ?? []), ...(bot.output?.stderr ?? []).map((line) => `stderr: ${line}`)];
  return (
    <section className="bot-status" aria-label="your bot" data-testid="bot-status">
      <div className="bot-status-head">
        <span className={`badge ${state.tone}`} data-testid="bot-state">
          {state.word}
        </span>
        {bot.nick ?? 'no nick yet'} over {bot.transport === 'tcp' ? 'IRC over TCP' : 'IRC over WebSocket'}
        {bot.command ? (
          <>
            {' '}
            · <code>{bot.command}</code>
          </>
        ) : (
          ' · started elsewhere'
        )}
      </div>
      <div className="bot-figures">
        <Figure label="chat lines sent" value={formatCount(bot.chatSent)} testId="bot-chat-sent" />
        <Figure label="lines read from it" value={formatCount(bot.linesRead)} testId="bot-lines-read" />
        <Figure label="OSC caught" value={formatCount(bot.oscCaught)} testId="bot-osc-caught" />
        <Figure label="matched" value={decided > 0 ? `${formatPercent((bot.matched ?? 0) / decided, 1)} of ${formatCount(decided)}` : '–'} testId="bot-matched" />
        <Figure label="replies" value={formatCount(bot.replies)} testId="bot-replies" />
        <Figure label="process" value={describeExit(bot.exitCode, bot.signal, bot.command !== undefined)} testId="bot-exit-live" />
      </div>
      {output.length > 0 && (
        <pre className="bot-output-live" aria-label="the bot's last output" data-testid="bot-output">
          {output.join('\n')}
        </pre>
      )}
    </section>
  );
}
