/**
 * The stable rejection codes. Reports, thresholds and dashboards key on these strings,
 * so they never change meaning; add new ones at the end.
 */
export const REJECTION_CODES = [
  'empty',
  'too_long',
  'too_many',
  'bad_char',
  'unknown_variable',
  'bad_value',
  'out_of_range',
  'rate_limited_user',
  'rate_limited_global',
  'cooldown',
] as const;

export type RejectionCode = (typeof REJECTION_CODES)[number];

/** Codes decided by the grammar alone (no state, no limiter). */
export const VALIDATION_CODES = [
  'empty',
  'too_long',
  'too_many',
  'bad_char',
  'unknown_variable',
  'bad_value',
  'out_of_range',
] as const satisfies readonly RejectionCode[];

/** Grammar limits, from DESIGN.md. */
export const MAX_MESSAGE_LENGTH = 256;
export const MAX_ASSIGNMENTS = 8;
