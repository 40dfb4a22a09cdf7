import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ValidationResult, ValueSpec } from '../../src/shared/message';
import { MAX_ASSIGNMENTS, VALIDATION_CODES } from '../../src/shared/rejection';
import { RigSchema, type RigConfig, type RigInput, type VariableConfig } from '../../src/shared/rig';
import { MessageValidator, ParsedAssignments } from '../../src/main/lab/common/message-validator';
import { scaleToOutput } from '../../src/main/lab/common/output-scale';
import { lowerBound, resolveValue, upperBound } from '../../src/main/lab/common/value-resolver';

// PROPERTY_RUNS_SCALE=20 runs every property twenty times longer (a deeper search than CI's).
const runScale = Number(process.env.PROPERTY_RUNS_SCALE ?? '1') || 1;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Math.ceil(numRuns * runScale) });

const demo = RigSchema.parse(
  JSON.parse(readFileSync(new URL('../../resources/rigs/demo.json', import.meta.url), 'utf8')),
);
const demoValidator = new MessageValidator(demo);

/** Checks the shape of any result and, for accepted ones, that every value fits its variable. */
function checkResult(rig: RigConfig, result: ValidationResult): void {
  if (!result.ok) {
    expect(VALIDATION_CODES).toContain(result.rejection.code);
    expect(result.rejection.detail.length).toBeGreaterThan(0);
    return;
  }
  expect(result.assignments.length).toBeGreaterThan(0);
  expect(result.assignments.length).toBeLessThanOrEqual(MAX_ASSIGNMENTS);
  const seen = new Set<string>();
  for (const assignment of result.assignments) {
    const variable = rig.variables.find((candidate) => candidate.name === assignment.variable);
    expect(variable, `assignment to unknown variable ${assignment.variable}`).toBeDefined();
    expect(seen.has(assignment.variable), 'a variable appears twice').toBe(false);
    seen.add(assignment.variable);
    checkSpec(variable as VariableConfig, assignment.spec, assignment.clamped);
  }
}

function checkSpec(variable: VariableConfig, spec: ValueSpec, clamped: boolean | undefined): void {
  const whole = variable.kind !== 'float';
  if (clamped) expect(variable.clamp).toBe(true);
  if (spec.kind === 'absolute') {
    expect(spec.value).toBeGreaterThanOrEqual(lowerBound(variable));
    expect(spec.value).toBeLessThanOrEqual(upperBound(variable));
    if (whole) expect(Number.isInteger(spec.value)).toBe(true);
    expect(Object.is(spec.value, -0)).toBe(false);
  } else {
    expect(variable.kind).not.toBe('bool');
    expect(Number.isFinite(spec.delta)).toBe(true);
    if (whole) expect(Number.isInteger(spec.delta)).toBe(true);
  }
}

const nameCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789_';
const variableName = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'),
    fc.string({ unit: fc.constantFrom(...nameCharacters), maxLength: 8 }),
  )
  .map(([first, rest]) => first + rest);
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
const outputRange = fc
  .tuple(fc.double({ noNaN: true, min: -10, max: 10 }), fc.double({ noNaN: true, min: -10, max: 10 }))
  .filter(([a, b]) => a !== b)
  .map(([min, max]) => ({ min, max, unit: 'V' as const }));
const floatRange = fc.oneof(
  fc.tuple(fc.double({ noNaN: true, min: -1000, max: 1000 }), fc.double({ noNaN: true, min: -1000, max: 1000 })),
  fc.tuple(finiteDouble, finiteDouble),
);
const intRange = fc.tuple(fc.integer({ min: -100_000, max: 100_000 }), fc.integer({ min: -100_000, max: 100_000 }));
const enumValues = fc.uniqueArray(
  fc.constantFrom('ramp', 'sine', 'on', 'off', 'min', 'max', 'mid', 'a', 'b', 'c1', 'true'),
  {
    minLength: 2,
    maxLength: 6,
  },
);

