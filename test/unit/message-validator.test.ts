import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Assignment, ValidationResult } from '../../src/shared/message';
import { MAX_ASSIGNMENTS, MAX_MESSAGE_LENGTH } from '../../src/shared/rejection';
import { RigSchema, type RigInput } from '../../src/shared/rig';
import { MessageValidator } from '../../src/main/lab/common/message-validator';
import { defaultValue, resolveValue, valueBounds } from '../../src/main/lab/common/value-resolver';

const demo = RigSchema.parse(
  JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')),
);
const validator = new MessageValidator(demo);

function variableOf(name: string) {
  const variable = demo.variables.find((candidate) => candidate.name === name);
  if (!variable) throw new Error(`the demo rig has no variable ${name}`);
  return variable;
}

function accepted(text: string, using = validator): readonly Assignment[] {
  const result = using.validate(text);
  if (!result.ok)
    throw new Error(`expected "${text}" to be accepted, got ${result.rejection.code}: ${result.rejection.detail}`);
  return result.assignments;
}

function only(text: string, using = validator): Assignment {
  const assignments = accepted(text, using);
  expect(assignments).toHaveLength(1);
  return assignments[0] as Assignment;
}

function rejected(text: string, using = validator): { code: string; detail: string } {
  const result: ValidationResult = using.validate(text);
  if (result.ok) throw new Error(`expected "${text}" to be rejected, got ${JSON.stringify(result.assignments)}`);
  // Plain data: the detail of a deferred rejection is written when read.
  return { code: result.rejection.code, detail: result.rejection.detail };
}

function rigWith(variables: RigInput['variables']) {
  return new MessageValidator(RigSchema.parse({ name: 'inline', osc: { port: 9000 }, variables }));
}

describe('message forms', () => {
  it.each([
    ['hue=0.4'],
    ['!set hue 0.4'],
    ['!hue 0.4'],
    ['!set hue=0.4'],
    ['!hue=0.4'],
    ['hue = 0.4'],
    ['hue= 0.4'],
    ['  hue=0.4  '],
    ['\thue=0.4\r\n'],
    ['HUE=0.4'],
    ['!SET Hue 0.4'],
  ])('%j sets hue to 0.4', (text) => {
    expect(only(text)).toMatchObject({ variable: 'hue', spec: { kind: 'absolute', value: 0.4 } });
  });

  it('takes several assignments in one message, in every form', () => {
    for (const text of [
      'hue=0.4 sat=80%',
      '!set hue 0.4 sat 80%',
      '!set hue=0.4 sat=80%',
      '!hue 0.4 sat 80%',
      'hue=0.4    sat=80%',
    ]) {
      expect(accepted(text).map((assignment) => [assignment.variable, assignment.spec])).toEqual([
        ['hue', { kind: 'absolute', value: 0.4 }],
        ['sat', { kind: 'absolute', value: 0.8 }],
      ]);
    }
  });

  it('splits on any run of space separators, including no-break spaces', () => {
    expect(accepted('hue=0.4\u00a0\u3000sat=1')).toHaveLength(2);
  });

  it('lets the last of two assignments to one variable win', () => {
    const assignments = accepted('hue=0.1 sat=0.2 HUE=0.3');
    expect(assignments.map((assignment) => [assignment.variable, assignment.spec])).toEqual([
      ['hue', { kind: 'absolute', value: 0.3 }],
      ['sat', { kind: 'absolute', value: 0.2 }],
    ]);
  });

  it('keeps the value as the viewer wrote it', () => {
    expect(only('!zoom =-0.5').raw).toBe('=-0.5');
    expect(only('sat=80%').raw).toBe('80%');
  });

  it('accepts exactly the limits: 256 characters and 8 assignments', () => {
    const eight = ['hue', 'sat', 'bright', 'zoom', 'rotate', 'speed', 'shape', 'invert']
      .map((name) => `${name}=max`)
      .join(' ');
    expect(accepted(eight)).toHaveLength(MAX_ASSIGNMENTS);
    const padded = `hue=0.${'4'.repeat(MAX_MESSAGE_LENGTH - 'hue=0.'.length)}`;
    expect(padded).toHaveLength(MAX_MESSAGE_LENGTH);
    expect(only(padded).variable).toBe('hue');
  });
});

