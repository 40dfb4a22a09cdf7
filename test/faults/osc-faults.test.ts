// OSC target faults: a host name that does not resolve fails at start in plain words naming
// osc.host; a target with nothing listening is said at start and the run goes on; a host name is
// looked up once, never per datagram.
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceUnreachableError } from '../../src/shared/exit-codes';
import { ValidationError } from '../../src/shared/format-issues';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import { createPipeline } from '../../src/main/lab/engine/pipeline/chat-pipeline';
import { OscOutput } from '../../src/main/lab/engine/pipeline/osc-output';
import type { LabPipeline } from '../../src/main/lab/engine/pipeline/pipeline-types';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { freePort } from '../setup/services';
import { waitFor } from '../setup/wait-for';

async function rigTo(host: string, port: number): Promise<RigConfig> {
  const demo = await loadRig();
  const { tapPort: _tapPort, ...osc } = demo.osc;
  return RigSchema.parse({
    ...demo,
    osc: { ...osc, host, port },
    limiter: { userRate: 1e6, userBurst: 1e6, globalRate: 1e6, globalBurst: 1e6 },
    variables: demo.variables.map((variable) => ({ ...variable, cooldownMs: 0 })),
  });
}

/** A converter stand-in that counts the OSC datagrams it receives (the empty start-up probe aside). */
async function listener(): Promise<{ socket: Socket; port: number; received: () => number }> {
  const socket = createSocket('udp4');
  let count = 0;
  socket.on('message', (datagram) => {
    if (datagram.length > 0) count++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return { socket, port: socket.address().port, received: () => count };
}

const until = (condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> => waitFor(condition, what, timeoutMs, 20);

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((thing) => thing.close()));
});

describe('OSC target faults', () => {
  it('refuses a host name that does not resolve, naming osc.host, before opening anything', async () => {
    // .invalid never resolves (RFC 2606); without a name server the lookup fails as unreachable instead.
    const rig = await rigTo('cvlab-no-such-converter.invalid', 9000);
    const error: unknown = await createPipeline(rig, { namespace: 'osc-fault-dns', redisUrl: null, tap: false }).then(
      (pipeline) => {
        opened.push(pipeline);
        return undefined;
      },
      (failure: unknown) => failure,
    );
    expect(error instanceof ValidationError || error instanceof ServiceUnreachableError, String(error)).toBe(true);
    expect(String((error as Error).message)).toContain('osc.host');
    expect(String((error as Error).message)).toContain('cvlab-no-such-converter.invalid');
  });

  it('says at start that nothing listens on the target, and the run goes on', async () => {
    const port = await freePort();
    const pipeline: LabPipeline = await createPipeline(await rigTo('127.0.0.1', port), { namespace: 'osc-fault-deaf', redisUrl: null, tap: false });
    opened.push(pipeline);
    expect(pipeline.warnings()).toEqual([
      { code: 'osc_no_listener', detail: `nothing listens on 127.0.0.1:${port} — is the converter off or unplugged?` },
    ]);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, index) => pipeline.process({ user: `viewer${index}`, text: 'hue=0.4' })));
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array.from({ length: 50 }, () => 'accepted'));
    expect(pipeline.counters().failures).toBe(0);
    // The kernel's "port unreachable" answers are counted, not failures of the pipeline. (Back to
    // back, a send takes the previous datagram's error itself; one message at a time they show.)
    // Only one send in 64 carries a callback that can hear the error, and the kernel rate-limits
    // its ICMP answers, so keep going, one message at a time, until one is counted (up to 20 samples).
    for (let attempt = 0; attempt < 64 * 20 && (pipeline.counters().oscTargetAbsent ?? 0) === 0; attempt++) {
      await pipeline.process({ user: 'late', text: 'hue=0.5' });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(pipeline.counters().oscTargetAbsent).toBeGreaterThan(0);
    expect(pipeline.counters().failures).toBe(0);
  });

  it('has no warning when the converter listens', async () => {
    const converter = await listener();
    opened.push(converter.socket);
    const pipeline = await createPipeline(await rigTo('127.0.0.1', converter.port), { namespace: 'osc-fault-ok', redisUrl: null, tap: false });
    opened.push(pipeline);
    expect(pipeline.warnings()).toEqual([]);
  });

  it('resolves a host name once: every datagram goes to the address found at start', async () => {
    const converter = await listener();
    opened.push(converter.socket);
    const rig = await rigTo('localhost', converter.port);
    const output = await OscOutput.open(rig);
    opened.push(output);
    expect(output.target.host).toBe('localhost');
    expect(isIP(output.target.address)).toBe(4);
    const pipeline = await createPipeline(rig, { namespace: 'osc-fault-name', redisUrl: null, tap: false });
    opened.push(pipeline);
    let accepted = 0;
    const count = (outcome: { status: string }): void => {
      if (outcome.status === 'accepted') accepted++;
    };
    // In rounds the socket buffers hold on a busy machine: a lost datagram would be the test's, not the pipeline's.
    for (let round = 0; round < 20; round++) {
      for (let index = 0; index < 25; index++) pipeline.processWith({ user: `viewer${index}`, text: `hue=${(round * 25 + index) / 500}` }, count);
      await until(() => converter.received() === (round + 1) * 25, `round ${round + 1} at the converter`);
    }
    expect(accepted).toBe(500);
    expect(converter.received()).toBe(500);
  });
});
