import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { EXIT_CODES, ResourceUnavailableError } from '../../shared/exit-codes';
import { ValidationError } from '../../shared/format-issues';
import { isFanoutSummary, isMultiInstanceSummary, type BotAwaited, type CapacityResult, type RunInfo, type RunOverrides, type RunProgress, type RunSummary, type ThresholdVerdict } from '../../shared/run';
import { METRIC_STAGES, parseDurationMs } from '../../shared/scenario';
import { describeDegradedIntervals } from '../../shared/describe-degraded-intervals';
import { REDIS_URL_EXPECTED, REDIS_URL_PATTERN } from '../../shared/rig';
import { writeJsonFile } from '../lab/files/json-file';
import { loadScenario } from '../lab/files/scenario-file';
import { loadRig } from '../lab/files/rig-file';
import { targetWithFlags } from '../lab/session/bot-target';
import { demoRigPath } from '../lab/files/paths';
import { DEFAULT_WARM_UP_MESSAGES, RunService, RunStoppedBeforeStartError, type RunOutcome } from '../lab/session/run-service';
import { RunStores } from '../lab/session/run-stores';
import { defaultLabDataDir } from '../lab/lab';
import { describeReplay, formatReplayOutcome } from './format-replay';
import { formatAlertNotification } from './format-alert';
import { formatBlackBox, formatBotResources } from './format-black-box';
import { formatChatToCv } from './format-chat-to-cv';
import { openChatToCvProbe, type OpenedChatToCvProbe } from '../lab/open-chat-to-cv-probe';
import { formatNs, formatTable } from './format';
import { formatFanout, formatMultiInstance } from './format-multi';
import { formatComparison, storeOptions, type StoreFlags } from './report';
import { listExitCodes } from './exit-status';
import { onStopRequest } from './on-stop-request';

interface RunCommandOptions extends StoreFlags {
  rig?: string;
  report?: string;
  /** The lab notebook: what changed for this run, and tags to find it again. */
  note?: string;
  tag?: string[];
  baseline?: boolean;
  save: boolean;
  audit?: boolean;
  json?: string;
  duration?: string;
  rate?: string;
  users?: string;
  seed?: string;
  redis?: string;
  bot?: string;
  botWait?: boolean;
  chatPort?: string;
  oscListen?: string;
  forward?: string;
  serial?: string;
}

/** Reads the command line's overrides; each bad one is named. */
export function parseRunOverrides(options: RunCommandOptions): RunOverrides {
  const problems: string[] = [];
  const overrides: { durationMs?: number; rate?: number; users?: number; seed?: number } = {};
  if (options.duration !== undefined) {
    const ms = parseDurationMs(options.duration);
    if (ms === undefined || ms <= 0)
      problems.push(`--duration: expected a duration like 30s, 500ms or 2m, got "${options.duration}"`);
    else overrides.durationMs = ms;
  }
  const number = (
    flag: string,
    text: string | undefined,
    whole: boolean,
    min: number,
    expected: string,
  ): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (
      text.trim() === '' ||
      !Number.isFinite(value) ||
      value < min ||
      (min === 0 && !whole && value === 0) ||
      (whole && !Number.isInteger(value))
    ) {
      problems.push(`--${flag}: expected ${expected}, got "${text}"`);
      return undefined;
    }
    return value;
  };
  const rate = number('rate', options.rate, false, 0, 'a rate above 0 (messages per second)');
  const users = number('users', options.users, true, 1, 'a whole number of at least 1');
  const seed = number('seed', options.seed, true, 0, 'a whole number of 0 or more');
  if (rate !== undefined) overrides.rate = rate;
  if (users !== undefined) overrides.users = users;
  if (seed !== undefined) overrides.seed = seed;
  if (options.redis !== undefined && !REDIS_URL_PATTERN.test(options.redis)) problems.push(`--redis: expected ${REDIS_URL_EXPECTED}, got "${options.redis}"`);
  if (options.databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^/]/.test(options.databaseUrl))
    problems.push(`--database-url: expected a postgres://user@host:port/database URL, got "${options.databaseUrl}"`);
  if (problems.length > 0) throw new ValidationError('command line', problems);
  return overrides;
}