describe('float values', () => {
  it.each([
    ['hue=0.4', 0.4],
    ['hue=.5', 0.5],
    ['hue=1e-2', 0.01],
    ['hue=1', 1],
    ['hue=0', 0],
    ['hue=80%', 0.8],
    ['hue=0%', 0],
    ['hue=100%', 1],
    ['hue=min', 0],
    ['hue=mid', 0.5],
    ['hue=max', 1],
    ['hue=on', 1],
    ['hue=OFF', 0],
    ['speed=50%', 5],
    ['speed=mid', 5],
    ['zoom=min', -1],
    ['zoom=mid', 0],
    ['zoom=25%', -0.5],
    ['zoom==-0.5', -0.5],
    ['!zoom =-0.5', -0.5],
    ['!set zoom =-0.5', -0.5],
    ['zoom = =-0.5', -0.5],
    ['zoom==+0.5', 0.5],
    ['zoom==max', 1],
  ])('%j is absolute %d', (text, value) => {
    expect(only(text).spec).toEqual({ kind: 'absolute', value });
  });

  it.each([
    ['hue=+0.1', 0.1],
    ['hue=-0.1', -0.1],
    ['hue=-5%', -0.05],
    ['hue=+5%', 0.05],
    ['zoom=-0.5', -0.5],
    ['!zoom -0.5', -0.5],
    ['zoom=+10%', 0.2],
    ['speed=-5%', -0.5],
    ['hue=+150%', 1.5],
  ])('%j is a relative change of %d (a leading sign always means relative)', (text, delta) => {
    const spec = only(text).spec;
    expect(spec.kind).toBe('relative');
    if (spec.kind === 'relative') expect(spec.delta).toBeCloseTo(delta, 12);
  });

  it('clamps out-of-range values of a clamping variable and says so', () => {
    expect(only('sat=1.4')).toEqual({
      variable: 'sat',
      spec: { kind: 'absolute', value: 1 },
      raw: '1.4',
      clamped: true,
    });
    expect(only('sat==-3')).toMatchObject({ spec: { kind: 'absolute', value: 0 }, clamped: true });
    expect(only('sat=140%')).toMatchObject({ spec: { kind: 'absolute', value: 1 }, clamped: true });
    expect(only('sat=0.5').clamped).toBeUndefined();
  });
});

describe('int values', () => {
  it.each([
    ['rotate=90', 90],
    ['rotate=1.0', 1],
    ['rotate==-90', -90],
    ['rotate=50%', 0],
    ['rotate=75%', 90],
    ['rotate=12.5%', -135],
    ['rotate=min', -180],
    ['rotate=mid', 0],
    ['rotate=max', 180],
  ])('%j is absolute %d', (text, value) => {
    expect(only(text).spec).toEqual({ kind: 'absolute', value });
  });

  it('rounds percent results to whole numbers, halves away from zero', () => {
    const percentRig = rigWith([
      { name: 'steps', address: '/s', kind: 'int', min: 0, max: 3, out: { min: 0, max: 1, unit: 'V' } },
    ]);
    expect(only('steps=50%', percentRig).spec).toEqual({ kind: 'absolute', value: 2 });
    expect(only('steps=+1%', percentRig).spec).toEqual({ kind: 'relative', delta: 0 });
    expect(only('steps=+50%', percentRig).spec).toEqual({ kind: 'relative', delta: 2 });
    expect(only('steps=-50%', percentRig).spec).toEqual({ kind: 'relative', delta: -2 });
  });

  it.each([
    ['rotate=+10', 10],
    ['rotate=-10', -10],
    ['rotate=-5%', -18],
    ['rotate=+1%', 4],
  ])('%j is a whole relative change of %d', (text, delta) => {
    expect(only(text).spec).toEqual({ kind: 'relative', delta });
  });

  it('refuses a literal with a fraction', () => {
    const rejection = rejected('rotate=1.5');
    expect(rejection.code).toBe('bad_value');
    expect(rejection.detail).toMatch(/^rotate expects a whole number/);
    expect(rejected('rotate=+0.5').code).toBe('bad_value');
  });

  it('clamps when the variable clamps', () => {
    expect(only('rotate=999')).toMatchObject({ spec: { kind: 'absolute', value: 180 }, clamped: true });
  });
});

describe('bool values', () => {
  it.each([
    ['invert=1', 1],
    ['invert=0', 0],
    ['invert=on', 1],
    ['invert=off', 0],
    ['invert=TRUE', 1],
    ['invert=false', 0],
    ['invert=max', 1],
    ['invert=min', 0],
    ['!invert on', 1],
    ['invert==1', 1],
  ])('%j is %d', (text, value) => {
    expect(only(text).spec).toEqual({ kind: 'absolute', value });
  });

  it.each(['invert=+1', 'invert=-1', 'invert=50%', 'invert=2', 'invert=0.5', 'invert=mid', 'invert=yes'])(
    '%j is a bad value',
    (text) => {
      const rejection = rejected(text);
      expect(rejection.code).toBe('bad_value');
      expect(rejection.detail).toContain('0, 1, on, off, true or false');
    },
  );
});

