// A chat bot for an LZX video synth, written the way such bots are: tmi.js for Twitch chat,
// node-osc for the OSC-to-CV converter. It reads its rig (variables, ranges, output scaling,
// per-user limit) from the rig file cvlab uses, so both agree on what a message means.
//
//   CVLAB_CHAT_HOST / CVLAB_CHAT_PORT   chat server (unset: Twitch itself, irc-ws.chat.twitch.tv)
//   CVLAB_CHANNEL                       channel to join
//   CVLAB_OSC_HOST / CVLAB_OSC_PORT     where the converter listens (default: the rig's osc target)
//   CVLAB_RIG                           rig file (default: resources/rigs/demo.json)
//   TWITCH_USERNAME / TWITCH_OAUTH      the bot's account on Twitch (oauth:… token)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Bundle, Client as OscClient, Message } from 'node-osc';
import tmi from 'tmi.js';

const require = createRequire(import.meta.url);
const VERSION = '1.0.0';
const tmiVersion = require('tmi.js/package.json').version;
console.log(`cvlab tmi-bot ${VERSION} (tmi.js ${tmiVersion}, node ${process.version})`);

const rigPath = process.env.CVLAB_RIG ?? new URL('../../resources/rigs/demo.json', import.meta.url);
const rig = JSON.parse(readFileSync(rigPath, 'utf8'));
const channel = process.env.CVLAB_CHANNEL ?? process.env.TWITCH_CHANNEL ?? 'cvlab';
const oscHost = process.env.CVLAB_OSC_HOST ?? rig.osc.host;
const oscPort = Number(process.env.CVLAB_OSC_PORT ?? rig.osc.port);

// ---------------------------------------------------------------------------------------------
// The rig's grammar, compactly: `hue=0.4 sat=80%`, `!set hue 0.4`, `!hue 0.4`, `+0.1`, `-5%`,
// `zoom==-0.5`, min / mid / max / on / off and enum names.

const MAX_LENGTH = 256;
const MAX_ASSIGNMENTS = 8;
// Control characters and invisible formatting (zero-width, bidi overrides, BOM).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BAD_CHARACTER = /[\u0000-\u0008\u000b-\u001f\u007f\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]/;
const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

const variables = new Map(rig.variables.map((variable) => [variable.name, variable]));
const bounds = (variable) => {
  if (variable.kind === 'enum') return [0, Math.max(0, variable.values.length - 1)];
  if (variable.kind === 'bool') return [0, 1];
  return [variable.min, variable.max];
};
const whole = (variable) => variable.kind !== 'float';
const state = new Map(
  rig.variables.map((variable) => {
    const [min, max] = bounds(variable);
    let value = variable.default;
    if (variable.kind === 'enum') value = typeof value === 'string' ? Math.max(0, variable.values.indexOf(value)) : (value ?? 0);
    if (typeof value !== 'number' || !Number.isFinite(value)) value = min;
    return [variable.name, Math.min(max, Math.max(min, value))];
  }),
);

/** `name`, `raw value` pairs, or an error string. */
function split(text) {
  const trimmed = text.trim();
  if (trimmed === '') return 'empty';
  if (trimmed.startsWith('!')) {
    const words = trimmed.slice(1).split(/\s+/);
    if (words[0] === 'set') words.shift();
    if (words.length === 1 && words[0].includes('=')) return split(words[0]);
    if (words.length % 2 !== 0) return 'expected !set name value';
    const pairs = [];
    for (let index = 0; index < words.length; index += 2) pairs.push([words[index], words[index + 1]]);
    return pairs;
  }
  const pairs = [];
  for (const word of trimmed.split(/\s+/)) {
    const at = word.indexOf('=');
    if (at <= 0) return 'expected name=value';
    pairs.push([word.slice(0, at), word.slice(at + 1)]);
  }
  return pairs;
}

/** The new native value of a variable, or an error string. */
function resolve(variable, raw) {
  const [min, max] = bounds(variable);
  let text = raw.trim().toLowerCase();
  if (text === 'min' || text === 'off') return min;
  if (text === 'max' || text === 'on') return max;
  if (text === 'mid') return whole(variable) ? roundHalfAway((min + max) / 2) : (min + max) / 2;
  if (variable.kind === 'enum' && variable.values.includes(text)) return variable.values.indexOf(text);
  // A leading sign means a change (`+0.1`, `-5%`); `==-0.5` (raw `=-0.5`) is an absolute negative.
  const forced = text.startsWith('=');
  if (forced) text = text.slice(1);
  let sign = 1;
  let relative = false;
  if (text.startsWith('+') || text.startsWith('-')) {
    sign = text.startsWith('-') ? -1 : 1;
    relative = !forced;
    text = text.slice(1);
  }
  const percent = text.endsWith('%');
  if (percent) text = text.slice(0, -1);
  if (!NUMBER.test(text) || !Number.isFinite(Number(text))) return `bad value "${raw}"`;
  const number = sign * Number(text);
  let value;
  if (relative) {
    const delta = percent ? (number / 100) * (max - min) : number;
    value = Math.min(max, Math.max(min, state.get(variable.name) + delta));
  } else if (percent) {
    const fraction = Math.min(1, Math.max(0, number / 100));
    if ((number < 0 || number > 100) && !variable.clamp) return `${variable.name} must be 0–100%`;
    value = min * (1 - fraction) + max * fraction;
  } else {
    value = number;
    if (value < min || value > max) {
      if (!variable.clamp) return `${variable.name} must be between ${min} and ${max}`;
      value = Math.min(max, Math.max(min, value));
    }
  }
  if (whole(variable)) value = Math.min(max, Math.max(min, roundHalfAway(value)));
  return value;
}