/** A threshold's figure in its own unit, for people. */
export function formatThresholdValue(verdict: ThresholdVerdict, value: number | undefined): string {
  if (value === undefined) return 'no samples';
  switch (verdict.unit) {
    case 'ns':
      return formatNs(value);
    case 'ratio':
      return `${(value * 100).toFixed(value < 0.01 ? 3 : 2)}%`;
    case 'per_second':
      return `${value.toFixed(0)} msg/s`;
    case 'count':
      return String(Math.round(value));
    case 'bytes_per_hour':
      return `${value >= 0 ? '+' : ''}${(value / 1024 / 1024 / 60).toFixed(2)} MiB/min`;
  }
}

/** One line per broken threshold: which, the limit, the figure, by how much. */
export function describeBrokenThreshold(verdict: ThresholdVerdict): string {
  if (verdict.actual === undefined)
    return `threshold ${verdict.key} ${verdict.expression} FAILED: nothing was measured (0 samples)`;
  const ratio =
    verdict.ratio !== undefined && verdict.ratio > 0 && Number.isFinite(verdict.ratio)
      ? ` (${verdict.ratio >= 1 ? `${verdict.ratio.toFixed(1)}×` : `${(verdict.ratio * 100).toFixed(0)}% of`} the limit)`
      : '';
  return `threshold ${verdict.key} ${verdict.expression} FAILED: measured ${formatThresholdValue(verdict, verdict.actual)}, over the limit by ${formatThresholdValue(verdict, verdict.excess)}${ratio}, on ${verdict.samples} samples`;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** The end-of-run report printed on the terminal. */
export function formatSummary(summary: RunSummary): string {
  const out: string[] = [];
  const { run } = summary;
  out.push(
    `run ${run.id}: scenario "${run.scenario}" on rig "${run.rig}" (${run.store} store${summary.pipeline.limiterFallbacks > 0 ? ', DEGRADED' : ''}, seed ${run.seed}) — ${summary.stopReason}${summary.reason ? `: ${summary.reason}` : ''}`,
  );
  out.push(
    `sent ${summary.sent} of ${run.plannedMessages} planned in ${(summary.elapsedMs / 1000).toFixed(2)} s — ${summary.throughput.toFixed(0)} msg/s; ` +
      `accepted ${summary.outcomes.accepted}, rejected ${summary.outcomes.rejected}, failed ${summary.outcomes.failed}, unaccounted ${summary.unaccounted}`,
  );
  out.push(
    `late starts (slip > ${formatNs(summary.slip.toleranceNs)}): ${summary.slip.late} (${(summary.slip.lateRate * 100).toFixed(2)}%)`,
  );
  if (run.replay) out.push(formatReplayOutcome(summary, run.replay));
  out.push('');
  const rows = METRIC_STAGES.flatMap((stage) => {
    const statistics = summary.stages[stage];
    return statistics
      ? [
          [
            stage,
            String(statistics.count),
            formatNs(statistics.p50),
            formatNs(statistics.p95),
            formatNs(statistics.p99),
            formatNs(statistics.p999),
            formatNs(statistics.max),
          ],
        ]
      : [];
  });
  out.push(formatTable(['stage', 'samples', 'p50', 'p95', 'p99', 'p99.9', 'max'], rows));
  const codes = Object.entries(summary.outcomes.byCode).sort((a, b) => b[1] - a[1]);
  if (codes.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['outcome', 'count', 'share'],
        codes.map(([code, count]) => [
          code,
          String(count),
          `${((count / Math.max(1, summary.completed)) * 100).toFixed(2)}%`,
        ]),
      ),
    );
  }
  const resources = summary.resources;
  out.push('');
  const processes = resources.processes ?? 1;
  const cpu =
    processes > 1
      ? `CPU mean ${resources.cpuPercentMean.toFixed(0)}% (max at most ${resources.cpuPercentMax.toFixed(0)}%) of one core, summed over ${processes} processes; worst process: `
      : `CPU mean ${resources.cpuPercentMean.toFixed(0)}% (max ${resources.cpuPercentMax.toFixed(0)}%) of one core; `;
  out.push(
    `${cpu}RSS max ${mib(resources.rssMaxBytes)}; heap max ${mib(resources.heapMaxBytes)}; ` +
      `event-loop delay p99 ${formatNs(resources.eventLoopDelayP99)}, max ${formatNs(resources.eventLoopDelayMax)}`,
  );
  // The bot's own CPU and memory, beside cvlab's.
  if (summary.blackBox?.resources) out.push(...formatBotResources(summary.blackBox.resources));
  if (summary.pipeline.limiterFallbacks > 0 || summary.degradedIntervals?.length)
    out.push(
      `DEGRADED${summary.degradedIntervals?.length ? ` ${describeDegradedIntervals(summary.degradedIntervals)}` : ''}: ${summary.degradedIntervals?.find((interval) => interval.reason)?.reason ?? 'Redis did not answer in time'}; the in-process limiter stood in ${summary.pipeline.limiterFallbacks} times (limits held per process, not across instances)`,
    );
  if (summary.capacity) {
    out.push('');
    // Against a bot, its CPU per step says whether the bot's process ran out of core.
    const botCpu = summary.capacity.steps.some((step) => step.botCpuPercentMax !== undefined);
    out.push(
      formatTable(
        ['rate', 'sent', 'achieved', 'e2e p99', 'slip p99', ...(botCpu ? ['bot CPU max'] : []), 'held'],
        summary.capacity.steps.map((step) => [
          `${step.rate}/s`,
          String(step.sent),
          `${step.achievedPerSecond.toFixed(0)}/s`,
          formatNs(step.e2eP99),
          formatNs(step.slipP99),
          ...(botCpu ? [step.botCpuPercentMax !== undefined ? `${step.botCpuPercentMax.toFixed(0)}%` : '–'] : []),
          step.passed ? 'yes' : 'NO',
        ]),
      ),
    );
    out.push(
      summary.capacity.knee !== undefined
        ? `knee: ${summary.capacity.knee} msg/s held${summary.capacity.brokeAt !== undefined ? `, ${summary.capacity.brokeAt} msg/s broke${whatBroke(summary.capacity)}` : ' (the search reached its maximum rate intact)'}`
        : `knee: none — even ${summary.capacity.brokeAt ?? 'the first'} msg/s broke a threshold${whatBroke(summary.capacity)}`,
    );
  }
  if (summary.leak) {
    const leak = summary.leak;
    out.push(
      `heap after GC (${leak.method}, ${leak.samples} samples): slope ${mib(leak.slopeBytesPerHour)}/h, tolerance ${mib(leak.toleranceBytesPerHour)}/h, R² ${leak.rSquared.toFixed(2)} — ${leak.leaking ? 'LEAK SUSPECTED' : 'no leak'}`,
    );
  }
  if (summary.thresholds.length > 0) {
    out.push('');
    out.push(
      formatTable(
        ['threshold', 'limit', 'measured', 'samples', 'verdict'],
        summary.thresholds.map((verdict) => [
          verdict.key,
          verdict.expression,
          formatThresholdValue(verdict, verdict.actual),
          String(verdict.samples),
          verdict.passed ? 'pass' : 'FAIL',
        ]),
      ),
    );
  }
  const broken = summary.thresholds.filter((verdict) => !verdict.passed);
  if (broken.length > 0 && !summary.capacity) {
    out.push('');
    for (const verdict of broken) out.push(describeBrokenThreshold(verdict));
  }
  out.push('');
  out.push(summary.passed ? 'PASSED' : 'FAILED');
  return out.join('\n');
}

