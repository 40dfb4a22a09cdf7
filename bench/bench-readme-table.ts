// The README's table of the last `npm run bench:all` against the goals, written between two
// markers so the command can replace it (and only it) each time.
import type { BenchResults, GoalRow } from './compare-bench-results';
import type { Goal } from './tracked-figures';

export const TABLE_START = '<!-- bench:all table: written by `npm run bench:all`, edits are overwritten -->';
export const TABLE_END = '<!-- /bench:all table -->';

/** A number as people read it: thousands grouped, at most three significant decimals. */
function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const magnitude = Math.abs(value);
  const digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

const withUnit = (value: number, unit: string): string => (unit === '' ? formatNumber(value) : unit === '×' ? `${formatNumber(value)}×` : `${formatNumber(value)} ${unit}`);

const goalText = (goal: Goal, unit: string): string => `${goal.op} ${withUnit(goal.value, unit)}`;

function row(goal: GoalRow): string {
  const value = goal.value === null ? 'no figure' : withUnit(goal.value, goal.unit);
  const verdict = goal.value === null ? '✘ missing' : goal.met ? '✔' : '✘';
  const load = goal.loadAverage1m === null ? '' : ` (${formatNumber(Math.round(goal.loadAverage1m * 100) / 100)}${goal.busy ? ', busy' : ''})`;
  return `| ${goal.label} | ${goalText(goal.goal, goal.unit)} | ${value} | ${verdict} | \`${goal.bench}\`${load} |`;
}

/** The table and the lines that say when, where and from what it was measured. */
export function benchReadmeTable(results: BenchResults, file: string): string {
  // `file`: the results file, as a path from the repository's root.
  const { machine } = results;
  const busy = results.goals.filter((goal) => goal.busy).map((goal) => goal.bench);
  const busyNote =
    busy.length > 0
      ? `\n\n**Not a quiet machine:** ${[...new Set(busy)].map((bench) => `\`${bench}\``).join(', ')} started with the 1-minute load average above ${results.loadLimit}; those figures are not the machine's.`
      : '';
  const met = results.goals.filter((goal) => goal.met).length;
  const worse = results.comparison.worse;
  const comparison =
    results.comparison.previous === null
      ? 'First run: nothing to compare with.'
      : worse.length === 0
        ? `Against \`${results.comparison.previous}\`: nothing worse than its noise.`
        : `Against \`${results.comparison.previous}\`, worse than its noise: ${worse.map((change) => `${change.label} ${formatNumber(change.previous)} → ${formatNumber(change.current)}`).join('; ')}.`;
  return [
    TABLE_START,
    `Last \`npm run bench:all\`: ${results.date.slice(0, 10)}, commit \`${results.commit.slice(0, 7)}\`${results.dirty ? ' (with uncommitted changes)' : ''}, on ${machine.cpuModel} (${machine.cores} cores, ${formatNumber(machine.memoryGiB)} GiB), ${machine.os}, Node ${machine.node}. ${met} of ${results.goals.length} goals met; figures in \`${file}\`. ${comparison}${busyNote}`,
    '',
    '| figure | goal | measured | | bench (1-min load before) |',
    '| --- | --- | --- | --- | --- |',
    ...results.goals.map(row),
    TABLE_END,
  ].join('\n');
}

/**
 * The README with its table replaced (between the markers), or placed at the end of the
 * "## Benchmarks" section when it has none yet.
 */
export function withBenchReadmeTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start >= 0 && end > start) return readme.slice(0, start) + table + readme.slice(end + TABLE_END.length);
  const section = readme.indexOf('\n## Benchmarks');
  if (section < 0) throw new Error('the README has no "## Benchmarks" section to put the bench:all table in');
  const next = readme.indexOf('\n## ', section + 1);
  const at = next < 0 ? readme.length : next;
  return `${readme.slice(0, at).replace(/\n*$/, '')}\n\n${table}\n${next < 0 ? '' : '\n'}${readme.slice(at).replace(/^\n/, '')}`;
}
