import { describe, expect, it } from 'vitest';
import { formatHostLine, formatProbeLine, parseHostLine, parseProbeLine } from '../../src/main/lab/loopback/probe-protocol';
import { PROBE_LINE_MAX, type ProbeLine } from '../../src/shared/loopback';

describe('probe protocol: probe → host lines', () => {
  const lines: [string, ProbeLine][] = [
    ['HELLO cvlab-probe 1.2.0 12', { kind: 'hello', firmware: '1.2.0', adcBits: 12 }],
    ['HELLO cvlab-probe 1.1.0 12 uart', { kind: 'hello', firmware: '1.1.0', adcBits: 12, link: 'uart' }],
    ['HELLO cvlab-probe 1.1.0 10 usb', { kind: 'hello', firmware: '1.1.0', adcBits: 10, link: 'usb' }],
    ['PONG 7 3600000123 3600000456', { kind: 'pong', seq: 7, rxUs: 3600000123, txUs: 3600000456 }],
    ['OK ARM', { kind: 'ok', command: 'ARM' }],
    ['EDGE 0 rise 123456789 1000', { kind: 'edge', channel: 0, direction: 'rise', probeUs: 123456789, millivolts: 1000 }],
    ['EDGE 1 fall 5 -12', { kind: 'edge', channel: 1, direction: 'fall', probeUs: 5, millivolts: -12 }],
  ];
  it.each(lines)('parses %s and formats it back', (text, line) => {
    expect(parseProbeLine(text)).toEqual({ kind: 'line', line, extraFields: 0 });
    expect(formatProbeLine(line)).toBe(`${text}\n`);
  });

  it('reads a 1.0 three-field PONG as a reply sent the moment the PING was read (tx = rx)', () => {
    expect(parseProbeLine('PONG 7 3600000123')).toEqual({
      kind: 'line',
      line: { kind: 'pong', seq: 7, rxUs: 3600000123, txUs: 3600000123 },
      extraFields: 0,
    });
  });

  it.each([
    ['HELLO cvlab-probe 1.2.0 12 uart 3 future', 2],
    ['HELLO cvlab-probe 1.2.0 12 spi', 1],
    ['PONG 7 10 12 99', 1],
    ['OK ARM 1', 1],
    ['EDGE 0 rise 5 100 extra fields', 2],
  ])('uses %j and counts %i trailing field(s) a later version added', (text, extra) => {
    expect(parseProbeLine(text)).toMatchObject({ kind: 'line', extraFields: extra });
  });

  it('accepts a trailing carriage return (Arduino println)', () => {
    expect(parseProbeLine('OK ARM\r')).toEqual({ kind: 'line', line: { kind: 'ok', command: 'ARM' }, extraFields: 0 });
  });

  it('treats blank lines as empty, not as problems', () => {
    expect(parseProbeLine('')).toEqual({ kind: 'empty' });
    expect(parseProbeLine('  \r')).toEqual({ kind: 'empty' });
  });

  it.each(['hello world', '\u0000\u00ff garbage', 'PING 3', 'EDG', '12345'])('counts %j as garbage', (text) => {
    expect(parseProbeLine(text)).toMatchObject({ kind: 'problem', problem: 'garbage' });
  });

  it.each([
    'EDGE 0 rise 1234',
    'EDGE 0 up 1234 5',
    'EDGE 0 rise 12x4 5',
    'EDGE 99 rise 1 5',
    'PONG 7',
    'PONG -1 5',
    'HELLO other-device 1 12',
    'HELLO cvlab-probe 1.0',
    'OK',
    'OK DISARM',
    'PONG 1 20 10',
    'PONG 1 2 x',
  ])('counts %j as partial', (text) => {
    expect(parseProbeLine(text)).toMatchObject({ kind: 'problem', problem: 'partial' });
  });

  it('counts an oversized line and keeps only its start', () => {
    const text = `EDGE 0 rise 1 ${'9'.repeat(PROBE_LINE_MAX)}`;
    const parsed = parseProbeLine(text);
    expect(parsed).toMatchObject({ kind: 'problem', problem: 'oversized' });
    if (parsed.kind === 'problem') expect(parsed.text.length).toBe(PROBE_LINE_MAX);
  });
});

describe('probe protocol: host → probe lines', () => {
  it('round-trips PING, ARM and HELLO?', () => {
    for (const line of [{ kind: 'ping', seq: 42 }, { kind: 'arm', channel: 0, thresholdMv: 500 }, { kind: 'hello?' }] as const) {
      const text = formatHostLine(line);
      expect(text.endsWith('\n')).toBe(true);
      expect(parseHostLine(text.slice(0, -1))).toEqual({ kind: 'line', line, extraFields: 0 });
    }
  });

  it('reads an empty line as a HELLO request and rejects the rest', () => {
    expect(parseHostLine('')).toEqual({ kind: 'line', line: { kind: 'hello?' }, extraFields: 0 });
    expect(parseHostLine('ARM 0')).toMatchObject({ kind: 'problem', problem: 'partial' });
    expect(parseHostLine('RESET')).toMatchObject({ kind: 'problem', problem: 'garbage' });
  });
});
