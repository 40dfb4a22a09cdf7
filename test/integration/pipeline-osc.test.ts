import { createSocket, type Socket } from 'node:dgram';
import { decode } from 'node-osc';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RigSchema, type RigConfig } from '../../src/shared/rig';
import { createPipeline } from '../../src/main/lab/engine/pipeline/chat-pipeline';
import type { ChatPipeline, LabPipeline } from '../../src/main/lab/engine/pipeline/pipeline-types';
import { loadRig } from '../../src/main/lab/files/rig-file';
import { freePort, redisUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

interface DecodedMessage {
  oscType: 'message';
  address: string;
  args: { value: number | string }[];
}
interface DecodedBundle {
  oscType: 'bundle';
  elements: DecodedMessage[];
}

/** A converter stand-in: a real UDP socket that keeps every datagram it receives. */
async function listenUdp(port: number): Promise<{ socket: Socket; next: () => Promise<Buffer> }> {
  const socket = createSocket('udp4');
  const queue: Buffer[] = [];
  const waiters: ((datagram: Buffer) => void)[] = [];
  socket.on('message', (datagram) => {
    // The pipeline's start-up probe is an empty datagram; a converter ignores it.
    if (datagram.length === 0) return;
    const waiter = waiters.shift();
    if (waiter) waiter(datagram);
    else queue.push(datagram);
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', () => resolve()));
  const next = (): Promise<Buffer> => {
    const queued = queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram within 2 s')), 2000);
      waiters.push((datagram) => {
        clearTimeout(timer);
        resolve(datagram);
      });
    });
  };
  return { socket, next };
}

/** The first argument's type tag as it is on the wire. */
function typeTagOf(datagram: Buffer, offset = 0): string {
  const addressEnd = datagram.indexOf(0, offset);
  const tagsStart = offset + Math.ceil((addressEnd - offset + 1) / 4) * 4;
  return datagram.toString('ascii', tagsStart, datagram.indexOf(0, tagsStart));
}

describe.each([
  ['memory store', null],
  ['Redis store', 'redis'],
] as const)('pipeline over real UDP with the %s', (_label, storeKind) => {
  let rig: RigConfig;
  let converter: Awaited<ReturnType<typeof listenUdp>>;
  let pipeline: ChatPipeline;

  beforeEach(async () => {
    const demo = await loadRig();
    const port = await freePort();
    rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port } });
    converter = await listenUdp(port);
    pipeline = await createPipeline(rig, {
      namespace: `test-osc-${process.pid}-${Date.now()}`,
      redisUrl: storeKind === 'redis' ? redisUrl() : null,
    });
  });

  afterEach(async () => {
    await pipeline.close();
    converter.socket.close();
  });

  it('sends one message whose bytes decode to the address, type tag and scaled value', async () => {
    const outcome = await pipeline.process({ user: 'alice', text: 'zoom=0.5' });
    expect(outcome.status).toBe('accepted');
    const datagram = await converter.next();
    expect(typeTagOf(datagram)).toBe(',f');
    const decoded = decode(datagram) as DecodedMessage;
    expect(decoded.oscType).toBe('message');
    expect(decoded.address).toBe('/lzx/dsg/zoom');
    // zoom: -1..1 mapped to -1..1 V.
    expect(decoded.args[0]?.value).toBeCloseTo(0.5, 6);
  });

  it('processWith hands over the outcome once, at once with the memory store, and the same datagram goes out', async () => {
    const seen: { status: string; version: number | undefined; packetAddress: string | undefined }[] = [];
    let returned = false;
    let doneBeforeReturn = false;
    await new Promise<void>((resolve) => {
      (pipeline as LabPipeline).processWith({ user: 'dave', text: 'hue=0.25' }, (outcome) => {
        doneBeforeReturn = !returned;
        // Read now: the memory path reuses the outcome for the next message.
        seen.push({
          status: outcome.status,
          version: outcome.status === 'accepted' ? outcome.changes[0]?.version : undefined,
          packetAddress: outcome.status === 'accepted' ? outcome.packet.messages[0]?.address : undefined,
        });
        resolve();
      });
      returned = true;
    });
    expect(seen).toEqual([{ status: 'accepted', version: 1, packetAddress: '/lzx/colorizer/hue' }]);
    expect(doneBeforeReturn).toBe(storeKind === null);
    const decoded = decode(await converter.next()) as DecodedMessage;
    expect(decoded.address).toBe('/lzx/colorizer/hue');
    expect(decoded.args[0]?.value).toBeCloseTo(0.25, 6);
  });

  it('scales to the variable output range (speed 0..10 → ±1 V)', async () => {
    await pipeline.process({ user: 'bob', text: '!set speed 7.5' });
    const decoded = decode(await converter.next()) as DecodedMessage;
    expect(decoded.address).toBe('/lzx/ramp/speed');
    expect(decoded.args[0]?.value).toBeCloseTo(0.5, 6);
  });

  it('sends a multi-assignment message as one bundle', async () => {
    const outcome = await pipeline.process({ user: 'carol', text: 'hue=0.4 sat=80% shape=sine' });
    expect(outcome.status).toBe('accepted');
    const decoded = decode(await converter.next()) as DecodedBundle;
    expect(decoded.oscType).toBe('bundle');
    expect(decoded.elements.map((element) => element.address)).toEqual([
      '/lzx/colorizer/hue',
      '/lzx/colorizer/saturation',
      '/lzx/ramp/shape',
    ]);
    const values = decoded.elements.map((element) => element.args[0]?.value as number);
    expect(values[0]).toBeCloseTo(0.4, 6);
    expect(values[1]).toBeCloseTo(0.8, 6);
    expect(values[2]).toBeCloseTo(2 / 3, 6); // sine is index 2 of 4 → 2/3 of 0..1 V
  });

  it('sends nothing for a rejected message and names the code', async () => {
    const outcome = await pipeline.process({ user: 'dave', text: 'hue=NaN' });
    expect(outcome.status).toBe('rejected');
    if (outcome.status === 'rejected') expect(outcome.rejection.code).toBe('bad_value');
    await pipeline.process({ user: 'dave', text: 'bright=1' });
    const decoded = decode(await converter.next()) as DecodedMessage;
    expect(decoded.address).toBe('/lzx/proc/brightness');
  });

  it('times every stage and counts end-to-end from the due time', async () => {
    const dueNs = process.hrtime.bigint() - 5_000_000n; // due 5 ms ago: queueing delay counts
    const outcome = await pipeline.process({ user: 'erin', text: 'hue=0.1', dueNs });
    expect(outcome.status).toBe('accepted');
    const { timings } = outcome;
    for (const stage of ['validate', 'limit', 'encode', 'send'] as const) expect(timings[stage]).toBeGreaterThan(0);
    expect(timings.e2e).toBeGreaterThanOrEqual(5_000_000);
    await converter.next();
  });
});

