import { useEffect, useId, useState } from 'react';
import type { About } from '../../../shared/api';
import { useSession } from '../session';

/** What the load is sent to, as the technician chooses it. */
export type TargetMode = 'pipeline' | 'start' | 'wait';

const MODES: readonly { mode: TargetMode; label: string; hint: string }[] = [
  { mode: 'pipeline', label: "cvlab's pipeline", hint: 'validate, limit, store and send OSC inside cvlab' },
  { mode: 'start', label: 'start my bot', hint: 'cvlab starts your bot’s command, plays chat to it and catches its OSC' },
  { mode: 'wait', label: 'wait for my bot', hint: 'you start your bot yourself (a debugger, another machine’s shell); cvlab waits for it to join' },
];

/** Where a bot connects when the scenario does not say (the chat endpoint's default). */
export const DEFAULT_CHAT_PORT = 6667;
/** Where a waited-for bot is told to send OSC when the scenario names no port: known before the run, so it can be set. */
const DEFAULT_WAIT_OSC_LISTEN = '127.0.0.1:9100';

type TargetDraft = Record<string, unknown>;

function targetOf(draft: unknown): TargetDraft {
  const target = (draft as { target?: unknown } | null)?.target;
  return typeof target === 'object' && target !== null ? (target as TargetDraft) : { kind: 'pipeline' };
}

/** The mode a scenario's target stands for: a bot with a command is started, one without is waited for. */
export function targetMode(draft: unknown): TargetMode {
  const target = targetOf(draft);
  if (target['kind'] !== 'bot') return 'pipeline';
  return typeof target['command'] === 'string' ? 'start' : 'wait';
}

/**
 * The environment a bot started by hand needs, from the scenario's target and the rig's file
 * (what cvlab itself would set for a bot it starts). An unknown value says where it comes from.
 */
export function botEnvironment(target: TargetDraft, rigPath: string | undefined): [string, string][] {
  const [oscHost, oscPort] = typeof target['oscListen'] === 'string' ? splitHostPort(target['oscListen']) : ['127.0.0.1', '(a free port: set “OSC listen” to know it now)'];
  return [
    ['CVLAB_CHAT_HOST', '127.0.0.1'],
    ['CVLAB_CHAT_PORT', String(typeof target['chatPort'] === 'number' ? target['chatPort'] : DEFAULT_CHAT_PORT)],
    ['CVLAB_CHANNEL', typeof target['channel'] === 'string' && target['channel'] ? target['channel'] : 'cvlab'],
    ['CVLAB_OSC_HOST', oscHost],
    ['CVLAB_OSC_PORT', oscPort],
    ['CVLAB_RIG', rigPath ?? '(save the rig to a file to hand its path to the bot)'],
  ];
}

function splitHostPort(text: string): [string, string] {
  const at = text.lastIndexOf(':');
  return at < 0 ? [text, '?'] : [text.slice(0, at).replace(/^\[|\]$/g, ''), text.slice(at + 1)];
}

/** Whether this engine lets a console start a bot's command, and why not (asked once per connection). */
export function useBotCommands(): NonNullable<About['botCommands']> | null {
  const { lab, connection } = useSession();
  const [policy, setPolicy] = useState<NonNullable<About['botCommands']> | null>(null);
  useEffect(() => {
    if (connection !== 'open') return;
    let cancelled = false;
    lab.about().then(
      (about) => !cancelled && setPolicy(about.botCommands ?? { allowed: true }),
      () => undefined,
    );
    return () => {
      cancelled = true;
    };
  }, [lab, connection]);
  return policy;
}

/**
 * The Scenarios page's target: cvlab's own pipeline, a bot cvlab starts (command, working
 * folder), or a bot started elsewhere that cvlab waits for (the environment to set is shown),
 * with the chat port, where the bot's OSC is caught and where it is forwarded. Problems show
 * inline, from the scenario's schema like every other field.
 */
