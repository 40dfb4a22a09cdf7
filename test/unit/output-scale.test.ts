import { describe, expect, it } from 'vitest';
import { RigSchema, type RigInput } from '../../src/shared/rig';
import { oscTypeTag, scaleToOutput } from '../../src/main/lab/common/output-scale';

function variable(input: RigInput['variables'][number]) {
  const rig = RigSchema.parse({ name: 'scale', osc: { port: 9000 }, variables: [input] });
  return rig.variables[0] as (typeof rig.variables)[number];
}

describe('scaleToOutput', () => {
  it('maps a 0–1 variable onto a 0–1 V output unchanged', () => {
    const hue = variable({
      name: 'hue',
      address: '/h',
      kind: 'float',
      min: 0,
      max: 1,
      out: { min: 0, max: 1, unit: 'V' },
    });
    expect(scaleToOutput(hue, 0)).toBe(0);
    expect(scaleToOutput(hue, 0.4)).toBeCloseTo(0.4, 15);
    expect(scaleToOutput(hue, 1)).toBe(1);
  });

  it('maps a 0–10 variable onto ±1 V', () => {
    const speed = variable({
      name: 'speed',
      address: '/s',
      kind: 'float',
      min: 0,
      max: 10,
      out: { min: -1, max: 1, unit: 'V' },
    });
    expect(scaleToOutput(speed, 0)).toBe(-1);
    expect(scaleToOutput(speed, 5)).toBe(0);
    expect(scaleToOutput(speed, 7.5)).toBeCloseTo(0.5, 15);
    expect(scaleToOutput(speed, 10)).toBe(1);
  });

  it('maps a bipolar variable onto ±1 V and onto a reversed range', () => {
    const zoom = variable({
      name: 'zoom',
      address: '/z',
      kind: 'float',
      min: -1,
      max: 1,
      out: { min: -1, max: 1, unit: 'V' },
    });
    expect(scaleToOutput(zoom, -0.5)).toBe(-0.5);
    const reversed = variable({
      name: 'zoom',
      address: '/z',
      kind: 'float',
      min: -1,
      max: 1,
      out: { min: 1, max: -1, unit: 'V' },
    });
    expect(scaleToOutput(reversed, -1)).toBe(1);
    expect(scaleToOutput(reversed, 0.5)).toBeCloseTo(-0.5, 15);
  });

  it('maps an int variable linearly', () => {
    const rotate = variable({
      name: 'rotate',
      address: '/r',
      kind: 'int',
      min: -180,
      max: 180,
      out: { min: -1, max: 1, unit: 'V' },
    });
    expect(scaleToOutput(rotate, -180)).toBe(-1);
    expect(scaleToOutput(rotate, 0)).toBe(0);
    expect(scaleToOutput(rotate, 90)).toBeCloseTo(0.5, 15);
    expect(scaleToOutput(rotate, 180)).toBe(1);
  });

  it('maps an enum index as index / (n − 1), ignoring the rig min and max', () => {
    const shape = variable({
      name: 'shape',
      address: '/w',
      kind: 'enum',
      min: 5,
      max: 9,
      values: ['ramp', 'triangle', 'sine', 'square'],
      out: { min: 0, max: 1, unit: 'V' },
    });
    expect([0, 1, 2, 3].map((index) => scaleToOutput(shape, index))).toEqual([0, 1 / 3, 2 / 3, 1]);
  });

  it('maps a bool to out.min and out.max', () => {
    const gate = variable({ name: 'gate', address: '/g', kind: 'bool', out: { min: 0, max: 2, unit: 'V' } });
    expect(scaleToOutput(gate, 0)).toBe(0);
    expect(scaleToOutput(gate, 1)).toBe(2);
  });

  it('never leaves the output range, even for values outside the variable range or NaN', () => {
    const hue = variable({
      name: 'hue',
      address: '/h',
      kind: 'float',
      min: 0,
      max: 1,
      out: { min: 0, max: 1, unit: 'V' },
    });
    expect(scaleToOutput(hue, 3)).toBe(1);
    expect(scaleToOutput(hue, -3)).toBe(0);
    expect(scaleToOutput(hue, Number.NaN)).toBe(0);
    expect(scaleToOutput(hue, Number.POSITIVE_INFINITY)).toBe(1);
  });
});

describe('oscTypeTag', () => {
  it('sends every kind as a float', () => {
    for (const kind of ['float', 'int', 'bool'] as const) {
      expect(oscTypeTag(variable({ name: 'v', address: '/v', kind, out: { min: 0, max: 1, unit: 'norm' } }))).toBe('f');
    }
    expect(
      oscTypeTag(
        variable({ name: 'v', address: '/v', kind: 'enum', values: ['a', 'b'], out: { min: 0, max: 1, unit: 'norm' } }),
      ),
    ).toBe('f');
  });
});
