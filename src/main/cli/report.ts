import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ValidationError } from '../../shared/format-issues';
import { NoteTagSchema, RUN_STATUSES, type LabNote, type RunComparison, type RunListEntry, type RunStatus } from '../../shared/report';
import { parseOrThrow } from '../../shared/format-issues';
import { RunStores } from '../lab/session/run-stores';
import { EXIT_CODES } from '../../shared/exit-codes';
import { listExitCodes } from './exit-status';
import { formatTable } from './format';

export interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
}

const time = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const milliseconds = (value: number | null): string => (value === null ? '—' : `${value.toFixed(value < 10 ? 3 : 1)} ms`);

/** Opens the store the flags name, runs `work` with a ReportService, and closes the store. */
async function withService<T>(flags: StoreFlags, work: (service: ReturnType<RunStores['reportsFor']>) => Promise<T>): Promise<T> {
  // The same store `cvlab run` saves to without a rig that names its own: the flag, else DATABASE_URL (unless --data-dir), else the embedded database.
  const stores = RunStores.choose({ databaseUrl: flags.databaseUrl, defaultDatabaseUrl: flags.dataDir ? undefined : process.env['DATABASE_URL'], dataDir: flags.dataDir });
  try {
    return await work(stores.reportsFor());
  } finally {
    await stores.close();
  }
}

/** Adds --data-dir and --database-url, shared by every command that opens the store. */
export function storeOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'embedded database folder (default: $XDG_DATA_HOME/cvlab/db)')
    .option('--database-url <url>', 'PostgreSQL to use instead of the embedded database (default: $DATABASE_URL)');
}

function runTable(runs: readonly RunListEntry[]): string {
  return formatTable(
    ['id', 'status', 'rig', 'scenario', 'started (UTC)', 'intervals', 'e2e p99', 'baseline', 'notes'],
    runs.map((run) => [run.id, run.status, run.rig, run.scenario, time(run.startedAtMs), String(run.intervalCount), milliseconds(run.e2eP99Ms), run.baseline ? 'yes' : '', notesLine(run.notes)]),
  );
}

/** A run's notes on one line: "new firmware [fw-2.1]; cable B [cable-b]". */
function notesLine(notes: readonly LabNote[] | undefined): string {
  return (notes ?? []).map((note) => `${note.text}${note.tags.length ? ` [${note.tags.join(', ')}]` : ''}`).join('; ');
}

/** The comparison for a terminal: verdict, why, and the e2e percentiles side by side. */
export function formatComparison(comparison: RunComparison): string {
  const rows = comparison.rows
    .filter((row) => row.stage === 'e2e' || comparison.rows.every((other) => other.stage !== 'e2e'))
    .map((row) => [
      `${row.stage} ${row.percentile}`,
      milliseconds(row.baselineMs),
      milliseconds(row.candidateMs),
      row.change === null ? '—' : `${row.change >= 0 ? '+' : ''}${(row.change * 100).toFixed(1)}%`,
    ]);
  const notes = [comparison.baseline, comparison.candidate]
    .filter((run) => (run.notes?.length ?? 0) > 0)
    .map((run) => `notes of ${run.id}: ${notesLine(run.notes)}`);
  return [
    `${comparison.candidate.id} vs ${comparison.baseline.id}${comparison.baseline.baseline ? ' (baseline)' : ''}: ${comparison.verdict.toUpperCase()}`,
    ...notes,
    comparison.reason,
    ...(comparison.reading ? [comparison.reading.sentence] : []),
    '',
    formatTable(['percentile', comparison.baseline.id, comparison.candidate.id, 'change'], rows),
  ].join('\n');
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new ValidationError('command line', [`--${flag}: expected a whole number of at least 1, got "${text}"`]);
  return value;
}