describe('enum values', () => {
  it.each([
    ['shape=ramp', 0],
    ['shape=SINE', 2],
    ['shape=Square', 3],
    ['shape=2', 2],
    ['shape=0', 0],
    ['shape=min', 0],
    ['shape=mid', 2],
    ['shape=max', 3],
    ['shape=on', 3],
    ['shape=off', 0],
    ['shape=100%', 3],
  ])('%j is index %d', (text, value) => {
    expect(only(text).spec).toEqual({ kind: 'absolute', value });
  });

  it('steps with +1 and -1', () => {
    expect(only('shape=+1').spec).toEqual({ kind: 'relative', delta: 1 });
    expect(only('shape=-1').spec).toEqual({ kind: 'relative', delta: -1 });
  });

  it('refuses indexes past the end and fractional indexes', () => {
    expect(rejected('shape=4')).toEqual({
      code: 'out_of_range',
      detail: 'shape=4 is outside 0–3 (shape does not clamp)',
    });
    expect(rejected('shape=1.5').code).toBe('bad_value');
    expect(rejected('shape=+0.5').code).toBe('bad_value');
    expect(rejected('shape=circle').detail).toContain('ramp, triangle, sine, square');
  });

  it('lets an enum value named like a keyword mean the value', () => {
    const rig = rigWith([
      {
        name: 'mode',
        address: '/m',
        kind: 'enum',
        values: ['on', 'off', 'auto'],
        out: { min: 0, max: 1, unit: 'norm' },
      },
    ]);
    expect(only('mode=off', rig).spec).toEqual({ kind: 'absolute', value: 1 });
    expect(only('mode=on', rig).spec).toEqual({ kind: 'absolute', value: 0 });
    expect(only('mode=max', rig).spec).toEqual({ kind: 'absolute', value: 2 });
  });
});

