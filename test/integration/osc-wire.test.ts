import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBuffer, type OscPacketOutput } from 'osc-min';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorChild } from '../../src/main/lab/loopback/emulator-child';
import { cvlab } from '../setup/cvlab-run';
import { freePort, redisUrl } from '../setup/services';

// The converter on the bench is hardware with firmware of its own: whatever cvlab sends it must
// be OSC for the rig's own addresses. A converter stand-in keeps every datagram it is sent, and
// an OSC decoder cvlab does not encode with (osc-min) reads each one.

let folder: string;
let rigPath: string;
let rigAddresses: Set<string>;
let converter: Socket;
const received: Buffer[] = [];
/** Where the stand-in passes datagrams on (the probe emulator during the loop-back test). */
let forwardTo: number | undefined;

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cvlab-wire-'));
  converter = createSocket('udp4');
  converter.on('message', (datagram) => {
    received.push(datagram);
    if (forwardTo !== undefined) converter.send(datagram, forwardTo, '127.0.0.1');
  });
  await new Promise<void>((resolve) => converter.bind(0, '127.0.0.1', resolve));
  const demo = JSON.parse(await readFile('resources/rigs/demo.json', 'utf8')) as { variables: { address: string }[] };
  rigAddresses = new Set(demo.variables.map((variable) => variable.address));
  rigPath = join(folder, 'rig.json');
  await writeFile(rigPath, JSON.stringify({ ...demo, osc: { host: '127.0.0.1', port: converter.address().port, tapPort: await freePort() } }));
});
afterAll(async () => {
  converter.close();
  await rm(folder, { recursive: true, force: true });
});

/** Every OSC message in a datagram, or the decoder's complaint. */
function decode(datagram: Buffer): { addresses: string[] } | { malformed: string } {
  let packet: OscPacketOutput;
  try {
    packet = fromBuffer(datagram);
  } catch (error) {
    return { malformed: `${datagram.length} bytes (${datagram.subarray(0, 16).toString('hex')}): ${(error as Error).message}` };
  }
  const addresses: string[] = [];
  const walk = (element: OscPacketOutput): void => {
    if (element.oscType === 'bundle') element.elements.forEach(walk);
    else addresses.push(element.address);
  };
  walk(packet);
  return { addresses };
}

/** The datagrams received since `from`, decoded: each must be OSC for the rig's addresses. */
function expectOnlyRigOsc(from: number): number {
  const datagrams = received.slice(from);
  const malformed = datagrams.map(decode).flatMap((result) => ('malformed' in result ? [result.malformed] : []));
  expect(malformed).toEqual([]);
  const foreign = datagrams.flatMap((datagram) => {
    const result = decode(datagram);
    return 'addresses' in result ? result.addresses.filter((address) => !rigAddresses.has(address)) : [];
  });
  expect(foreign).toEqual([]);
  return datagrams.length;
}

describe('the wire to the converter carries nothing but OSC', () => {
  it('cvlab send, with the memory store and with Redis', async () => {
    const from = received.length;
    const single = await cvlab(['send', '--rig', rigPath, 'hue=0.4']);
    expect(single.code, single.stderr).toBe(0);
    const bundle = await cvlab(['send', '--rig', rigPath, '--redis', redisUrl(), '--user', 'wire-test', 'hue=0.2 sat=50%']);
    expect(bundle.code, bundle.stderr).toBe(0);
    const rejected = await cvlab(['send', '--rig', rigPath, 'hue=NaN']);
    expect(rejected.code).toBe(2);
    // One message and one bundle: nothing else, not even an empty "is anything there" datagram.
    expect(expectOnlyRigOsc(from)).toBe(2);
  });

  it('cvlab run, warm-up included', async () => {
    const from = received.length;
    const run = await cvlab(['run', 'resources/scenarios/burst.json', '--rig', rigPath, '--duration', '1s', '--rate', '300', '--no-save']);
    expect([0, 1], run.stderr).toContain(run.code);
    expect(run.stderr).toMatch(/after a warm-up of \d+ uncounted messages/);
    const summary = /accepted (\d+)/.exec(run.stdout);
    expect(summary, run.stdout).not.toBeNull();
    const count = expectOnlyRigOsc(from);
    // Every accepted message reached the converter once; the warm-up's traffic went elsewhere.
    expect(count).toBe(Number(summary?.[1]));
  });

  it('cvlab loopback, through the stand-in to the probe emulator', async () => {
    const emulatorPort = await freePort();
    const emulator = await EmulatorChild.start({ oscPort: emulatorPort, address: '/lzx/proc/invert', link: join(folder, 'probe'), delayMs: 1 });
    forwardTo = emulatorPort;
    const from = received.length;
    try {
      const loopback = await cvlab(['loopback', '--serial', emulator.hostPath, '--rig', rigPath, '--edges', '10', '--rate', '20', '--no-save']);
      expect(loopback.stdout, loopback.stderr).toMatch(/edges: 10 sent/);
    } finally {
      forwardTo = undefined;
      await emulator.close();
    }
    // The ten edges, and the level the square wave starts from.
    expect(expectOnlyRigOsc(from)).toBeGreaterThanOrEqual(10);
  });
});