type VariableInput = RigInput['variables'][number];
const variableShape = fc.oneof(
  fc
    .record({ range: floatRange, clamp: fc.boolean(), out: outputRange })
    .filter(({ range: [min, max] }) => min < max)
    .map(({ range: [min, max], clamp, out }) => ({ kind: 'float' as const, min, max, clamp, out })),
  fc
    .record({ range: intRange, clamp: fc.boolean(), out: outputRange })
    .filter(({ range: [min, max] }) => min < max)
    .map(({ range: [min, max], clamp, out }) => ({ kind: 'int' as const, min, max, clamp, out })),
  fc.record({ clamp: fc.boolean(), out: outputRange }).map(({ clamp, out }) => ({ kind: 'bool' as const, clamp, out })),
  fc
    .record({ values: enumValues, clamp: fc.boolean(), out: outputRange })
    .map(({ values, clamp, out }) => ({ kind: 'enum' as const, values, clamp, out })),
);
const randomRig = fc
  .uniqueArray(fc.tuple(variableName, variableShape), { minLength: 1, maxLength: 6, selector: ([name]) => name })
  .map((variables) =>
    RigSchema.parse({
      name: 'random',
      osc: { port: 9000 },
      variables: variables.map(([name, shape]): VariableInput => ({ name, address: `/rig/${name}`, ...shape })),
    }),
  );

const numberText = fc.oneof(
  fc.double().map(String),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.double({ min: 0, max: 1, noNaN: true }).map(String),
);
const valueText = fc.oneof(
  numberText,
  fc
    .tuple(
      fc.constantFrom('', '=', '+', '-', '=-', '=+', '==', '+-'),
      numberText,
      fc.constantFrom('', '%', '%%', '.', 'e'),
    )
    .map((parts) => parts.join('')),
  fc.constantFrom(
    'min',
    'mid',
    'max',
    'on',
    'off',
    'true',
    'false',
    'MAX',
    'On',
    'sine',
    'SINE',
    'ramp',
    '=max',
    '+max',
  ),
  fc.constantFrom(
    '',
    '=',
    '%',
    '+',
    '-',
    '.',
    '.5',
    '5.',
    '1e-2',
    '1e999',
    '-1e999',
    'NaN',
    'Infinity',
    '0x10',
    '1_0',
    '٣',
    '１',
  ),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);

/** Names close to real ones: right, wrong case, one letter off, or junk. */
function nameText(names: readonly string[]) {
  const known = fc.constantFrom(...names);
  return fc.oneof(
    known,
    known.map((name) => name.toUpperCase()),
    fc.tuple(known, fc.nat(), fc.constantFrom('', 'x', 'e', '!', '=', ' ')).map(([name, at, insert]) => {
      const cut = at % (name.length + 1);
      return name.slice(0, cut) + insert + name.slice(cut + 1);
    }),
    fc.constantFrom('set', '!set', 'hue', 'zoom', ''),
    fc.string({ maxLength: 5 }),
  );
}

/** Messages that look almost like commands: prefixes, separators and spacing vary. */
function nearMiss(names: readonly string[]) {
  const assignment = fc
    .tuple(nameText(names), fc.constantFrom('=', '==', ' ', ' = ', '= ', ' =', '', '\u00a0=\u00a0'), valueText)
    .map(([name, separator, value]) => `${name}${separator}${value}`);
  return fc
    .tuple(
      fc.constantFrom('', '!', '!set ', '!SET ', '!!', '! ', ' '),
      fc.array(assignment, { minLength: 1, maxLength: 10 }),
      fc.constantFrom(' ', '  ', '\u3000', '\t', ''),
      fc.constantFrom('', ' ', '\n', '\u200b', '\ufeff'),
    )
    .map(([prefix, assignments, gap, suffix]) => prefix + assignments.join(gap) + suffix);
}

describe('validate never throws', () => {
  it('on arbitrary grapheme strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) =>
        checkResult(demo, demoValidator.validate(text)),
      ),
      runs(2000),
    );
  });

  it('on arbitrary UTF-16 (lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) =>
        checkResult(demo, demoValidator.validate(text)),
      ),
      runs(2000),
    );
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
          maxLength: 300,
        }),
        (text) => checkResult(demo, demoValidator.validate(text)),
      ),
      runs(2000),
    );
  });

  it('on long strings around the length limit', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 200, maxLength: 700 }), (text) =>
        checkResult(demo, demoValidator.validate(text)),
      ),
      runs(300),
    );
  });

  it('on near-miss commands against the demo rig', () => {
    const names = demo.variables.map((variable) => variable.name);
    fc.assert(
      fc.property(nearMiss(names), (text) => checkResult(demo, demoValidator.validate(text))),
      runs(5000),
    );
  });

  it('on near-miss commands against random rigs', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) => fc.tuple(fc.constant(rig), nearMiss(rig.variables.map((variable) => variable.name)))),
        ([rig, text]) => checkResult(rig, new MessageValidator(rig).validate(text)),
      ),
      runs(2000),
    );
  });
});