describe('rejections, in the order they are checked', () => {
  it.each(['', '   ', '\t\r\n', '\u3000'])('%j is empty', (text) => {
    expect(rejected(text).code).toBe('empty');
  });

  it('refuses more than 256 characters, counting code points', () => {
    const long = `hue=0.${'4'.repeat(MAX_MESSAGE_LENGTH)}`;
    expect(rejected(long)).toEqual({
      code: 'too_long',
      detail: `the message is ${long.length} characters long; at most ${MAX_MESSAGE_LENGTH} are allowed`,
    });
    // 256 emoji are 512 UTF-16 units but 256 characters: not too long (they fail later as plain chat).
    expect(rejected('😀'.repeat(MAX_MESSAGE_LENGTH)).code).toBe('bad_value');
    expect(rejected('😀'.repeat(MAX_MESSAGE_LENGTH + 1)).code).toBe('too_long');
    // Surrounding whitespace does not count.
    expect(accepted(`${' '.repeat(300)}hue=0.4${' '.repeat(300)}`)).toHaveLength(1);
  });

  it('checks the length before the characters', () => {
    expect(rejected(`\u0000${'x'.repeat(MAX_MESSAGE_LENGTH)}`).code).toBe('too_long');
  });

  it.each([
    ['hue=0.4\u0000', 'U+0000', 'a control character', 8],
    ['hue=\u00070.4', 'U+0007', 'a control character', 5],
    ['hue\u0085=1', 'U+0085', 'a control character', 4],
    ['hue=0.4\u200b', 'U+200B', 'an invisible formatting character', 8],
    ['hue=0.4\u200d', 'U+200D', 'an invisible formatting character', 8],
    ['\u202ehue=0.4', 'U+202E', 'an invisible formatting character', 1],
    ['\ufeffhue=0.4', 'U+FEFF', 'an invisible formatting character', 1],
    ['hue=0.4\u2028', 'U+2028', 'a line separator', 8],
    ['hue=0.4\u2029sat=1', 'U+2029', 'a paragraph separator', 8],
    ['hue=\ud800', 'U+D800', 'an unpaired surrogate', 5],
    ['hue=0.4 sat=1\n\nbright=0', 'U+000A', 'a control character', 14],
    ['😀😀 hue=\u200b', 'U+200B', 'an invisible formatting character', 8],
    ['  hue=\u200b', 'U+200B', 'an invisible formatting character', 7],
  ])('%j has a bad character %s', (text, hex, what, position) => {
    const rejection = rejected(text);
    expect(rejection.code).toBe('bad_char');
    expect(rejection.detail).toContain(hex);
    expect(rejection.detail).toContain(what);
    expect(rejection.detail).toContain(`at character ${position}`);
  });

  it('refuses more than 8 assignments, before looking at names', () => {
    expect(rejected(Array.from({ length: 9 }, () => 'hue=0.1').join(' '))).toEqual({
      code: 'too_many',
      detail: 'the message sets 9 values; at most 8 are allowed in one message',
    });
    expect(rejected(Array.from({ length: 9 }, (_, index) => `nothing${index}=x`).join(' ')).code).toBe('too_many');
    expect(rejected('!set a 1 b 2 c 3 d 4 e 5 f 6 g 7 h 8 i 9').code).toBe('too_many');
  });

  it('names the closest variable for an obvious typo', () => {
    expect(rejected('hu=0.4')).toEqual({
      code: 'unknown_variable',
      detail: 'unknown variable "hu": did you mean hue?',
    });
    expect(rejected('heu=0.4').detail).toContain('did you mean hue?');
    expect(rejected('rotat=1').detail).toContain('did you mean rotate?');
    expect(rejected('!hye 0.4').detail).toContain('did you mean hue?');
  });

  it('lists the known variables when no name is obviously meant', () => {
    const rejection = rejected('volume=0.4');
    expect(rejection.code).toBe('unknown_variable');
    expect(rejection.detail).toBe(
      'unknown variable "volume"; known variables: hue, sat, bright, zoom, rotate, speed, shape, invert',
    );
  });

  it('treats a ! command that is neither set nor a variable as an unknown variable', () => {
    const rejection = rejected('!hello everyone');
    expect(rejection.code).toBe('unknown_variable');
    expect(rejection.detail).toMatch(/^"!hello" is neither !set nor a variable; known variables: hue, /);
    expect(rejected('!').code).toBe('unknown_variable');
    expect(rejected('=0.4').code).toBe('unknown_variable');
  });

  it('does not fold non-ASCII letters into names', () => {
    // U+212A KELVIN SIGN lower-cases to "k" in Unicode; it must not reach a variable called "k".
    const rig = rigWith([{ name: 'k', address: '/k', kind: 'float', out: { min: 0, max: 1, unit: 'V' } }]);
    expect(only('K=0.5', rig).variable).toBe('k');
    expect(rejected('\u212a=0.5', rig).code).toBe('unknown_variable');
  });

  it.each([
    'hue=NaN',
    'hue=nan',
    'hue=Infinity',
    'hue=-Infinity',
    'hue=1e999',
    'hue=+1e999',
    'hue=abc',
    'hue=0x1',
    'hue=1_0',
    'hue=0,5',
    'hue=0.4.5',
    'hue=1e',
    'hue=%',
    'hue=+',
    'hue=-',
    'hue==',
    'hue=+-1',
    'hue=--1',
    'hue=+max',
    'hue=0.4=1',
    'hue=true',
    'hue=٣',
  ])('%j is a bad value', (text) => {
    const rejection = rejected(text);
    expect(rejection.code).toBe('bad_value');
    expect(rejection.detail).toMatch(/expected/);
  });

  it('refuses a relative percent too large to be a number', () => {
    const wide = rigWith([
      { name: 'wide', address: '/w', kind: 'float', min: -1e300, max: 1e300, out: { min: 0, max: 1, unit: 'V' } },
    ]);
    expect(rejected('wide=+1e308%', wide).code).toBe('bad_value');
    // A huge but finite change is fine: relative changes stop at the bounds.
    expect(only('speed=+1e308%').spec).toEqual({ kind: 'relative', delta: 1e307 });
  });

  it('says what is expected for plain chat and stray words', () => {
    expect(rejected('hello world')).toEqual({
      code: 'bad_value',
      detail: '"hello world" is not a command: expected hue=0.4, !hue 0.4 or !set hue 0.4 (several: hue=0.4 sat=80%)',
    });
    expect(rejected('I love hue=0.4').code).toBe('bad_value');
    expect(rejected('hue 0.4 sat=1')).toEqual({
      code: 'bad_value',
      detail: 'hue needs "=" before its value: write hue=0.4 or !hue 0.4',
    });
    expect(rejected('!set').code).toBe('bad_value');
    expect(rejected('!hue').detail).toMatch(/^hue needs a value/);
    expect(rejected('hue=').detail).toMatch(/^hue needs a value/);
    expect(rejected('!set hue sat=1').detail).toMatch(/^hue needs a value/);
  });

  it('refuses values outside the range of a variable that does not clamp', () => {
    expect(rejected('hue=1.4')).toEqual({
      code: 'out_of_range',
      detail: 'hue=1.4 is outside 0–1 (hue does not clamp)',
    });
    expect(rejected('hue=140%')).toEqual({
      code: 'out_of_range',
      detail: 'hue=140% is outside 0–100% (hue does not clamp)',
    });
    expect(rejected('zoom==-2')).toEqual({
      code: 'out_of_range',
      detail: 'zoom==-2 is outside -1 to 1 (zoom does not clamp)',
    });
    expect(rejected('speed=11').code).toBe('out_of_range');
    expect(rejected('hue==-0.1').code).toBe('out_of_range');
  });

  it('reports unknown names before bad values and bad values before out-of-range ones', () => {
    expect(rejected('hue=abc nope=1').code).toBe('unknown_variable');
    expect(rejected('hue=2 sat=abc').code).toBe('bad_value');
    expect(rejected('sat=abc hue=2').code).toBe('bad_value');
    expect(rejected('hue=2 sat=0.5').code).toBe('out_of_range');
  });

  it('rejects the whole message when one assignment is wrong', () => {
    expect(rejected('hue=0.4 sat=0.5 zoom=nope').code).toBe('bad_value');
    expect(rejected('hue=0.1 hue=2').code).toBe('out_of_range');
  });

  it('never throws on non-string input at run time', () => {
    expect(validator.validate(undefined as unknown as string).ok).toBe(false);
    expect(validator.validate(42 as unknown as string).ok).toBe(false);
  });
});

