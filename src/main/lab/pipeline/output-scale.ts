import type { VariableConfig } from '../../../shared/rig';
import { lowerBound, upperBound } from './value-resolver';

/**
 * The number the OSC-to-CV converter receives for a variable's native value: a linear map from
 * [min, max] (enum: index 0..n−1; bool: 0/1) to [out.min, out.max]. The result never leaves the
 * output range, so a bad value can never drive a patch point past the levels the rig declared.
 */
export function scaleToOutput(variable: VariableConfig, value: number): number {
  let fraction: number;
  if (variable.kind === 'bool') {
    fraction = value >= 0.5 ? 1 : 0;
  } else {
    const min = lowerBound(variable);
    const max = upperBound(variable);
    // Halves cannot overflow even for ranges near ±Number.MAX_VALUE.
    const span = max / 2 - min / 2;
    fraction = span > 0 ? (value / 2 - min / 2) / span : 0;
  }
  // NaN fails both comparisons and lands on out.min.
  if (!(fraction > 0)) fraction = 0;
  else if (fraction > 1) fraction = 1;
  const { min: outMin, max: outMax } = variable.out;
  // This form is exact at both ends (0 → out.min, 1 → out.max), unlike outMin + fraction·(outMax − outMin).
  const scaled = outMin * (1 - fraction) + outMax * fraction;
  const low = outMin < outMax ? outMin : outMax;
  const high = outMin < outMax ? outMax : outMin;
  if (scaled < low) return low;
  if (scaled > high) return high;
  return scaled + 0;
}

/**
 * The OSC type tag a variable's value is sent with. CV converters take floats for every kind,
 * so this is always 'f'; it lives here so one place decides.
 */
export function oscTypeTag(_variable: VariableConfig): 'f' | 'i' {
  return 'f';
}
