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
    const span = max - min;
    // A range wider than Number.MAX_VALUE is measured in halves, which cannot overflow.
    if (Number.isFinite(span)) fraction = span > 0 ? (value - min) / span : 0;
    else fraction = (value / 2 - min / 2) / (max / 2 - min / 2);
  }
  // NaN fails both comparisons and lands on out.min.
  if (!(fraction > 0)) fraction = 0;
  else if (fraction > 1) fraction = 1;
  const { min: outMin, max: outMax } = variable.out;
  // out.min + fraction·span is monotonic in the fraction (a sweep never steps back), and exact at 0;
  // 1 is exact by the special case. Spans too wide for a double are taken in halves.
  const outSpan = outMax - outMin;
  const offset = Number.isFinite(outSpan) ? fraction * outSpan : fraction * (outMax / 2 - outMin / 2) * 2;
  const scaled = fraction === 1 ? outMax : outMin + offset;
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