/** validateInto (the hot path's reader) must agree with validate() on every text. */
function sameAsValidate(validator: MessageValidator, text: string): void {
  const parsed = new ParsedAssignments();
  const rejection = validator.validateInto(text, parsed);
  const result = validator.validate(text);
  if (!result.ok) {
    expect(rejection?.code, text).toBe(result.rejection.code);
    expect(rejection?.detail, text).toBe(result.rejection.detail);
    return;
  }
  expect(rejection, text).toBeUndefined();
  expect(
    parsed.toAssignments().map((assignment) => [assignment.variable, assignment.spec]),
    text,
  ).toEqual(result.assignments.map((assignment) => [assignment.variable, assignment.spec]));
}

describe('validateInto agrees with validate', () => {
  it('on near-miss commands against the demo rig', () => {
    const names = demo.variables.map((variable) => variable.name);
    fc.assert(fc.property(nearMiss(names), (text) => sameAsValidate(demoValidator, text)), runs(5000));
  });

  it('on plain assignments against random rigs', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.tuple(
            fc.constant(rig),
            fc
              .array(fc.tuple(nameText(rig.variables.map((variable) => variable.name)), valueText), { minLength: 1, maxLength: 10 })
              .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join(' ')),
          ),
        ),
        ([rig, text]) => sameAsValidate(new MessageValidator(rig), text),
      ),
      runs(3000),
    );
  });

  it('on awkward numbers', () => {
    const numbers = ['0', '00', '0.', '.0', '.', '%', '0%', '100%', '100.0%', '100.1%', '1', '1.0', '0.1', '0.30000000000000004', '0.000000000000000000000001', '0.0000000000000000000001', '123456789012345', '1234567890123456', '0.999999999999999999', '45', '45.0', '45.5', '180', '181', '2', '1.5', '3', '10', '9.999', '00.5', '5.5.5', '5..'];
    for (const name of ['hue', 'sat', 'zoom', 'rotate', 'speed', 'shape', 'invert', 'bright']) {
      for (const number of numbers) {
        for (const prefix of ['', '=', '+', '-', '=+', '=-', '==', '+-', '-+']) sameAsValidate(demoValidator, `${name}=${prefix}${number}`);
      }
    }
  });

  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => sameAsValidate(demoValidator, text)), runs(2000));
  });
});