/** Which thresholds the broken step of a capacity search broke, with their figures (a bot's chat → OSC p99 or its CPU). */
function whatBroke(capacity: CapacityResult): string {
  const step = capacity.steps.find((candidate) => candidate.rate === capacity.brokeAt);
  const broken = step?.thresholds.filter((verdict) => !verdict.passed) ?? [];
  return broken.length > 0 ? ` (${broken.map((verdict) => `${verdict.key} ${formatThresholdValue(verdict, verdict.actual)}`).join(', ')})` : '';
}

function progressFields(progress: RunProgress): Record<string, string> {
  return {
    elapsed: `${(progress.elapsedMs / 1000).toFixed(1)}s`,
    planned: `${(progress.plannedDurationMs / 1000).toFixed(0)}s`,
    rate: progress.ratePerSecond.toFixed(0),
    p99: formatNs(progress.e2eP99),
    sent: String(progress.sent),
    late: String(progress.late),
    step: progress.stepRate !== undefined ? ` step ${progress.stepRate}/s` : '',
    degraded: progress.degraded
      ? ` DEGRADED (${progress.limiterFallbacks ?? 0} limiter fallbacks)`
      : progress.degradedIntervals?.length
        ? ` (was DEGRADED ${describeDegradedIntervals(progress.degradedIntervals)})`
        : '',
    cv: progress.chatToCv ? ` | CV edges ${progress.chatToCv.matched} matched, ${progress.chatToCv.missed} missed${progress.chatToCv.problem ? ' (PROBE LOST)' : ''}` : '',
    bot: progress.bot ? ` | bot ${progress.bot.joined ? 'joined' : progress.bot.connected ? 'NOT IN CHANNEL' : 'GONE'}, ${progress.bot.replies} replies` : '',
  };
}