/** `cvlab runs`, `cvlab report`, `cvlab baseline`, `cvlab compare`, `cvlab trend`: saved runs and their reports. */
export function registerReportCommands(program: Command): void {
  const noDatabase = { 3: 'unavailable: the database did not answer (--database-url, DATABASE_URL), or the embedded one could not open its folder (a full disk is named)' } as const;
  listExitCodes(
    storeOptions(
    program
      .command('runs')
      .description('list saved runs, newest first')
      .option('--rig <name>', 'only runs of this rig')
      .option('--scenario <name>', 'only runs of this scenario')
      .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
      .option('--limit <n>', 'at most this many runs', '50')
      .option('--tag <name>', 'only runs with a note carrying this tag')
      .option('--text <words>', 'only runs whose notes, scenario, rig or id contain these words')
      .option('--json', 'print JSON instead of a table'),
  ),
    { ...noDatabase, 0: 'the runs were listed (none saved is not an error)', 2: 'bad input: an unknown --status or a malformed --tag' },
  ).action(async (options: StoreFlags & { rig?: string; scenario?: string; status?: string; limit: string; tag?: string; text?: string; json?: boolean }) => {
    if (options.tag !== undefined) parseOrThrow(NoteTagSchema, options.tag, '--tag');
    if (options.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(options.status)) {
      throw new ValidationError('command line', [`--status: expected one of ${RUN_STATUSES.join(', ')}, got "${options.status}"`]);
    }
    const runs = await withService(options, (service) =>
      service.listRuns({
        ...(options.rig ? { rig: options.rig } : {}),
        ...(options.scenario ? { scenario: options.scenario } : {}),
        ...(options.status ? { status: options.status as RunStatus } : {}),
        ...(options.tag ? { tag: options.tag } : {}),
        ...(options.text ? { text: options.text } : {}),
        limit: positiveInteger('limit', options.limit),
      }),
    );
    if (options.json) console.log(JSON.stringify(runs, null, 2));
    else console.log(runs.length ? runTable(runs) : 'No saved runs.');
  });

  listExitCodes(
    storeOptions(
    program
      .command('report')
      .description('write the report of a saved run as HTML, JSON and/or CSV (of the interval series)')
      .argument('<run-id>', 'a run id from `cvlab runs`, or "latest"')
      .option('--html <file>', 'self-contained HTML report (opens offline, prints on A4)')
      .option('--json <file>', 'the report model as JSON')
      .option('--csv <file>', 'the interval series as CSV')
      .option('--compare <run-id>', 'include a comparison with this run (default: the baseline, when one is marked)')
      .option('--no-baseline', 'leave the baseline comparison out of the HTML'),
  ),
    { ...noDatabase, 0: 'the report was printed and written', 2: 'bad input: a flag, or an id that names no saved run (or "latest" with none saved)' },
  ).action(async (runId: string, options: StoreFlags & { html?: string; json?: string; csv?: string; compare?: string; baseline: boolean }) => {
    await withService(options, async (service) => {
      const report = await service.getReport(runId);
      const written: string[] = [];
      if (options.html) {
        const html = await service.exportHtml(report.run.id, { compare: options.compare ? { with: options.compare } : options.baseline ? 'baseline' : 'none' });
        await writeFile(options.html, html);
        written.push(`HTML ${options.html}`);
      }
      if (options.json) {
        await writeFile(options.json, JSON.stringify(report, null, 2) + '\n');
        written.push(`JSON ${options.json}`);
      }
      if (options.csv) {
        await writeFile(options.csv, await service.exportCsv(report.run.id));
        written.push(`CSV ${options.csv}`);
      }
      console.log(runTable([report.run]));
      const stages = report.summary.stages;
      if (stages.length) {
        console.log('');
        console.log(formatTable(['stage', 'samples', 'p50', 'p95', 'p99', 'p99.9', 'max'], stages.map((row) => [row.stage, String(row.count), milliseconds(row.p50), milliseconds(row.p95), milliseconds(row.p99), milliseconds(row.p999), milliseconds(row.max)])));
      }
      if (written.length) console.log(`\nwrote ${written.join(', ')}`);
    });
  });

  listExitCodes(
    storeOptions(
    program.command('baseline').description('mark a saved run as the baseline of its rig and scenario').argument('<run-id>', 'a run id, or "latest"'),
  ),
    { ...noDatabase, 0: 'the run is now the baseline', 2: 'bad input: an id that names no saved run' },
  ).action(async (runId: string, options: StoreFlags) => {
    const marked = await withService(options, (service) => service.markBaseline(runId));
    console.log(`${marked.runId} is now the baseline of rig "${marked.rig}", scenario "${marked.scenario}".`);
  });

  listExitCodes(
    storeOptions(
      program
        .command('note')
        .description('add a note of the lab notebook to a saved run (or a loop-back measurement): what changed, with tags')
        .argument('<id>', 'a run id, "latest", or a loop-back measurement id (loopback-…)')
        .argument('<text>', 'what changed, e.g. "new converter firmware"')
        .option('--tag <name>', 'a tag to find it again (cvlab runs --tag); repeatable', (tag: string, tags: string[] = []) => [...tags, tag]),
    ),
    { ...noDatabase, 0: 'the note was saved', 2: 'bad input: no such run or measurement, an empty note or a malformed tag' },
  ).action(async (id: string, text: string, options: StoreFlags & { tag?: string[] }) => {
    const note = await withService(options, (service) => service.addNote(id.startsWith('loopback-') ? 'loopback' : 'run', id, text, options.tag ?? []));
    console.log(`note added to ${note.kind === 'run' ? 'run' : 'loop-back measurement'} ${note.subject}${note.tags.length ? ` [${note.tags.join(', ')}]` : ''}`);
  });

  listExitCodes(
    storeOptions(
    program
      .command('compare')
      .description('compare a run with its baseline (or with a second run); exits 1 when it regressed')
      .argument('<run-a>', 'the run to judge (an id, or "latest")')
      .argument('[run-b]', 'the run to compare with (default: the baseline of run-a\'s rig and scenario)')
      .option('--html <file>', 'write run-a\'s HTML report with the comparison in it')
      .option('--json', 'print the comparison as JSON'),
  ),
    { ...noDatabase, 0: 'no regression', 1: 'failed: the run regressed against the baseline (or the second run)', 2: 'bad input: an id that names no saved run, or no baseline is marked for its rig and scenario (mark one with cvlab baseline <id>)' },
  ).action(async (runA: string, runB: string | undefined, options: StoreFlags & { html?: string; json?: boolean }) => {
    const comparison = await withService(options, async (service) => {
      const result = await service.compare(runA, runB);
      if (options.html) await writeFile(options.html, await service.exportHtml(result.candidate.id, { compare: { with: result.baseline.id } }));
      return result;
    });
    console.log(options.json ? JSON.stringify(comparison, null, 2) : formatComparison(comparison));
    if (options.html) console.log(`\nwrote HTML ${options.html}`);
    if (comparison.verdict === 'regressed') process.exitCode = EXIT_CODES.failed;
  });

  listExitCodes(
    storeOptions(
    program
      .command('trend')
      .description('a chosen percentile across the last runs of a rig and scenario')
      .requiredOption('--rig <name>', 'the rig')
      .requiredOption('--scenario <name>', 'the scenario')
      .option('--stage <stage>', 'the stage', 'e2e')
      .option('--percentile <p>', 'p50, p90, p95, p99, p999 or max', 'p99')
      .option('--limit <n>', 'the last N runs', '20'),
  ),
    { ...noDatabase, 0: 'the trend was printed (no saved runs is not an error)', 2: 'bad input: a flag, or --rig or --scenario left out' },
  ).action(async (options: StoreFlags & { rig: string; scenario: string; stage: string; percentile: string; limit: string }) => {
    const percentiles = ['p50', 'p90', 'p95', 'p99', 'p999', 'max'] as const;
    const percentile = percentiles.find((candidate) => candidate === options.percentile);
    if (!percentile) throw new ValidationError('command line', [`--percentile: expected one of ${percentiles.join(', ')}, got "${options.percentile}"`]);
    const points = await withService(options, (service) =>
      service.trend({ rig: options.rig, scenario: options.scenario, stage: options.stage, percentile, limit: positiveInteger('limit', options.limit) }),
    );
    console.log(
      points.length
        ? formatTable(
            ['run', 'started (UTC)', 'status', `${options.stage} ${percentile}`, 'samples', 'baseline'],
            points.map((point) => [point.runId, time(point.startedAtMs), point.status, milliseconds(point.valueMs), String(point.samples), point.baseline ? 'yes' : '']),
          )
        : `No saved runs of rig "${options.rig}" and scenario "${options.scenario}".`,
    );
  });
}
