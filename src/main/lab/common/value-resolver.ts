import type { ValueSpec } from '../../../shared/message';
import type { VariableConfig } from '../../../shared/rig';

/**
 * A variable's range in its native units: enum → index 0..n−1, bool → 0..1, float/int → [min, max].
 * (The rig's min/max are meaningless for enum and bool, so they are ignored there.)
 */
export function valueBounds(variable: VariableConfig): { min: number; max: number } {
  return { min: lowerBound(variable), max: upperBound(variable) };
}

/** Lowest native value of a variable, without allocating (hot path). */
export function lowerBound(variable: VariableConfig): number {
  return variable.kind === 'enum' || variable.kind === 'bool' ? 0 : variable.min;
}

/** Highest native value of a variable, without allocating (hot path). */
export function upperBound(variable: VariableConfig): number {
  if (variable.kind === 'enum') return Math.max(0, (variable.values?.length ?? 1) - 1);
  if (variable.kind === 'bool') return 1;
  return variable.max;
}

/** int, enum and bool hold whole numbers only. */
export function isWholeKind(variable: VariableConfig): boolean {
  return variable.kind !== 'float';
}

/** Rounds to the nearest integer, halves away from zero (so +0.5 and −0.5 steps are symmetric), never −0. */
export function roundHalfAwayFromZero(value: number): number {
  const rounded = value < 0 ? -Math.round(-value) : Math.round(value);
  return rounded + 0;
}

/**
 * The value a variable takes after `spec`, given its current value. Absolute values were checked
 * (or clamped) by the validator and are returned as they are; relative changes add to the current
 * value and always stop at the bounds; whole kinds are rounded.
 */
export function resolveValue(variable: VariableConfig, spec: ValueSpec, current: number): number {
  if (spec.kind === 'absolute') return spec.value;
  return resolveRelative(variable, spec.delta, current);
}

/** The relative half of resolveValue: `delta` added to the current value, held in the range. */
export function resolveRelative(variable: VariableConfig, delta: number, current: number): number {
  const min = lowerBound(variable);
  const max = upperBound(variable);
  // A current value that is not a number (never written, corrupt store) starts from the default.
  const base = Number.isFinite(current) ? current : defaultValue(variable);
  // The same steps as the Redis commit script (redis-commit.lua.ts), so both stores agree exactly.
  let next = base + delta;
  if (!(next >= min)) next = min;
  else if (next > max) next = max;
  if (isWholeKind(variable)) {
    next = Math.floor(next + 0.5);
    if (next < min) next = min;
    else if (next > max) next = max;
  }
  return next + 0;
}

/** The value a variable starts with: the rig's default (an enum's default name → its index), else its minimum. */
export function defaultValue(variable: VariableConfig): number {
  const min = lowerBound(variable);
  const max = upperBound(variable);
  const configured = variable.default;
  if (variable.kind === 'enum') {
    if (typeof configured === 'string') return Math.max(0, variable.values?.indexOf(configured) ?? 0);
    if (typeof configured === 'number') return Math.min(max, Math.max(min, roundHalfAwayFromZero(configured)));
    return min;
  }
  if (variable.kind === 'bool') return typeof configured === 'number' && configured >= 0.5 ? 1 : 0;
  if (typeof configured !== 'number' || !Number.isFinite(configured)) return min;
  const value = variable.kind === 'int' ? roundHalfAwayFromZero(configured) : configured;
  return Math.min(max, Math.max(min, value));
}