/** `cvlab run <scenario.json>`: one load run with a live progress bar and a summary; exit 1 when a threshold fails. */
export function registerRunCommand(program: Command): void {
  const command = storeOptions(program.command('run'))
    .description(
      'run a load scenario against the pipeline and report latency per stage; exit code 1 when a threshold fails',
    )
    .argument('<scenario>', 'scenario file (resources/scenarios/*.json)')
    .option('--rig <file>', 'rig file (default: the built-in demo rig)')
    .option('--json <file>', 'write the run summary (with histograms) as JSON to this file')
    .option('--duration <time>', 'override the duration, e.g. 30s')
    .option('--rate <msgPerSecond>', 'override the rate (messages per second)')
    .option('--users <count>', 'override the number of simulated viewers')
    .option('--seed <n>', 'override the traffic seed')
    .option('--redis <url>', "use this Redis for the limiter and state (default: the rig's, else in-process memory)")
    .option('--report <file>', 'write the self-contained HTML report of this run at the end')
    .option('--note <text>', 'a note of the lab notebook on this run: what changed ("moved Redis to the NUC")')
    .option('--tag <name>', 'a tag on the note, to find the run again (cvlab runs --tag); repeatable', (tag: string, tags: string[] = []) => [...tags, tag])
    .option('--baseline', 'compare with the baseline of this rig and scenario; exit 1 on a regression')
    .option(
      '--audit',
      'log every outcome to the database (default: on with PostgreSQL, off with the embedded database)',
    )
    .option('--no-save', 'do not save the run (no database is opened)')
    .option('--bot <command>', 'black box: start this chat bot (a shell command) and measure it instead of cvlab\'s pipeline')
    .option('--bot-wait', 'black box: wait for a bot started elsewhere (prints where to point it)')
    .option('--chat-port <port>', 'black box: port of the Twitch-compatible chat endpoint (default 6667; 0: a free one)')
    .option('--osc-listen <host:port>', "black box: where cvlab catches the bot's OSC (default a free port on 127.0.0.1)")
    .option('--forward <host:port>', "black box: forward the bot's OSC unchanged to the real converter")
    .option('--serial <path>', "chat → CV: the probe's serial port (or cvlab probe-emulator's): probe viewers move the rig's test variable and each CV edge is timed")
    .action(async (scenarioPath: string, options: RunCommandOptions) => {
      const overrides = parseRunOverrides(options);
      if (!options.save && (options.report || options.baseline)) {
        throw new ValidationError('command line', ['--report and --baseline need the saved run: leave out --no-save']);
      }
      const [loadedScenario, rig] = await Promise.all([loadScenario(scenarioPath), loadRig(options.rig)]);
      if (loadedScenario.executor.type === 'replay' && (options.rate !== undefined || options.users !== undefined)) {
        throw new ValidationError('command line', [`${options.rate !== undefined ? '--rate' : '--users'}: a replay keeps its recorded pace and viewers; change its "speed" in the scenario (--duration still applies)`]);
      }
      const runRig = options.redis ? { ...rig, redisUrl: options.redis } : rig;
      // The flags are folded into the scenario's target: the session reads one request, whoever hands it in.
      const scenario = { ...loadedScenario, target: targetWithFlags(loadedScenario, options) };
      const stores = options.save
        ? RunStores.choose({ databaseUrl: options.databaseUrl, defaultDatabaseUrl: options.dataDir ? undefined : process.env['DATABASE_URL'], dataDir: options.dataDir })
        : undefined;
      // Every kind of run (one engine, several instances, fan-out, a bot) goes through the one run service.
      const service = new RunService({
        stores: stores ?? null,
        spoolDir: RunStores.spoolDir(options.dataDir),
        chatLogFolder: join(options.dataDir ? dirname(options.dataDir) : defaultLabDataDir(), 'chat'),
        log: (line) => console.error(line),
      });
      service.onDidAwaitBot(announceBot);
      const interactive = Boolean(process.stderr.isTTY);
      let bar: cliProgress.SingleBar | undefined;
      // Lines said during the run go above the progress bar.
      const say = (line: string): void => {
        if (bar) bar.stop();
        console.error(line);
        if (bar) bar.start(100, 0);
      };
      service.onDidAlert((notification) => say(formatAlertNotification(notification, interactive)));
      service.onDidDegrade((notice) =>
        say(
          notice.state === 'degraded'
            ? `${interactive ? '\x1b[33m' : ''}DEGRADED at ${(notice.atMs / 1000).toFixed(1)} s: ${notice.reason ?? 'Redis did not answer in time'}; the in-process limiter stands in (limits now hold per process, not across instances)${interactive ? '\x1b[0m' : ''}`
            : `recovered at ${(notice.atMs / 1000).toFixed(1)} s: ${notice.reason ?? 'Redis answers again'}; limits hold across instances again (${notice.limiterFallbacks} limiter fallbacks while degraded)`,
        ),
      );
      // First Ctrl-C (or SIGTERM, SIGHUP, the parent ending): stop cleanly (in-flight messages
      // finish, summary printed and saved). While the engine waits (a bot's JOIN, subscribers,
      // instances) the wait ends at once and the run is kept as stopped before it started.
      // Second: leave now; what was saved is marked aborted on the next open. Before the run
      // exists at all there is nothing to keep: leave at once. Leaving stops the bot, agents and
      // subscribers (spawnTied).
      let running = false;
      const stopRun = (reason: string): void => {
        console.error(running ? `\nstopping: waiting for messages in flight (${reason}; Ctrl-C again to quit at once)` : `\nstopping (${reason}) before the run began`);
        void service.stop().then((summary) => {
          if (summary !== null) return;
          console.error(`stopped (${reason}) before the run began: nothing was measured`);
          process.exit(EXIT_CODES.failed);
        });
      };
      const stopListening = onStopRequest(stopRun, () => process.exit(EXIT_CODES.failed));
      let info: RunInfo | undefined;
      let probe: OpenedChatToCvProbe | undefined;
      // Stopped while the engine waited: the run is kept as stopped, its summary printed like any other.
      let outcome: RunOutcome | undefined;
      try {
        if (options.serial !== undefined) {
          probe = await openChatToCvProbe(runRig, options.serial);
          console.error(`chat → CV: probe on ${probe.path} (${probe.hello.firmware}, ${probe.hello.adcBits}-bit ADC); arming it and fitting its clock`);
        }
        info = await service.start({
          host: 'cli',
          ...(probe ? { probe: probe.probe } : {}),
          scenario,
          rig: runRig,
          overrides,
          scenarioFile: scenarioPath,
          rigFile: resolve(options.rig ?? demoRigPath()),
          ...(options.audit !== undefined ? { audit: options.audit } : {}),
        });
      } catch (error) {
        if (error instanceof RunStoppedBeforeStartError) outcome = error.outcome;
        else {
          stopListening();
          await probe?.close();
          await service.dispose();
          await stores?.close();
          throw error;
        }
      }
      if (outcome) {
        stopListening();
        await probe?.close();
      } else {
        const finished = service.finished();
        const started = info as RunInfo;
        const joined = started.bot;
        const channel = scenario.target.kind === 'bot' ? (scenario.target.channel ?? 'cvlab') : 'cvlab';
        if (joined) console.error(`the bot joined #${channel} as ${joined.nick ?? '?'} over ${joined.transport === 'tcp' ? 'IRC over TCP' : 'IRC over WebSocket'}`);
        const kind = scenario.multiInstance ? ` on ${scenario.multiInstance.instances} instances` : scenario.fanout ? ` with fan-out to ${scenario.fanout.subscribers} subscribers` : '';
        console.error(
          `cvlab run ${started.id}: "${started.scenario}" on "${started.rig}"${kind}, ${started.plannedMessages} messages over ${(started.plannedDurationMs / 1000).toFixed(1)} s, seed ${started.seed}, ${started.store} store (after a warm-up of ${DEFAULT_WARM_UP_MESSAGES} uncounted messages through a throwaway pipeline)`,
        );
        if (started.replay) console.error(describeReplay(started.replay));

        bar = interactive
          ? new cliProgress.SingleBar(
              {
                format:
                  ' {bar} {percentage}% | {elapsed}/{planned} | {rate} msg/s | e2e p99 {p99} | sent {sent} late {late}{step}{degraded}{cv}{bot}',
                hideCursor: true,
                clearOnComplete: true,
              },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
        bar?.start(
          100,
          0,
          progressFields({
            runId: started.id,
            elapsedMs: 0,
            plannedDurationMs: started.plannedDurationMs,
            fraction: 0,
            sent: 0,
            completed: 0,
            inFlight: 0,
            ratePerSecond: 0,
            e2eP99: 0,
            late: 0,
          }),
        );
        let lastLineMs = 0;
        const progressSubscription = service.onDidRunProgress((progress) => {
          const fields = progressFields(progress);
          if (bar) bar.update(Math.round(progress.fraction * 100), fields);
          else if (progress.elapsedMs - lastLineMs >= 1000) {
            lastLineMs = progress.elapsedMs;
            console.error(
              `${fields['elapsed']}/${fields['planned']}  ${fields['rate']} msg/s  e2e p99 ${fields['p99']}  sent ${fields['sent']}  late ${fields['late']}${fields['step']}${fields['degraded']}${fields['cv']}${fields['bot']}`,
            );
          }
        });

        running = true;
        try {
          outcome = await finished;
        } finally {
          stopListening();
          await probe?.close();
          progressSubscription.dispose();
          bar?.stop();
          bar = undefined;
        }
      }
      if (!outcome) throw new Error('the run ended without a summary');
      const { summary } = outcome;
      const ran: RunInfo = info ?? summary.run;
      console.log(formatSummary(summary));
      if (summary.blackBox) {
        console.log('');
        console.log(formatBlackBox(summary.blackBox));
      }
      if (summary.chatToCv) {
        console.log('');
        console.log(formatChatToCv(summary.chatToCv, summary.stages));
      }
      if (isMultiInstanceSummary(summary)) {
        console.log('');
        console.log(formatMultiInstance(summary));
      } else if (isFanoutSummary(summary)) {
        console.log('');
        console.log(formatFanout(summary));
      }
      if (options.json) {
        await writeJsonFile(options.json, summary);
        console.error(`summary written to ${options.json}`);
      }
      process.exitCode = summary.passed ? EXIT_CODES.passed : EXIT_CODES.failed;
      await service.dispose();
      if (stores) {
        try {
          if (!outcome.saved) {
            // The run is measured; only saving failed (the database is gone, its disk is full):
            // exit 3, not 1, in the cause's own words.
            throw new ResourceUnavailableError(
              `the run's result could not be saved: ${outcome.saveError ?? 'the database did not take it'}. ${outcome.journalPath ? `It is kept in ${outcome.journalPath} and is written the next time cvlab opens this database.` : `It is in the summary above${options.json ? ` and in ${options.json}` : ' (--json keeps it in a file)'}.`}`,
            );
          }
          console.error(`saved as run ${ran.id} (cvlab report ${ran.id} --html report.html)`);
          const reports = stores.reportsFor(runRig);
          if (options.note !== undefined || options.tag) {
            await reports.addNote('run', ran.id, options.note ?? `tagged ${options.tag?.join(', ')}`, options.tag ?? []);
          }
          if (options.report) {
            await writeFile(options.report, await reports.exportHtml(ran.id));
            console.error(`report written to ${options.report}`);
          }
          if (options.baseline) {
            const baseline = await reports.baselineFor(ran.id);
            if (baseline === undefined) {
              console.log(
                `\nno baseline is marked for rig "${ran.rig}" and scenario "${ran.scenario}" yet: mark this run with \`cvlab baseline ${ran.id}\``,
              );
            } else {
              const comparison = await reports.compare(ran.id);
              console.log('');
              console.log(formatComparison(comparison));
              if (comparison.verdict === 'regressed') process.exitCode = EXIT_CODES.failed;
            }
          }
        } finally {
          await stores.close();
        }
      }
    });
  listExitCodes(command, {
    0: 'the run passed: every threshold held (and, with --baseline, no regression)',
    1: 'failed: a threshold broke, --baseline found a regression, the run was stopped before it started (Ctrl-C while it waited for a bot, subscribers or instances), or it was quit at once (a second Ctrl-C)',
    2: 'bad input: a flag, the rig or the scenario file (each bad field is named)',
    3: "unavailable: Redis (the rig's redisUrl, --redis) or PostgreSQL (databaseUrl, --database-url, DATABASE_URL) did not answer, or the run could not be saved to it (a full disk under the embedded database included: the summary is still printed and in --json); the tap port or the chat port is taken; the probe (--serial) did not answer; black box: the bot never joined the chat (what it did and did not do is named)",
  });
}

/** Says where the bot is pointed (and, for --bot-wait, what to set), before waiting for its JOIN. */
function announceBot(awaited: BotAwaited): void {
  const environment = awaited.environment;
  const host = environment['CVLAB_CHAT_HOST'];
  const port = environment['CVLAB_CHAT_PORT'];
  const where = `chat at ${host}:${port} (IRC over TCP, or ws://${host}:${port}), channel #${environment['CVLAB_CHANNEL']}; OSC to ${environment['CVLAB_OSC_HOST']}:${environment['CVLAB_OSC_PORT']}${awaited.forward ? `, forwarded to ${awaited.forward}` : ''}`;
  if (awaited.command !== undefined) {
    console.error(`black box: starting the bot: ${awaited.command}`);
    console.error(`black box: ${where}; waiting for it to join`);
    return;
  }
  console.error(`black box: waiting for a bot to join (${where}). Start it with:`);
  console.error(`  ${Object.entries(environment).map(([name, value]) => `${name}=${/^[\w./:@-]*$/.test(value) ? value : JSON.stringify(value)}`).join(' ')} <your bot>`);
}
