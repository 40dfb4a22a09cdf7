import type { VariableConfig } from '../../../shared/rig';
import { lowerBound, upperBound } from './value-resolver';

/**
 * A variable's output scaling with what it reads taken out of the rig once, in one shape for
 * every kind of variable (rig variables of different kinds have different shapes). The OSC
 * output keeps one per variable: scaling a message's value then allocates nothing.
 */
export class OutputScale {
  // Numbers from the start: a field declared without a value starts as undefined, and V8 then
  // keeps it generic and boxes the doubles computed from it (32 bytes a call, measured).
  readonly bool: boolean = false;
  readonly min: number = 0.5;
  readonly max: number = 0.5;
  readonly outMin: number = 0.5;
  readonly outMax: number = 0.5;

  constructor(variable: VariableConfig) {
    this.bool = variable.kind === 'bool';
    this.min = lowerBound(variable);
    this.max = upperBound(variable);
    this.outMin = variable.out.min;
    this.outMax = variable.out.max;
  }

  /**
   * The number the OSC-to-CV converter receives for a native value: a linear map from
   * [min, max] (enum: index 0..n−1; bool: 0/1) to [out.min, out.max]. The result never leaves
   * the output range, so a bad value can never drive a patch point past the levels the rig
   * declared.
   */
  of(value: number): number {
    let fraction: number;
    if (this.bool) {
      fraction = value >= 0.5 ? 1 : 0;
    } else {
      const min = this.min;
      const max = this.max;
      const span = max - min;
      // A range wider than Number.MAX_VALUE is measured in halves, which cannot overflow.
      if (Number.isFinite(span)) fraction = span > 0 ? (value - min) / span : 0;
      else fraction = (value / 2 - min / 2) / (max / 2 - min / 2);
    }
    // NaN fails both comparisons and lands on out.min.
    if (!(fraction > 0)) fraction = 0;
    else if (fraction > 1) fraction = 1;
    const outMin = this.outMin;
    const outMax = this.outMax;
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
}

/** The number the OSC-to-CV converter receives for a variable's native value (OutputScale.of). */
export function scaleToOutput(variable: VariableConfig, value: number): number {
  return new OutputScale(variable).of(value);
}

/**
 * The OSC type tag a variable's value is sent with. CV converters take floats for every kind,
 * so this is always 'f'; it lives here so one place decides.
 */
export function oscTypeTag(_variable: VariableConfig): 'f' | 'i' {
  return 'f';
}
