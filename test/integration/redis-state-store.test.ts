import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Assignment } from '../../src/shared/message';
import { RigSchema, type RigConfig, type RigInput } from '../../src/shared/rig';
import { namespaceKeys } from '../../src/main/lab/engine/pipeline/redis-state-store';
import { createStateStore, type RemoteChange, type StateStore, type StateStoreOptions } from '../../src/main/lab/engine/pipeline/state-store';
import { resolveValue } from '../../src/main/lab/common/value-resolver';
import { freePort, redisUrl } from '../setup/services';
import { waitFor } from '../setup/wait-for';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const set = (variable: string, value: number): Assignment => ({ variable, spec: { kind: 'absolute', value }, raw: String(value) });
const add = (variable: string, delta: number): Assignment => ({ variable, spec: { kind: 'relative', delta }, raw: `${delta}` });

function rigWith(limiter: RigInput['limiter']): RigConfig {
  return RigSchema.parse({
    name: 'redis-test',
    osc: { port: 9000 },
    limiter,
    variables: [
      { name: 'hue', address: '/hue', kind: 'float', min: 0, max: 1, default: 0.5, out: { min: 0, max: 1, unit: 'V' } },
      { name: 'rotate', address: '/rotate', kind: 'int', min: -10, max: 10, default: 0, out: { min: -1, max: 1, unit: 'V' } },
      { name: 'shape', address: '/shape', kind: 'enum', values: ['ramp', 'sine', 'square', 'noise'], default: 'sine', out: { min: 0, max: 1, unit: 'V' } },
      { name: 'invert', address: '/invert', kind: 'bool', out: { min: 0, max: 1, unit: 'V' } },
      { name: 'speed', address: '/speed', kind: 'float', min: 0, max: 10, default: 1, out: { min: -1, max: 1, unit: 'V' }, cooldownMs: 300 },
    ],
  } satisfies RigInput);
}
const GENEROUS = { userRate: 1000, userBurst: 1000, globalRate: 10_000, globalBurst: 10_000 };

let admin: Redis;
const opened: StateStore[] = [];
const namespaces = new Set<string>();

beforeAll(() => {
  admin = new Redis(redisUrl(), { lazyConnect: false });
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((store) => store.close({ purge: true })));
  // Belt and braces: nothing of this file's namespaces stays in the shared Redis.
  for (const namespace of namespaces) {
    const keys = await admin.keys(`${namespaceKeys(namespace).prefix}*`);
    if (keys.length > 0) await admin.unlink(...keys);
  }
  namespaces.clear();
});
afterAll(async () => {
  await admin.quit();
});

function newNamespace(): string {
  const namespace = `test-${randomUUID()}`;
  namespaces.add(namespace);
  return namespace;
}

async function open(rig: RigConfig, options: Partial<StateStoreOptions> & { namespace: string }): Promise<StateStore> {
  const store = await createStateStore(rig, { redisUrl: redisUrl(), instanceId: randomUUID(), ...options });
  opened.push(store);
  return store;
}

