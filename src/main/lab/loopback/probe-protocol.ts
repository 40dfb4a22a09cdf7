import { PROBE_IDENTITY, PROBE_LINE_MAX, type HostLine, type LineProblem, type ProbeLine } from '../../../shared/loopback';

// Parser and formatter for the probe's text lines (DESIGN.md, "Hardware loop-back").
// A serial wire carries noise, half lines after a reset and other devices' chatter, so the
// parser never throws: each line is a parsed value, an empty line, or a named problem.

export type ParsedLine<T> =
  /** `extraFields`: trailing fields beyond what this version reads (a newer peer): kept, counted. */
  | { kind: 'line'; line: T; extraFields: number }
  | { kind: 'empty' }
  | { kind: 'problem'; problem: Exclude<LineProblem, 'outOfOrder'>; text: string };

const UNSIGNED = /^\d{1,16}$/;
const SIGNED = /^-?\d{1,6}$/;
const VERSION = /^[\w.+-]{1,32}$/;

function unsigned(token: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (token === undefined || !UNSIGNED.test(token)) return undefined;
  const value = Number(token);
  return value <= max ? value : undefined;
}

function signed(token: string | undefined): number | undefined {
  return token !== undefined && SIGNED.test(token) ? Number(token) : undefined;
}

function split(raw: string): { tokens: string[]; problem?: 'oversized' } {
  // Arduino's println ends lines with \r\n; the line parser splits on \n only.
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (text.length > PROBE_LINE_MAX) return { tokens: [], problem: 'oversized' };
  const trimmed = text.trim();
  return { tokens: trimmed === '' ? [] : trimmed.split(/ +/) };
}

/** Parses one line a probe sent (without its newline). Never throws. */
export function parseProbeLine(raw: string): ParsedLine<ProbeLine> {
  const { tokens, problem } = split(raw);
  if (problem) return { kind: 'problem', problem, text: raw.slice(0, PROBE_LINE_MAX) };
  if (tokens.length === 0) return { kind: 'empty' };
  const partial = { kind: 'problem', problem: 'partial', text: raw } as const;
  const [keyword, ...fields] = tokens;
  // Each line has its fields, optional ones after them, then whatever a later version adds.
  const ok = (line: ProbeLine, used: number): ParsedLine<ProbeLine> => ({ kind: 'line', line, extraFields: fields.length - used });
  switch (keyword) {
    case 'HELLO': {
      const [identity, firmware, bits, linkToken] = fields;
      const adcBits = unsigned(bits, 24);
      if (fields.length < 3 || identity !== PROBE_IDENTITY || !firmware || !VERSION.test(firmware) || !adcBits) return partial;
      // A fourth field that is not a link is a later version's addition, not an error.
      const link = linkToken === 'uart' || linkToken === 'usb' ? linkToken : undefined;
      return ok({ kind: 'hello', firmware, adcBits, ...(link ? { link } : {}) }, link ? 4 : 3);
    }
    case 'PONG': {
      const seq = unsigned(fields[0], 4_294_967_295);
      const rxUs = unsigned(fields[1]);
      if (fields.length < 2 || seq === undefined || rxUs === undefined) return partial;
      if (fields.length === 2) return ok({ kind: 'pong', seq, rxUs, txUs: rxUs }, 2);
      const txUs = unsigned(fields[2]);
      // A reply cannot leave before its PING arrived: such a field is damage, not a stamp.
      if (txUs === undefined || txUs < rxUs) return partial;
      return ok({ kind: 'pong', seq, rxUs, txUs }, 3);
    }
    case 'OK': {
      if (fields.length < 1 || fields[0] !== 'ARM') return partial;
      return ok({ kind: 'ok', command: 'ARM' }, 1);
    }
    case 'EDGE': {
      const [channelToken, direction, stamp, level] = fields;
      const channel = unsigned(channelToken, 15);
      const probeUs = unsigned(stamp);
      const millivolts = signed(level);
      if (fields.length < 4 || channel === undefined || (direction !== 'rise' && direction !== 'fall') || probeUs === undefined || millivolts === undefined) {
        return partial;
      }
      return ok({ kind: 'edge', channel, direction, probeUs, millivolts }, 4);
    }
    default:
      return { kind: 'problem', problem: 'garbage', text: raw };
  }
}

/** Parses one line the host sent (the emulator's side; the firmware does the same in C++). */
export function parseHostLine(raw: string): ParsedLine<HostLine> {
  const { tokens, problem } = split(raw);
  if (problem) return { kind: 'problem', problem, text: raw.slice(0, PROBE_LINE_MAX) };
  // An empty line asks for HELLO, so a terminal user can press Enter to see what is attached.
  if (tokens.length === 0) return { kind: 'line', line: { kind: 'hello?' }, extraFields: 0 };
  const partial = { kind: 'problem', problem: 'partial', text: raw } as const;
  const [keyword, ...fields] = tokens;
  const ok = (line: HostLine, used: number): ParsedLine<HostLine> => ({ kind: 'line', line, extraFields: fields.length - used });
  switch (keyword) {
    case 'HELLO?':
      return ok({ kind: 'hello?' }, 0);
    case 'PING': {
      const seq = unsigned(fields[0], 4_294_967_295);
      return fields.length >= 1 && seq !== undefined ? ok({ kind: 'ping', seq }, 1) : partial;
    }
    case 'ARM': {
      const channel = unsigned(fields[0], 15);
      const thresholdMv = signed(fields[1]);
      if (fields.length < 2 || channel === undefined || thresholdMv === undefined) return partial;
      return ok({ kind: 'arm', channel, thresholdMv }, 2);
    }
    default:
      return { kind: 'problem', problem: 'garbage', text: raw };
  }
}

/** Formats a probe → host line, newline included. */
export function formatProbeLine(line: ProbeLine): string {
  switch (line.kind) {
    case 'hello':
      return `HELLO ${PROBE_IDENTITY} ${line.firmware} ${line.adcBits}${line.link ? ` ${line.link}` : ''}\n`;
    case 'pong':
      return `PONG ${line.seq} ${Math.round(line.rxUs)} ${Math.round(line.txUs)}\n`;
    case 'ok':
      return `OK ${line.command}\n`;
    case 'edge':
      return `EDGE ${line.channel} ${line.direction} ${Math.round(line.probeUs)} ${Math.round(line.millivolts)}\n`;
  }
}

/** A 1.0 probe's three-field PONG (the emulator plays old firmware with it). */
export function formatPongV10(seq: number, rxUs: number): string {
  return `PONG ${seq} ${Math.round(rxUs)}\n`;
}

/** Formats a host → probe line, newline included. */
export function formatHostLine(line: HostLine): string {
  switch (line.kind) {
    case 'ping':
      return `PING ${line.seq}\n`;
    case 'arm':
      return `ARM ${line.channel} ${Math.round(line.thresholdMv)}\n`;
    case 'hello?':
      return 'HELLO?\n';
  }
}