describe('accepted values', () => {
  it('set with a leading "=" come back exactly, for any in-range number', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.tuple(fc.constant(rig), fc.constantFrom(...rig.variables), fc.double({ min: 0, max: 1, noNaN: true })),
        ),
        ([rig, variable, fraction]) => {
          const min = lowerBound(variable);
          const max = upperBound(variable);
          let value = Math.min(max, Math.max(min, min * (1 - fraction) + max * fraction));
          if (variable.kind !== 'float') value = Math.round(value);
          value += 0;
          const result = new MessageValidator(rig).validate(`${variable.name}==${value}`);
          expect(result).toEqual({
            ok: true,
            assignments: [{ variable: variable.name, spec: { kind: 'absolute', value }, raw: `=${value}` }],
          });
        },
      ),
      runs(2000),
    );
  });

  it('are inside the range for any number written, else refused as out of range or not whole', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.tuple(
            fc.constant(rig),
            fc.constantFrom(...rig.variables),
            fc.oneof(finiteDouble, fc.integer({ min: -200_000, max: 200_000 })),
            fc.constantFrom('==', '=', '=', ' = '),
          ),
        ),
        ([rig, variable, number, separator]) => {
          const result = new MessageValidator(rig).validate(`${variable.name}${separator}${number}`);
          checkResult(rig, result);
          if (!result.ok) {
            expect(['out_of_range', 'bad_value']).toContain(result.rejection.code);
            const inside = number >= lowerBound(variable) && number <= upperBound(variable);
            const whole = variable.kind === 'float' || Number.isInteger(number);
            const signed = separator !== '==' && number < 0;
            if (inside && whole && !signed)
              throw new Error(`${variable.name}${separator}${number} was refused: ${result.rejection.detail}`);
          }
        },
      ),
      runs(3000),
    );
  });

  it('resolve inside the range from any current value, and scale inside the output range', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.tuple(
            fc.constant(rig),
            fc.constantFrom(...rig.variables),
            valueText,
            fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.double()),
          ),
        ),
        ([rig, variable, value, current]) => {
          const result = new MessageValidator(rig).validate(`${variable.name}=${value}`);
          if (!result.ok) return;
          const min = lowerBound(variable);
          const max = upperBound(variable);
          // Half of the runs start from a current value inside the range, half from any double at all.
          const start = current >= 0 && current <= 1 ? min * (1 - current) + max * current : current;
          for (const assignment of result.assignments) {
            checkSpec(variable, assignment.spec, assignment.clamped);
            const resolved = resolveValue(variable, assignment.spec, start);
            expect(resolved).toBeGreaterThanOrEqual(min);
            expect(resolved).toBeLessThanOrEqual(max);
            if (variable.kind !== 'float') expect(Number.isInteger(resolved)).toBe(true);
            const scaled = scaleToOutput(variable, resolved);
            expect(scaled).toBeGreaterThanOrEqual(Math.min(variable.out.min, variable.out.max));
            expect(scaled).toBeLessThanOrEqual(Math.max(variable.out.min, variable.out.max));
          }
        },
      ),
      runs(5000),
    );
  });

  it('relative changes of the demo rig stay inside the range', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...demo.variables),
        fc.constantFrom('+', '-'),
        fc.oneof(
          fc.double({ min: 0, max: 1e6, noNaN: true }).map(String),
          fc.integer({ min: 0, max: 1000 }).map(String),
        ),
        fc.constantFrom('', '%'),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (variable, sign, magnitude, percent, fraction) => {
          const result = demoValidator.validate(`${variable.name}=${sign}${magnitude}${percent}`);
          if (!result.ok) {
            expect(result.rejection.code).toBe('bad_value');
            return;
          }
          const min = lowerBound(variable);
          const max = upperBound(variable);
          const current =
            variable.kind === 'float'
              ? min * (1 - fraction) + max * fraction
              : Math.round(min * (1 - fraction) + max * fraction);
          const spec = result.assignments[0]?.spec;
          expect(spec?.kind).toBe('relative');
          const resolved = resolveValue(variable, spec as NonNullable<typeof spec>, current);
          expect(resolved).toBeGreaterThanOrEqual(min);
          expect(resolved).toBeLessThanOrEqual(max);
        },
      ),
      runs(3000),
    );
  });
});

describe('scaleToOutput', () => {
  it('stays inside [out.min, out.max], in either order, for any value', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.tuple(
            fc.constantFrom(...rig.variables),
            fc.oneof(fc.double(), fc.double({ min: 0, max: 1, noNaN: true })),
          ),
        ),
        ([variable, value]) => {
          const scaled = scaleToOutput(variable, value);
          expect(Number.isNaN(scaled)).toBe(false);
          expect(scaled).toBeGreaterThanOrEqual(Math.min(variable.out.min, variable.out.max));
          expect(scaled).toBeLessThanOrEqual(Math.max(variable.out.min, variable.out.max));
        },
      ),
      runs(3000),
    );
  });

  it('is monotonic over the variable range', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) =>
          fc.constantFrom(...rig.variables).chain((variable) => {
            const inside = fc.double({ min: lowerBound(variable), max: upperBound(variable), noNaN: true });
            return fc.tuple(fc.constant(variable), inside, inside);
          }),
        ),
        ([variable, a, b]) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const direction = Math.sign(variable.out.max - variable.out.min);
          const difference = scaleToOutput(variable, high) - scaleToOutput(variable, low);
          expect(direction * difference).toBeGreaterThanOrEqual(0);
        },
      ),
      runs(2000),
    );
  });

  it('is exact at both ends of the range', () => {
    fc.assert(
      fc.property(
        randomRig.chain((rig) => fc.constantFrom(...rig.variables)),
        (variable) => {
          expect(scaleToOutput(variable, lowerBound(variable))).toBe(variable.out.min + 0);
          expect(scaleToOutput(variable, upperBound(variable))).toBe(variable.out.max + 0);
        },
      ),
      runs(1000),
    );
  });
});