async function keysOf(namespace: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${namespaceKeys(namespace).prefix}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

describe('RedisStateStore against the real Redis', () => {
  it('is the Redis store when a URL is given', async () => {
    const store = await open(rigWith(GENEROUS), { namespace: newNamespace() });
    expect(store.kind).toBe('redis');
    expect(await store.roundTripMs()).toBeGreaterThan(0);
  });

  it('gives each user a burst, then refuses them until a token refills', async () => {
    const store = await open(rigWith({ userRate: 5, userBurst: 3, globalRate: 1000, globalBurst: 1000 }), { namespace: newNamespace() });
    for (let index = 0; index < 3; index++) expect((await store.commit('alice', [set('hue', 0.1 * index)])).ok).toBe(true);
    const refused = await store.commit('alice', [set('hue', 0.9)]);
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.rejection.code).toBe('rate_limited_user');
    expect(refused.rejection.detail).toMatch(/^user "alice" sent messages faster than the per-user limit of 5\/s with bursts of 3; next message accepted in \d+ ms$/);
    expect(refused.limitNs).toBeGreaterThan(0);
    // Someone else still gets through.
    expect((await store.commit('bob', [set('hue', 0.2)])).ok).toBe(true);
    // One token every 200 ms: alice gets through once it is there (a refused commit takes none).
    await waitFor(async () => (await store.commit('alice', [set('hue', 0.3)])).ok, "alice's next token", 5_000, 20);
    expect(store.counters()).toEqual({ fallbacks: 0, redisErrors: 0, lateApplied: 0 });
  });

  it('holds the global cap across two instances sharing one namespace', async () => {
    const namespace = newNamespace();
    const rig = rigWith({ userRate: 1000, userBurst: 1000, globalRate: 40, globalBurst: 20 });
    const stores = [await open(rig, { namespace }), await open(rig, { namespace })];
    let accepted = 0;
    let refusedGlobal = 0;
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < 1000) {
      const batch = await Promise.all(
        Array.from({ length: 16 }, (_unused, index) => (stores[index % 2] as StateStore).commit(`viewer${sent + index}`, [set('hue', (index % 10) / 10)])),
      );
      sent += batch.length;
      for (const result of batch) {
        if (result.ok) accepted++;
        else if (result.rejection.code === 'rate_limited_global') refusedGlobal++;
      }
      await sleep(5);
    }
    const seconds = (performance.now() - started) / 1000;
    expect(refusedGlobal).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThanOrEqual(20);
    expect(accepted).toBeLessThanOrEqual(20 + 40 * seconds + 1);
    for (const store of stores) expect(store.counters().fallbacks).toBe(0);
  });

  it('sends the commits of one event-loop turn in one write, each still answered on its own', async () => {
    const store = await open(rigWith(GENEROUS), { namespace: newNamespace() });
    // The first commit reads Redis TIME; the ones below then go out in the turn they are made.
    expect(await store.commit('warm', [set('hue', 0.1)])).toMatchObject({ ok: true });
    const gathered = vi.spyOn(Socket.prototype, '_writev');
    const single = vi.spyOn(Socket.prototype, '_write');
    try {
      const commits = Promise.all(Array.from({ length: 20 }, (_unused, index) => store.commit(`viewer${index}`, [add('rotate', 1)])));
      await new Promise((resolve) => setImmediate(resolve));
      expect({ gathered: gathered.mock.calls.length, single: single.mock.calls.length }).toEqual({ gathered: 1, single: 0 });
      const results = await commits;
      const versions = results.flatMap((result) => (result.ok ? result.changes.map((change) => change.version) : []));
      expect([...versions].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_unused, index) => index + 1));
    } finally {
      gathered.mockRestore();
      single.mockRestore();
    }
    expect((await store.snapshot())['rotate']).toMatchObject({ value: 10, version: 20 });
  });

  it('sends a burst of commits in one turn in writes of 32, not all held for the last', async () => {
    const store = await open(rigWith(GENEROUS), { namespace: newNamespace() });
    expect(await store.commit('warm', [set('hue', 0.1)])).toMatchObject({ ok: true });
    const gathered = vi.spyOn(Socket.prototype, '_writev');
    const single = vi.spyOn(Socket.prototype, '_write');
    try {
      const commits = Promise.all(Array.from({ length: 100 }, (_unused, index) => store.commit(`viewer${index}`, [set('hue', index / 100)])));
      await new Promise((resolve) => setImmediate(resolve));
      // 32 + 32 + 32 as they fill, the last 4 at the end of the turn.
      expect({ gathered: gathered.mock.calls.length, single: single.mock.calls.length }).toEqual({ gathered: 4, single: 0 });
      expect(gathered.mock.calls.map(([chunks]) => chunks.length)).toEqual([32, 32, 32, 4]);
      expect((await commits).every((result) => result.ok)).toBe(true);
    } finally {
      gathered.mockRestore();
      single.mockRestore();
    }
  });

  it('holds each variable to its cooldown whoever sends', async () => {
    const store = await open(rigWith(GENEROUS), { namespace: newNamespace() });
    expect((await store.commit('alice', [set('speed', 2)])).ok).toBe(true);
    const refused = await store.commit('bob', [set('hue', 0.4), set('speed', 3)]);
    expect(refused).toMatchObject({ ok: false, rejection: { code: 'cooldown' } });
    if (!refused.ok) expect(refused.rejection.detail).toMatch(/^"speed" changed \d+ ms ago and may change at most once every 300 ms; next change possible in \d+ ms$/);
    // hue was refused with the message: unchanged.
    expect((await store.snapshot())['hue']).toEqual({ value: 0.5, version: 0, writer: '' });
    await waitFor(async () => (await store.commit('bob', [set('speed', 3)])).ok, "the end of speed's cooldown", 5_000, 20);
  });

  it('resolves relative values against the state held in Redis, as resolveValue does', async () => {
    const namespace = newNamespace();
    const rig = rigWith(GENEROUS);
    const writer = await open(rig, { namespace });
    expect((await writer.commit('alice', [set('hue', 0.9), set('rotate', 4), set('shape', 1)])).ok).toBe(true);
    // Opened after the write: its own memory knows nothing, so only Redis can supply the current values.
    const reader = await open(rig, { namespace });
    const result = await reader.commit('bob', [add('hue', 0.3), add('rotate', 2.5), add('shape', -3), add('invert', 0.5)]);
    expect(result).toMatchObject({
      ok: true,
      changes: [
        { variable: 'hue', value: 1, version: 2, writer: 'bob' },
        { variable: 'rotate', value: 7, version: 2, writer: 'bob' },
        { variable: 'shape', value: 0, version: 2, writer: 'bob' },
        { variable: 'invert', value: 1, version: 1, writer: 'bob' },
      ],
    });
    if (result.ok) expect(result.storeNs).toBeUndefined();
    expect(await writer.snapshot()).toMatchObject({ hue: { value: 1, version: 2, writer: 'bob' }, rotate: { value: 7 } });
  });

  it('rounds and clamps exactly like resolveValue for awkward values', async () => {
    const rig = rigWith(GENEROUS);
    const store = await open(rig, { namespace: newNamespace() });
    const rotate = rig.variables.find((variable) => variable.name === 'rotate');
    const hue = rig.variables.find((variable) => variable.name === 'hue');
    if (!rotate || !hue) throw new Error('test rig lost its variables');
    const cases: [typeof rotate, number, number][] = [
      [rotate, 0, -2.5],
      [rotate, 0, 2.5],
      [rotate, 3, -0.5],
      [rotate, -3, 0.49999999999999994],
      [rotate, 9, 100],
      [rotate, -9, -Number.MAX_VALUE],
      [hue, 0.1, 0.2],
      [hue, 0.7, 1e-17],
      [hue, 0.3, -0.3],
    ];
    for (const [variable, start, delta] of cases) {
      expect((await store.commit(`setter-${start}-${delta}`, [set(variable.name, start)])).ok).toBe(true);
      const result = await store.commit(`adder-${start}-${delta}`, [add(variable.name, delta)]);
      if (!result.ok) throw new Error(result.rejection.detail);
      const expected = resolveValue(variable, { kind: 'relative', delta }, start);
      expect(Object.is(result.changes[0]?.value, expected), `${variable.name} ${start} + ${delta}: Redis ${result.changes[0]?.value}, resolveValue ${expected}`).toBe(true);
    }
  });

  it('publishes every change with increasing versions to the other instances only', async () => {
    const namespace = newNamespace();
    const rig = rigWith(GENEROUS);
    const sender = await open(rig, { namespace, instanceId: 'instance-a' });
    const receiver = await open(rig, { namespace, instanceId: 'instance-b' });
    const received: RemoteChange[] = [];
    const echoed: RemoteChange[] = [];
    receiver.onDidChange((change) => received.push(change));
    sender.onDidChange((change) => echoed.push(change));
    const before = Date.now();
    for (let index = 1; index <= 5; index++) expect((await sender.commit(`viewer${index}`, [set('hue', index / 10)])).ok).toBe(true);
    expect((await receiver.commit('viewer9', [set('rotate', 1)])).ok).toBe(true);
    await waitFor(() => received.length >= 5 && echoed.length >= 1, 'the five changes and the echo', 5_000, 10);
    expect(received.map((change) => change.version)).toEqual([1, 2, 3, 4, 5]);
    expect(received.map((change) => change.value)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(received.every((change) => change.instanceId === 'instance-a' && change.variable === 'hue')).toBe(true);
    expect(received[4]?.writer).toBe('viewer5');
    // Redis TIME and this process share the machine's clock.
    expect(received[0]?.publishedAtMs).toBeGreaterThan(before - 1000);
    expect(echoed.map((change) => [change.instanceId, change.variable])).toEqual([['instance-b', 'rotate']]);
  });

  it('gives every key a TTL and leaves no key of the namespace after close({ purge: true })', async () => {
    const namespace = newNamespace();
    // Slow refill, so the buckets are still partly empty (and present) when the test looks.
    const slow = { userRate: 0.01, userBurst: 5, globalRate: 0.1, globalBurst: 1000 };
    const store = await createStateStore(rigWith(slow), { redisUrl: redisUrl(), namespace, instanceId: 'a', keyTtlMs: 60_000 });
    for (let index = 0; index < 50; index++) await store.commit(`viewer${index}`, [set('hue', index / 50)]);
    const keys = await keysOf(namespace);
    // The global bucket is a field of the state hash: the hash and one bucket per user.
    expect(keys).toContain(`cvlab:{${namespace}}:state`);
    expect(keys).toContain(`cvlab:{${namespace}}:u:viewer7`);
    expect(keys.length).toBe(51);
    expect(await admin.hexists(`cvlab:{${namespace}}:state`, '@g')).toBe(1);
    for (const key of keys) {
      const ttl = await admin.pttl(key);
      expect(ttl, key).toBeGreaterThan(0);
      expect(ttl, key).toBeLessThanOrEqual(60_000);
    }
    // Redis Cluster hashes only the text between the first '{' and the next '}': one run, one slot.
    for (const key of keys) expect(/^[^{]*\{([^}]*)\}/.exec(key)?.[1], key).toBe(namespace);
    // A key outside the namespace survives the purge.
    const neighbour = `cvlab:{${namespace}-neighbour}:state`;
    await admin.set(neighbour, 'keep', 'PX', 60_000);
    await store.close({ purge: true });
    expect(await keysOf(namespace)).toEqual([]);
    expect(await admin.get(neighbour)).toBe('keep');
    await admin.unlink(neighbour);
  });

  it('lets a bucket expire as soon as it is full again', async () => {
    const namespace = newNamespace();
    const store = await open(rigWith({ userRate: 5, userBurst: 3, globalRate: 1000, globalBurst: 1000 }), { namespace });
    expect((await store.commit('alice', [set('hue', 0.1)])).ok).toBe(true);
    // One token taken at 5/s: full again within 200 ms, and so is its key gone.
    const ttl = await admin.pttl(namespaceKeys(namespace).user('alice'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await waitFor(async () => (await admin.exists(namespaceKeys(namespace).user('alice'))) === 0, "alice's full bucket to expire", 5_000, 20);
  });

  it('falls back to the in-process limiter when Redis is unreachable, and never throws', async () => {
    const closedPort = await freePort();
    const rig = rigWith({ userRate: 1, userBurst: 2, globalRate: 1000, globalBurst: 1000 });
    const store = await createStateStore(rig, { redisUrl: `redis://127.0.0.1:${closedPort}`, namespace: newNamespace(), instanceId: 'lonely' });
    opened.push(store);
    expect(store.kind).toBe('redis');
    const degraded: { degraded: boolean; reason: string }[] = [];
    store.onDidChangeDegraded((state) => degraded.push(state));
    const first = await store.commit('alice', [set('hue', 0.2)]);
    const second = await store.commit('alice', [add('hue', 0.5)]);
    const third = await store.commit('alice', [set('hue', 0.9)]);
    expect(first).toMatchObject({ ok: true, changes: [{ value: 0.2, version: 1 }] });
    expect(second).toMatchObject({ ok: true, changes: [{ value: 0.7, version: 2 }] });
    // The user limit still holds in fallback mode.
    expect(third).toMatchObject({ ok: false, rejection: { code: 'rate_limited_user' } });
    expect(store.counters().fallbacks).toBe(3);
    // Said once, the moment the in-process limiter stood in.
    expect(degraded).toEqual([{ degraded: true, reason: 'Redis is not connected' }]);
    expect(await store.roundTripMs()).toBeUndefined();
    expect((await store.snapshot())['hue']).toEqual({ value: 0.7, version: 2, writer: 'alice' });
  });

  it('goes back to Redis once it answers again, keeping versions increasing', async () => {
    const port = await freePort();
    const namespace = newNamespace();
    const store = await createStateStore(rigWith(GENEROUS), { redisUrl: `redis://127.0.0.1:${port}`, namespace, instanceId: 'patient', connectTimeoutMs: 300 });
    opened.push(store);
    const degraded: boolean[] = [];
    store.onDidChangeDegraded((state) => degraded.push(state.degraded));
    expect(await store.commit('alice', [set('hue', 0.1)])).toMatchObject({ ok: true, changes: [{ version: 1 }] });
    expect(store.counters().fallbacks).toBe(1);
    // Redis "comes back": a TCP relay to the real Redis starts listening on that port.
    const relay = await Relay.listen(port);
    try {
      await untilRedisAnswers(store);
      const result = await store.commit('bob', [add('hue', 0.2)]);
      expect(store.counters().fallbacks).toBe(1);
      expect(result).toMatchObject({ ok: true, changes: [{ version: 2 }] });
      expect(degraded).toEqual([true, false]);
      if (result.ok) expect(result.changes[0]?.value).toBeCloseTo(0.3, 12);
      expect(await keysOf(namespace)).toContain(`cvlab:{${namespace}}:state`);
    } finally {
      await store.close({ purge: true });
      await relay.close();
    }
  });

  it('falls back at once when Redis is slow, and counts the failed command', async () => {
    const port = await freePort();
    const relay = await Relay.listen(port);
    try {
      const store = await createStateStore(rigWith(GENEROUS), { redisUrl: `redis://127.0.0.1:${port}`, namespace: newNamespace(), instanceId: 'hurried', commandTimeoutMs: 100 });
      opened.push(store);
      await untilRedisAnswers(store);
      expect((await store.commit('alice', [set('hue', 0.1)])).ok).toBe(true);
      expect(store.counters()).toEqual({ fallbacks: 0, redisErrors: 0, lateApplied: 0 });
      // Redis stops answering (bytes held back, as on a congested link).
      relay.stall();
      const started = performance.now();
      const result = await store.commit('bob', [add('hue', 0.2)]);
      const waitedMs = performance.now() - started;
      expect(result).toMatchObject({ ok: true, changes: [{ version: 2 }] });
      if (result.ok) expect(result.changes[0]?.value).toBeCloseTo(0.3, 12);
      expect(store.counters()).toEqual({ fallbacks: 1, redisErrors: 1, lateApplied: 0 });
      // Bounded by the command timeout, not by Redis: a generous margin for a busy machine.
      expect(waitedMs).toBeLessThan(2000);
      relay.resume();
    } finally {
      await Promise.all(opened.splice(0).map((store) => store.close({ purge: true })));
      await relay.close();
    }
  });
});

/** Polls until the store's PING round trip succeeds (Redis reconnects in the background). */
async function untilRedisAnswers(store: StateStore): Promise<void> {
  await waitFor(async () => (await store.roundTripMs()) !== undefined, 'Redis to answer a PING again', 5_000);
  expect(await store.roundTripMs()).toBeGreaterThan(0);
}

/** A TCP relay to the real Redis that can hold its traffic back, to play a slow or returning Redis. */
class Relay {
  private readonly sockets = new Set<Socket>();
  private stalled = false;
  private readonly held: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async listen(port: number): Promise<Relay> {
    const target = new URL(redisUrl());
    const server = createServer();
    const relay = new Relay(server);
    server.on('connection', (client) => {
      const upstream = new Socket();
      upstream.connect(Number(target.port || 6379), target.hostname);
      relay.forward(client, upstream);
      relay.forward(upstream, client);
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return relay;
  }

  stall(): void {
    this.stalled = true;
  }

  resume(): void {
    this.stalled = false;
    for (const send of this.held.splice(0)) send();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(from: Socket, to: Socket): void {
    this.sockets.add(from);
    from.on('error', () => from.destroy());
    from.on('close', () => {
      this.sockets.delete(from);
      to.destroy();
    });
    from.on('data', (chunk: Buffer) => {
      const send = (): void => void to.write(chunk);
      if (this.stalled) this.held.push(send);
      else send();
    });
  }
}