describe('resolveValue and defaultValue', () => {
  const hue = variableOf('hue');
  const rotate = variableOf('rotate');
  const shape = variableOf('shape');
  const invert = variableOf('invert');
  const zoom = variableOf('zoom');

  it('returns absolute values as they are', () => {
    expect(resolveValue(hue, { kind: 'absolute', value: 0.4 }, 0.9)).toBe(0.4);
    expect(resolveValue(shape, { kind: 'absolute', value: 2 }, 0)).toBe(2);
  });

  it('adds relative changes to the current value and holds them inside the range', () => {
    expect(resolveValue(hue, { kind: 'relative', delta: 0.1 }, 0.5)).toBeCloseTo(0.6, 12);
    expect(resolveValue(hue, { kind: 'relative', delta: 0.3 }, 0.9)).toBe(1);
    expect(resolveValue(hue, { kind: 'relative', delta: -0.3 }, 0.1)).toBe(0);
    expect(resolveValue(zoom, { kind: 'relative', delta: -0.5 }, -0.75)).toBe(-1);
    expect(resolveValue(rotate, { kind: 'relative', delta: 18 }, 170)).toBe(180);
  });

  it('steps enums and rounds whole kinds', () => {
    expect(resolveValue(shape, { kind: 'relative', delta: 1 }, 3)).toBe(3);
    expect(resolveValue(shape, { kind: 'relative', delta: -1 }, 0)).toBe(0);
    expect(resolveValue(shape, { kind: 'relative', delta: 1 }, 1)).toBe(2);
    expect(resolveValue(rotate, { kind: 'relative', delta: 0.6 }, 10)).toBe(11);
  });

  it('starts from the default when the current value is not a number', () => {
    expect(resolveValue(hue, { kind: 'relative', delta: 0.1 }, Number.NaN)).toBeCloseTo(0.6, 12);
  });

  it('gives the rig default, an enum default name as its index, else the minimum', () => {
    expect(defaultValue(hue)).toBe(0.5);
    expect(defaultValue(shape)).toBe(0);
    expect(defaultValue(invert)).toBe(0);
    const rig = RigSchema.parse({
      name: 'defaults',
      osc: { port: 9000 },
      variables: [
        { name: 'level', address: '/l', kind: 'float', min: -1, max: 1, out: { min: 0, max: 1, unit: 'V' } },
        {
          name: 'wave',
          address: '/w',
          kind: 'enum',
          values: ['a', 'b', 'c'],
          default: 'c',
          out: { min: 0, max: 1, unit: 'V' },
        },
        { name: 'gate', address: '/g', kind: 'bool', default: 1, out: { min: 0, max: 1, unit: 'V' } },
      ],
    });
    expect(rig.variables.map(defaultValue)).toEqual([-1, 2, 1]);
  });

  it('gives native bounds: enum indexes and bool 0/1', () => {
    expect(valueBounds(shape)).toEqual({ min: 0, max: 3 });
    expect(valueBounds(invert)).toEqual({ min: 0, max: 1 });
    expect(valueBounds(rotate)).toEqual({ min: -180, max: 180 });
  });
});