describe('OSC tap', () => {
  it('sees each datagram on the wire and reports due → arrival', async () => {
    const demo = await loadRig();
    const [port, tapPort] = [await freePort(), await freePort()];
    const rig = RigSchema.parse({ ...demo, osc: { host: '127.0.0.1', port, tapPort } });
    const converter = await listenUdp(port);
    const pipeline = await createPipeline(rig, { namespace: 'test-tap', redisUrl: null });
    const arrivals: number[] = [];
    pipeline.onDidTap((ns) => arrivals.push(ns));
    const outcomes = await Promise.all(
      ['hue=0.1', 'sat=0.2', 'bright=0.3'].map((text, index) => pipeline.process({ user: `u${index}`, text })),
    );
    for (let index = 0; index < 3; index++) await converter.next();
    await waitFor(() => arrivals.length >= 3, 'three datagrams on the tap', 5_000, 10);
    expect(arrivals).toHaveLength(3);
    outcomes.forEach((outcome, index) => expect(arrivals[index]).toBeGreaterThanOrEqual(outcome.timings.e2e! - outcome.timings.send!));
    expect(pipeline.counters().tapMatched).toBe(3);
    expect(pipeline.counters().tapUnmatched).toBe(0);
    await pipeline.close();
    converter.socket.close();
  });
});
