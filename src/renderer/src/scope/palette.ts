// Colour-blind-safe trace colours, readable on the scope's near-black. Stages use Okabe-Ito
// (without its black and dark blue); outcomes use Tableau 10, and where twelve codes outnumber
// its ten colours the last two repeat a colour with a dashed line.

/** validate, limit, store, encode, send, tap (LATENCY_STAGES order). */
export const STAGE_COLORS = ['#009e73', '#56b4e9', '#cc79a7', '#e69f00', '#d55e00', '#f0e442'] as const;

export const E2E_COLORS = { p50: '#56b4e9', p99: '#e69f00', max: '#cc79a7' } as const;

/** One look per outcome code (the codes spelled as the engine and the reports spell them). */
export const OUTCOME_STYLES: Readonly<Record<string, { color: string; dash?: number[] }>> = {
  accepted: { color: '#59a14f' },
  failed: { color: '#e15759' },
  rate_limited_user: { color: '#f28e2b' },
  rate_limited_global: { color: '#edc948' },
  cooldown: { color: '#b07aa1' },
  empty: { color: '#bab0ac' },
  too_long: { color: '#9c755f' },
  too_many: { color: '#ff9da7' },
  bad_char: { color: '#76b7b2' },
  unknown_variable: { color: '#4e79a7' },
  bad_value: { color: '#bab0ac', dash: [6, 3] },
  out_of_range: { color: '#76b7b2', dash: [6, 3] },
};
