import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '../../src/shared/exit-codes';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import type { ScenarioInput } from '../../src/shared/scenario';
import { createBlackBoxPipeline, type BlackBoxOptions, type BlackBoxPipeline } from '../../src/main/lab/engine/blackbox/black-box-pipeline';
import { RunController } from '../../src/main/lab/run/run-controller';
import { monotonicNs } from '../../src/main/lab/common/monotonic-clock';

let folder: string;
let rig: RigConfig;
let rigPath: string;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-blackbox-'));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as Record<string, unknown>;
  // A generous limiter: every valid message should move the synth, so silence means a fault.
  const input = {
    ...demo,
    limiter: { userRate: 1000, userBurst: 1000, globalRate: 100_000, globalBurst: 10_000 },
    variables: (demo['variables'] as Record<string, unknown>[]).map((variable) => ({ ...variable, cooldownMs: 0 })),
  };
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify(input));
  rig = RigSchema.parse(input);
});
afterAll(() => rm(folder, { recursive: true, force: true }));

const scenario = (rate: number, duration: string): ScenarioInput => ({
  name: 'black-box-test',
  executor: { type: 'constant-arrival-rate', rate, duration },
  traffic: { users: 50, mix: { valid: 70, multi: 10, bad_value: 10, unknown_variable: 10 }, distinctValues: true },
  seed: 5,
});

/** A run against a bot, through the load engine's pipeline-factory seam. */
async function runAgainstBot(blackBox: BlackBoxOptions, input: ScenarioInput) {
  let pipeline: BlackBoxPipeline | undefined;
  const controller = new RunController({
    warmUpMessages: 0,
    createPipeline: async (runRig, options) => {
      pipeline = await createBlackBoxPipeline(runRig, { ...options, blackBox });
      return pipeline;
    },
  });
  await controller.start({ scenario: input, rig });
  const summary = await controller.finished();
  return { summary, final: pipeline?.blackBox() };
}

describe('black-box mode against the tmi.js reference bot', () => {
  it('matches every OSC message of the bot to the chat line that caused it', async () => {
    const { summary, final } = await runAgainstBot({ chatPort: 0, command: 'node examples/tmi-bot/bot.js', rigPath, windowMs: 5000, joinTimeoutMs: 20_000 }, scenario(100, '2s'));
    const blackBox = summary?.blackBox;
    expect(summary?.unaccounted).toBe(0);
    expect(blackBox?.chatSent).toBe(summary?.sent);
    expect(blackBox?.bot.transport).toBe('websocket');
    // Every line is accounted for: matched, or silent with our model rejecting it too.
    expect((blackBox?.matched ?? 0) + (blackBox?.missing.rejectedByModel ?? 0) + (blackBox?.missing.acceptedButSilent ?? 0)).toBe(summary?.sent);
    expect(blackBox?.missing.acceptedButSilent).toBe(0);
    expect(blackBox?.unmatchedOsc).toBe(0);
    expect(blackBox?.matchedByValue).toBeGreaterThan(0);
    expect(blackBox?.missing.rejectedByModel).toBe(summary?.outcomes.rejected);
    expect(summary?.stages.chatToOsc?.count).toBe(blackBox?.matched);
    expect(summary?.outcomes.accepted).toBe(blackBox?.matched);
    expect(blackBox?.latency.chatToOsc?.count).toBe(blackBox?.matched);
    // The bot's own report, after it was stopped, reaches the summary.
    expect(summary?.blackBox?.bot).toEqual(final?.bot);
    expect(final?.bot.version).toMatch(/^cvlab tmi-bot \d+\.\d+\.\d+ \(tmi\.js 1\.8/);
    expect(final?.bot).toMatchObject({ command: 'node examples/tmi-bot/bot.js', exitCode: 0, signal: null, exitedDuringRun: false });
    expect(final?.bot.stdoutTail).toContain('joined #cvlab');
  });

  it('counts chat → OSC from the due time the load engine gives (dueAtNs), so queueing counts', async () => {
    const pipeline = await createBlackBoxPipeline(rig, { namespace: 'due', blackBox: { chatPort: 0, command: 'node examples/tmi-bot/bot.js', rigPath, windowMs: 5000, joinTimeoutMs: 20_000 } });
    try {
      const outcome = await pipeline.process({ user: 'late-viewer', text: 'hue=0.3125', dueAtNs: monotonicNs() - 50e6 });
      expect(outcome.status).toBe('accepted');
      expect(outcome.timings.chatToOsc).toBeGreaterThanOrEqual(50e6);
    } finally {
      await pipeline.close();
    }
  });

  it('fails plainly, as a service that did not answer, when the bot never connects', async () => {
    const attempt = createBlackBoxPipeline(rig, { namespace: 'never', blackBox: { chatPort: 0, command: `node -e "setInterval(() => {}, 1000)"`, joinTimeoutMs: 1500 } });
    await expect(attempt).rejects.toBeInstanceOf(ServiceUnreachableError);
    await expect(attempt).rejects.toThrow(/the bot never connected to the chat endpoint within 1\.5 s/);
  });

  it('says so at once when the bot exits before joining, with its last words', async () => {
    const attempt = createBlackBoxPipeline(rig, { namespace: 'early', blackBox: { chatPort: 0, command: `node -e "console.error('no oauth token'); process.exit(4)"`, joinTimeoutMs: 20_000 } });
    await expect(attempt).rejects.toThrow(/the bot exited \(exit code 4\) before it joined; its last words: no oauth token/);
  });

  it('keeps the partial result and the exit of a bot that crashes mid-run', async () => {
    // A bare IRC-over-TCP bot that joins, reads 30 viewer lines, then dies.
    const botPath = join(folder, 'crashing-bot.mjs');
    await writeFile(
      botPath,
      `import { connect } from 'node:net';
const socket = connect(Number(process.env.CVLAB_CHAT_PORT), process.env.CVLAB_CHAT_HOST);
let seen = 0;
socket.setEncoding('utf8');
socket.write('NICK crashbot\\r\\nJOIN #' + process.env.CVLAB_CHANNEL + '\\r\\n');
socket.on('data', (chunk) => {
  seen += chunk.split('PRIVMSG').length - 1;
  if (seen >= 30) process.exit(7);
});
`,
    );
    // Nobody stops the run: the bot leaving ends it, and the figures so far are kept.
    const { summary } = await runAgainstBot({ chatPort: 0, command: `node ${botPath}`, windowMs: 300 }, scenario(50, '20s'));
    expect(summary?.stopReason).toBe('failed');
    expect(summary?.reason).toBe('the bot exited during the run (exit code 7)');
    expect(summary?.passed).toBe(false);
    expect(summary?.sent).toBeLessThan(1000);
    expect(summary?.unaccounted).toBe(0);
    const final = summary?.blackBox;
    expect(final?.bot).toMatchObject({ exitCode: 7, exitedDuringRun: true, transport: 'tcp', nick: 'crashbot' });
    expect(final?.chatSent).toBeGreaterThanOrEqual(30);
  });
});