function roundHalfAway(value) {
  return (value < 0 ? -Math.round(-value) : Math.round(value)) + 0;
}

/** What the converter gets: a linear map of the native range onto the rig's output range. */
function scale(variable, value) {
  const [min, max] = bounds(variable);
  let fraction = variable.kind === 'bool' ? (value >= 0.5 ? 1 : 0) : max > min ? (value - min) / (max - min) : 0;
  fraction = Math.min(1, Math.max(0, fraction));
  return fraction === 1 ? variable.out.max : variable.out.min + fraction * (variable.out.max - variable.out.min);
}

/** Parses a chat message into [{variable, value}] or an error string. */
function parse(text) {
  if (text.length > MAX_LENGTH) return 'too long';
  if (BAD_CHARACTER.test(text)) return 'bad character';
  const pairs = split(text);
  if (typeof pairs === 'string') return pairs;
  if (pairs.length > MAX_ASSIGNMENTS) return `at most ${MAX_ASSIGNMENTS} changes per message`;
  const changes = [];
  for (const [name, raw] of pairs) {
    const variable = variables.get(name.toLowerCase());
    if (!variable) return `unknown variable "${name}"`;
    const value = resolve(variable, raw);
    if (typeof value === 'string') return value;
    changes.push({ variable, value });
  }
  return changes;
}

// ---------------------------------------------------------------------------------------------
// Per-user limit: a token bucket of `userRate` per second with bursts of `userBurst`.

const buckets = new Map();
function allow(user) {
  const now = performance.now();
  const { userRate, userBurst } = rig.limiter;
  const bucket = buckets.get(user) ?? { tokens: userBurst, at: now };
  bucket.tokens = Math.min(userBurst, bucket.tokens + ((now - bucket.at) / 1000) * userRate);
  bucket.at = now;
  buckets.set(user, bucket);
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

// ---------------------------------------------------------------------------------------------

const osc = new OscClient(oscHost, oscPort);
const onTwitch = process.env.CVLAB_CHAT_HOST === undefined;
const client = new tmi.Client({
  // No emote-set lookups: they call Twitch's HTTP API, which a bench (and cvlab) does not have.
  options: { skipUpdatingEmotesets: true },
  connection: onTwitch
    ? { secure: true, reconnect: true }
    : { server: process.env.CVLAB_CHAT_HOST, port: Number(process.env.CVLAB_CHAT_PORT ?? 6667), secure: false, reconnect: false },
  identity: { username: process.env.TWITCH_USERNAME ?? 'cvlab_tmi_bot', password: process.env.TWITCH_OAUTH ?? 'oauth:cvlab' },
  channels: [channel],
});

const lastReply = new Map();
function replyOnce(target, user, text) {
  // Answers a viewer's mistyped command at most every 10 s, so spam cannot make the bot spam.
  const now = Date.now();
  if (now - (lastReply.get(user) ?? 0) < 10_000) return;
  lastReply.set(user, now);
  client.say(target, `@${user} ${text}`).catch(() => undefined);
}

let messagesRead = 0;
let packetsSent = 0;
client.on('message', (target, tags, text, self) => {
  if (self) return;
  messagesRead++;
  const user = tags.username;
  const changes = parse(text);
  if (typeof changes === 'string') {
    if (text.trim().startsWith('!')) replyOnce(target, user, changes);
    return;
  }
  if (!allow(user)) return;
  const messages = changes.map(({ variable, value }) => {
    state.set(variable.name, value);
    return new Message(variable.address, { type: 'f', value: scale(variable, value) });
  });
  const packet = messages.length === 1 ? messages[0] : new Bundle(0, ...messages);
  packetsSent++;
  osc.send(packet, (error) => {
    if (error) console.error(`OSC send failed: ${error.message}`);
  });
});

let stopping = false;
client.on('disconnected', (reason) => {
  if (stopping) return;
  console.error(`disconnected: ${reason}`);
  if (!onTwitch) process.exit(1);
});

const stop = () => {
  stopping = true;
  console.log(`stopping: ${messagesRead} chat messages read, ${packetsSent} OSC packets sent`);
  client.disconnect().catch(() => undefined).finally(() => {
    osc.close();
    process.exit(0);
  });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

// Test only: `--test-leak <MiB per minute>` keeps memory it never frees, so a test can see cvlab
// call a leaking bot leaking. Buffer.alloc fills its bytes, so they count in the resident size.
const leakFlag = process.argv.indexOf('--test-leak');
if (leakFlag >= 0) {
  const mibPerMinute = Number(process.argv[leakFlag + 1]);
  if (!(mibPerMinute > 0)) {
    console.error(`--test-leak: expected MiB per minute above 0, got "${process.argv[leakFlag + 1] ?? ''}"`);
    process.exit(2);
  }
  const kept = [];
  const bytesPerTick = Math.round((mibPerMinute * 1024 * 1024) / 600);
  setInterval(() => kept.push(Buffer.alloc(bytesPerTick, 1)), 100).unref();
}

client.connect().then(
  () => console.log(`joined #${channel}; OSC to ${oscHost}:${oscPort}`),
  (error) => {
    console.error(`could not connect: ${error}`);
    process.exit(1);
  },
);