export function TargetPanel({
  draft,
  problems,
  onChange,
}: {
  draft: unknown;
  problems: Map<string, string[]>;
  onChange: (draft: unknown) => void;
}): React.JSX.Element {
  const { rig } = useSession();
  const botCommands = useBotCommands();
  const target = targetOf(draft);
  const mode = targetMode(draft);
  const startRefused = botCommands !== null && !botCommands.allowed;

  const setTarget = (next: TargetDraft): void => onChange({ ...((draft ?? {}) as Record<string, unknown>), target: next });
  const setField = (name: string, value: unknown): void => {
    const next = { ...target };
    if (value === undefined) delete next[name];
    else next[name] = value;
    setTarget(next);
  };
  const choose = (next: TargetMode): void => {
    if (next === 'pipeline') return setTarget({ kind: 'pipeline' });
    // The bot's fields stay when switching between starting it and waiting for it.
    const { kind: _kind, command, cwd, wait: _wait, ...shared } = target;
    if (next === 'start') setTarget({ kind: 'bot', command: typeof command === 'string' ? command : 'node examples/tmi-bot/bot.js', ...(cwd !== undefined ? { cwd } : {}), ...shared });
    else setTarget({ kind: 'bot', wait: true, chatPort: DEFAULT_CHAT_PORT, oscListen: DEFAULT_WAIT_OSC_LISTEN, ...shared });
  };
  const rigPath = rig?.file?.path;

  return (
    <section className="target-panel" aria-label="what the load is sent to" data-testid="target-panel">
      <div className="target-modes" role="radiogroup" aria-label="target">
        <span className="label">send the load to</span>
        {MODES.map(({ mode: each, label, hint }) => (
          <label key={each} className={`target-mode ${mode === each ? 'chosen' : ''}`} title={hint}>
            <input
              type="radio"
              name="target-mode"
              value={each}
              checked={mode === each}
              disabled={each === 'start' && startRefused && mode !== 'start'}
              onChange={() => choose(each)}
            />
            {label}
          </label>
        ))}
      </div>
      {startRefused && (
        <div className={`notice ${mode === 'start' ? 'bad' : 'warn'}`} data-testid="bot-commands-refused">
          {mode === 'start' ? 'This engine will refuse to start the command: ' : '“start my bot” is off: '}
          {botCommands.reason ?? 'this engine does not start bot commands for consoles.'}{' '}
          {mode === 'start' && (
            <button type="button" className="button-small" onClick={() => choose('wait')}>
              Wait for my bot instead
            </button>
          )}
        </div>
      )}
      {mode !== 'pipeline' && (
        <div className="target-fields">
          {mode === 'start' && (
            <>
              <TextField label="command" name="command" keepEmpty target={target} problems={problems} onChange={setField} hint="the shell command that starts your bot, e.g. node examples/tmi-bot/bot.js" />
              <TextField label="working folder" name="cwd" target={target} problems={problems} onChange={setField} hint="where the command runs; empty: where cvlab was started" />
            </>
          )}
          <TextField label="chat port" name="chatPort" numeric target={target} problems={problems} onChange={setField} hint={`the chat endpoint your bot connects to (IRC over TCP, or WebSocket on the same port); empty: ${DEFAULT_CHAT_PORT}`} />
          <TextField label="OSC listen" name="oscListen" target={target} problems={problems} onChange={setField} hint="host:port where your bot sends OSC and cvlab catches it; empty: a free port on 127.0.0.1" />
          <TextField label="forward" name="forward" target={target} problems={problems} onChange={setField} hint="host:port of the converter: every caught datagram is passed on unchanged; empty: not forwarded" />
          <TextField label="channel" name="channel" target={target} problems={problems} onChange={setField} hint="the channel your bot joins; empty: cvlab" />
          {mode === 'wait' && (
            <div className="bot-environment" data-testid="bot-environment">
              <div className="label">start your bot with this environment, then press Start: cvlab waits up to 2 minutes for it to join</div>
              <pre aria-label="environment to set">{botEnvironment(target, rigPath).map(([name, value]) => `${name}=${value}`).join('\n')}</pre>
            </div>
          )}
        </div>
      )}
      {problems.get('target') && (
        <div className="field-problem" role="alert">
          {problems.get('target')?.join('; ')}
        </div>
      )}
    </section>
  );
}

function TextField({
  label,
  name,
  hint,
  numeric = false,
  keepEmpty = false,
  target,
  problems,
  onChange,
}: {
  label: string;
  name: string;
  hint: string;
  numeric?: boolean;
  /** An emptied field stays, empty (the command: leaving it out would mean "wait for my bot"). */
  keepEmpty?: boolean;
  target: TargetDraft;
  problems: Map<string, string[]>;
  onChange: (name: string, value: unknown) => void;
}): React.JSX.Element {
  const id = useId();
  const own = problems.get(`target.${name}`);
  const value = target[name];
  return (
    <div className={`form-field ${own ? 'invalid' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        spellCheck={false}
        inputMode={numeric ? 'numeric' : undefined}
        data-path={`target.${name}`}
        value={value === undefined || value === null ? '' : String(value)}
        aria-invalid={own ? true : undefined}
        aria-describedby={own ? `${id}-problem` : undefined}
        onChange={(event) => {
          const text = event.target.value;
          // Empty: the field is left out (its default); a port stays a number while it reads as one, else the schema says what is wrong.
          if (text.trim() === '' && !keepEmpty) onChange(name, undefined);
          else if (numeric && /^\d+$/.test(text.trim())) onChange(name, Number(text.trim()));
          else onChange(name, text);
        }}
      />
      <span className="form-hint">{hint}</span>
      {own && (
        <div className="field-problem" role="alert" id={`${id}-problem`}>
          {own.join('; ')}
        </div>
      )}
    </div>
  );
}
