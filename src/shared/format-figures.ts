// Figures written the same way by the console, the HTML export and the terminal: enough digits
// that two different values never print alike, thousands separated, a no-break space before units.

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A latency or other figure with as many digits as its size needs: 0.000412, 0.0412, 1.23, 12.3, 1,234. */
export function formatFigure(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  if (magnitude >= 100 || Number.isInteger(value)) return GROUPED.format(value);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  // Three significant digits below 1, so 0.00041 does not print as 0.000.
  const digits = Math.min(9, Math.max(3, 2 - Math.floor(Math.log10(magnitude))));
  return value.toFixed(digits);
}

/** A relative change as a signed percentage: "+13.7 %", "−2.40 %" (two decimals below 1 %), "–" when unknown. */
export function formatChange(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return '–';
  const percent = change * 100;
  const digits = Math.abs(percent) < 1 ? 2 : Math.abs(percent) >= 100 ? 0 : 1;
  const text = Math.abs(percent).toFixed(digits);
  const sign = Number(text) === 0 ? '±' : percent > 0 ? '+' : '−';
  return `${sign}${text}\u00a0%`;
}

/** A ratio 0..1 as the terminal prints it: "1.47 %". */
export function formatRatioAsPercent(ratio: number | null | undefined, digits = 2): string {
  return ratio === null || ratio === undefined || !Number.isFinite(ratio) ? '–' : `${(ratio * 100).toFixed(digits)}\u00a0%`;
}

/** 12,345 (whole numbers with thousands separators). */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : GROUPED.format(value);
}
